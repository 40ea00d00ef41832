#!/usr/bin/env python3
"""Overhead of OUR profiler: plain vs `python -m scalene run --cpu-only` vs full mode.

    python3.11 bench/overhead.py [--runs 5] [--pyperformance] [--programs a,b] [--peers LIST]

Runs every program plain and under each configuration, alternating
(plain, ours-cpu, ours-full, plain, ...), and reports the median whole-process
slowdown per program and over programs (see harness.py for the protocol).
Our profiler runs as `<python> -m scalene run [--cpu-only] -o <tmp>.json prog.py`
with cwd = the repository root, using the interpreter of .venvs/bench-plain
(build the engine first: `make PYTHON=.venvs/bench-plain/bin/python`, or with
the pyenv python3.11 the venv is based on: same ABI).

If `scalene._engine` does not import, our configurations are skipped with a
message and the peers (--peers, default when ours is skipped:
scalene-cpu,scalene-full,pyspy,cprofile) are measured instead, so that the run
is still useful.  Ground-truth accuracy is reported too, for ours and any peer.
"""
import argparse
import sys

import harness


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.common_args(ap)
    ap.add_argument("--peers", default=None,
                    help=f"comma-separated peers to measure too ('all' = {','.join(harness.PEERS)})")
    ap.add_argument("--no-ours", action="store_true", help="do not run our profiler")
    a = ap.parse_args()

    programs = harness.prepare_run(a)
    if programs is None:
        return
    names = ["plain"] + ([] if a.no_ours else list(harness.OURS))
    configs, skipped = harness.prepare_configs(names)
    peers = a.peers
    if peers is None and not any(c.group == "ours" for c in configs):
        peers = "scalene-cpu,scalene-full,pyspy,cprofile"
        harness.log(f"ours is not available: measuring the peers instead ({peers})")
    if peers:
        plist = harness.PEERS if peers == "all" else [p for p in peers.split(",") if p]
        more, sk = harness.prepare_configs(plist)
        configs += more
        skipped.update(sk)
    if any(p.name == "gt_julia" for p in programs) and any(c.level == "line" for c in configs):
        more, sk = harness.prepare_configs(["reference"])
        configs += more
    results = harness.run_protocol(programs, configs, a.runs, keep=a.keep, max_slowdown=a.max_slowdown)
    full = not a.programs
    text, path = harness.save("overhead", harness.command_line(), results, programs, configs, skipped, a.runs,
                              stem=None if full else "overhead-partial")
    print(text)
    harness.log(f"written {path} and {path.with_suffix('.json')}")
    if a.update_readme and not full:
        harness.update_readme("overhead-partial", text)   # only if the README has that block
    elif a.update_readme:
        harness.update_readme("overhead", text)


if __name__ == "__main__":
    sys.exit(main())
