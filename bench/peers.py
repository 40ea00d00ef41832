#!/usr/bin/env python3
"""Peers table: slowdown and ground-truth accuracy of other profilers (and ours).

    python3.11 bench/peers.py [--runs 5] [--configs LIST] [--pyperformance] [--update-readme]

Each peer is installed from PyPI into its own venv, .venvs/bench-<name>,
created on demand: cProfile (stdlib), Scalene (current release, CPU-only and
full), py-spy (100 Hz, raw output), pyinstrument, yappi (CPU clock, via
wrappers/yappi_run.py), memray, line_profiler (ground-truth programs only, on a
copy with `@profile` on the hot functions).  Our own profiler's rows are
included automatically once `scalene._engine` imports; until then they read
"pending: engine not built".  Same alternating protocol as overhead.py.
"""
import argparse
import sys

import harness


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    harness.common_args(ap)
    ap.add_argument("--configs", default="",
                    help=f"comma-separated subset of: {','.join(harness.OURS + harness.PEERS)}")
    a = ap.parse_args()

    programs = harness.prepare_run(a)
    if programs is None:
        return
    wanted = [x for x in a.configs.split(",") if x] or harness.OURS + harness.PEERS
    names = ["plain"] + wanted
    if any(p.name == "gt_julia" for p in programs):
        names.append("reference")
    configs, skipped = harness.prepare_configs(names)
    results = harness.run_protocol(programs, configs, a.runs, keep=a.keep, max_slowdown=a.max_slowdown)
    full = not a.programs and not a.configs
    text, path = harness.save("peers", harness.command_line(), results, programs, configs, skipped, a.runs,
                              stem=None if full else "peers-partial")
    print(text)
    harness.log(f"written {path} and {path.with_suffix('.json')}")
    if a.update_readme and not full:
        harness.update_readme("peers-partial", text)   # only if the README has that block
    elif a.update_readme:
        harness.update_readme("peers", text)


if __name__ == "__main__":
    sys.exit(main())
