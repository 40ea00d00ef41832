"""Run one pyperformance benchmark as a plain script with a fixed number of loops.

usage: python pyperf_driver.py NAME LOOPS
       python pyperf_driver.py --calibrate [--target SECONDS] [NAME ...]

The benchmark file is ``pyperformance/data-files/benchmarks/bm_NAME/run_benchmark.py``
from the ``.venvs/bench-pyperf`` venv (or from ``$BENCH_PYPERF_BENCHMARKS``).  It
normally runs under ``pyperf.Runner``, which spawns calibration and worker
processes; here a stand-in ``pyperf`` module is installed instead, whose Runner
simply calls the benchmark function LOOPS times in this process (and whose
``parse_args`` applies the benchmark's own defaults).  So any interpreter can run
the benchmark (pyperf need not be installed there), in one process, for a
deterministic amount of work: exactly what a profiler should see.
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import os
import runpy
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Pure-Python workloads with no third-party dependencies, and the number of
# loops that takes roughly 1.5-2.5 s on the benchmark machine (CPython 3.11).
LOOPS = {
    "nbody": 12,
    "raytrace": 3,
    "chaos": 18,
    "richards": 30,
    "deltablue": 250,
    "float": 15,
    "go": 8,
    "hexiom": 160,
    "json_dumps": 60,
    "fannkuch": 3,
    "spectral_norm": 12,
    "nqueens": 20,
}


def benchmarks_dir() -> str:
    env = os.environ.get("BENCH_PYPERF_BENCHMARKS")
    if env:
        return env
    hits = glob.glob(os.path.join(REPO, ".venvs", "bench-pyperf", "lib", "python3*", "site-packages",
                                  "pyperformance", "data-files", "benchmarks"))
    if not hits:
        raise SystemExit("pyperformance not installed: run `python3.11 bench/venvs.py pyperf`")
    return sorted(hits)[-1]


def benchmark_file(name: str) -> str:
    path = os.path.join(benchmarks_dir(), f"bm_{name}", "run_benchmark.py")
    if not os.path.exists(path):
        raise SystemExit(f"no such pyperformance benchmark: {path}")
    return path


def fake_pyperf(loops: int) -> types.ModuleType:
    mod = types.ModuleType("pyperf")
    mod.perf_counter = time.perf_counter

    class Runner:
        def __init__(self, *args, **kwargs):
            self.argparser = argparse.ArgumentParser()
            self.metadata = {}
            self.args = None

        def parse_args(self, args=None):
            self.args, _ = self.argparser.parse_known_args(args if args is not None else [])
            return self.args

        def _ensure_args(self):
            if self.args is None:
                self.parse_args()

        def bench_func(self, name, func, *args, **kwargs):
            self._ensure_args()
            for _ in range(loops):
                func(*args)

        def bench_time_func(self, name, func, *args, **kwargs):
            self._ensure_args()
            return func(loops, *args)

        def bench_async_func(self, name, func, *args, **kwargs):
            self._ensure_args()
            for _ in range(loops):
                asyncio.run(func(*args))

        def bench_command(self, name, command):
            raise SystemExit("bench_command benchmarks are not supported by the driver")

    mod.Runner = Runner
    return mod


def run(name: str, loops: int) -> None:
    path = benchmark_file(name)
    sys.modules["pyperf"] = fake_pyperf(loops)
    sys.argv = [path]
    sys.path[0] = os.path.dirname(path)
    runpy.run_path(path, run_name="__main__")


def calibrate(names, target):
    for name in names:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, name, "1"], check=True)
        one = time.perf_counter() - t0
        print(f"{name}: 1 loop = {one:.3f} s -> loops for {target} s ~ {max(1, round(target / one))}",
              flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--calibrate":
        ap = argparse.ArgumentParser()
        ap.add_argument("--calibrate", action="store_true")
        ap.add_argument("--target", type=float, default=2.0)
        ap.add_argument("names", nargs="*")
        a = ap.parse_args()
        calibrate(a.names or list(LOOPS), a.target)
    else:
        if len(sys.argv) != 3:
            raise SystemExit(__doc__)
        run(sys.argv[1], int(sys.argv[2]))
