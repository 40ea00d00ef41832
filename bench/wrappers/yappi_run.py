"""Run a script under yappi (CPU clock, all threads) and save per-function stats as JSON.

usage: python yappi_run.py OUT.json PROGRAM.py [ARGS...]
"""
import json
import os
import runpy
import sys

import yappi


def main():
    out, prog = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path[0] = os.path.dirname(os.path.abspath(prog))
    yappi.set_clock_type(os.environ.get("BENCH_YAPPI_CLOCK", "cpu"))
    yappi.start(builtins=False, profile_threads=True)
    try:
        runpy.run_path(prog, run_name="__main__")
    finally:
        yappi.stop()
        rows = [{"name": s.name, "module": s.module, "lineno": s.lineno, "ncall": s.ncall,
                 "ttot": s.ttot, "tsub": s.tsub} for s in yappi.get_func_stats()]
        with open(out, "w") as f:
            json.dump({"clock": yappi.get_clock_type(), "functions": rows}, f)


if __name__ == "__main__":
    main()
