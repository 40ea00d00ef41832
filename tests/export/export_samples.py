"""Profiles with stacks, built as Python dicts, for the export tests."""

from __future__ import annotations

import copy
import os
import sys
from typing import Any, Dict, List

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

APP_DIR = "/home/user/my project"
APP = APP_DIR + "/app main.py"  # file path with spaces
LIB = "/usr/lib/python3/json/decoder.py"
ODD = "/tmp/we;ird\ndir/x.py"  # a path with ';' and a newline: must be sanitised


def frame(file: str, qualname: str, line: int) -> str:
    return "%s %s:%d;" % (file, qualname, line)


def stats(count: int, py: float, c: float, sys_: float) -> Dict[str, Any]:
    return {
        "count": count,
        "python_time": py,
        "c_time": c,
        "sys_time": sys_,
        "cpu_samples": py + c + sys_,
    }


def ours() -> Dict[str, Any]:
    """A profile as our engine writes it (fractions of 4 s of thread time)."""
    mod = frame(APP, "<module>", 40)
    main = frame(APP, "main", 33)
    stacks: List[Any] = [
        # recursion: fib calls itself
        [[mod, main, frame(APP, "fib", 7), frame(APP, "fib", 9), frame(APP, "fib", 9)],
         stats(500, 0.45, 0.05, 0.0)],
        # the same stack again (must be merged)
        [[mod, main, frame(APP, "fib", 7), frame(APP, "fib", 9), frame(APP, "fib", 9)],
         stats(100, 0.1, 0.0, 0.0)],
        [[mod, main, frame(APP, "Loader.load", 20), frame(LIB, "JSONDecoder.decode", 337)],
         stats(200, 0.05, 0.15, 0.0)],
        [[mod, main, frame(APP, "main.<locals>.<lambda>", 30)],
         stats(100, 0.05, 0.0, 0.05)],
        # a single-frame stack
        [[mod], stats(50, 0.0, 0.0, 0.05)],
        [[mod, frame(ODD, "odd", 1)], stats(50, 0.05, 0.0, 0.0)],
    ]
    return {
        "program": APP,
        "entrypoint_dir": APP_DIR,
        "filename": APP,
        "args": [],
        "elapsed_time_sec": 2.0,
        "start_time_absolute": 1700000000.25,
        "start_time_perf": 1000.0,
        "files": {
            APP: {
                "functions": [
                    {"line": "fib", "lineno": 5},
                    {"line": "main", "lineno": 25},
                ],
                "lines": [],
                "imports": [],
                "leaks": {},
                "percent_cpu_time": 90.0,
            }
        },
        "stacks": stacks,
        "profiler": {
            "name": "scalene-c",
            "version": "0.1.0",
            "cpu_mode": "wall",
            "total_sampled_sec": 4.0,
        },
    }


OURS_TOTAL_COUNT = 1000
OURS_TOP_LEAF = "fib"  # 600 samples, 0.6 of sampled time
OURS_TOP_SHARE = 0.6


def legacy() -> Dict[str, Any]:
    """A profile of the existing Scalene: no sys_time, no profiler key, and
    python_time/c_time not on the cpu_samples scale."""
    f = os.path.join("/srv/legacy app", "prog.py")
    return {
        "program": f,
        "entrypoint_dir": "/srv/legacy app",
        "elapsed_time_sec": 3.0,
        "start_time_absolute": 1690000000.0,
        "stacks": [
            [[frame(f, "<module>", 12), frame(f, "busy", 4)],
             {"count": 30, "python_time": 0.0021, "c_time": 0.0009, "cpu_samples": 0.75}],
            [[frame(f, "<module>", 13)],
             {"count": 10, "python_time": 0.0007, "c_time": 0.0003, "cpu_samples": 0.25}],
        ],
        "combined_stacks": [],
        "memory_stacks": [],
    }


def empty_variants() -> List[Dict[str, Any]]:
    base = copy.deepcopy(ours())
    no_key = copy.deepcopy(base)
    del no_key["stacks"]
    empty = copy.deepcopy(base)
    empty["stacks"] = []
    zero = copy.deepcopy(base)
    zero["stacks"] = [[[frame(APP, "main", 1)], stats(0, 0.0, 0.0, 0.0)]]
    return [no_key, empty, zero]
