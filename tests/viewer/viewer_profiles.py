"""Test profiles for the viewer, built by hand following docs/profile-format.md."""

from __future__ import annotations

import copy
import random
from typing import Any, Dict, List, Optional

APP_SRC = '''\
"""A small data pipeline used to exercise the viewer."""
import json
import math
from util import normalize, load_rows


class Pipeline:
    def __init__(self, rows):
        self.rows = rows
        self.cache = {}

    def score(self, row):
        total = 0.0
        for x in row:
            total += math.sqrt(x * x + 1.0)
        return total

    def run(self):
        results = []
        for row in self.rows:
            s = self.score(row)
            results.append(s)
        data = [r * 2 for r in results]
        blob = json.dumps(data)
        return len(blob) & 0xFF


def build(n):
    rows = [[float(i + j) for j in range(50)] for i in range(n)]
    return rows


def main():
    rows = build(20000)
    rows = normalize(rows)
    p = Pipeline(rows)
    out = p.run()
    if out < 3 and out > -1:
        print("tiny")
    return out


if __name__ == "__main__":
    main()
'''

UTIL_SRC = '''\
import time


def normalize(rows):
    # scale every row to [0, 1]
    out = []
    for row in rows:
        hi = max(row) or 1.0
        out.append([v / hi for v in row])
    return out


def load_rows(path):
    with open(path) as f:
        time.sleep(0.01)
        return [line.split(",") for line in f]
'''

ZERO_LINE = {
    "n_cpu_percent_python": 0.0,
    "n_cpu_percent_c": 0.0,
    "n_sys_percent": 0.0,
    "n_core_utilization": 0.0,
    "cpu_samples_list": [],
    "n_gpu_percent": 0.0,
    "n_gpu_avg_memory_mb": 0.0,
    "n_gpu_peak_memory_mb": 0.0,
    "n_malloc_mb": 0.0,
    "n_mallocs": 0,
    "n_avg_mb": 0.0,
    "n_peak_mb": 0.0,
    "n_growth_mb": 0.0,
    "n_usage_fraction": 0.0,
    "n_python_fraction": 0.0,
    "n_copy_mb_s": 0.0,
    "memory_samples": [],
    "n_async_await_percent": 0.0,
    "n_async_concurrency_mean": 0.0,
    "n_async_concurrency_peak": 0.0,
    "async_task_names": [],
    "is_coroutine": False,
}

ELAPSED = 12.5


def _line(text: str, lineno: int, region=(None, None), function=(0, 0), **metrics: Any) -> Dict[str, Any]:
    d = copy.deepcopy(ZERO_LINE)
    d.update(metrics)
    rs, re_ = region
    d.update(
        line=text + "\n",
        lineno=lineno,
        start_region_line=rs or lineno,
        end_region_line=re_ or lineno,
        start_outermost_loop=rs or lineno,
        end_outermost_loop=re_ or lineno,
        start_function_line=function[0],
        end_function_line=function[1],
    )
    return d


def _mem_samples(rng: random.Random, n: int, peak: float) -> List[List[float]]:
    ts = sorted(rng.uniform(0, ELAPSED * 1e9) for _ in range(n))
    return [[int(t), round(peak * (0.3 + 0.7 * t / (ELAPSED * 1e9)) * rng.uniform(0.9, 1.0), 3)] for t in ts]


def _cpu_list(rng: random.Random, n: int) -> List[float]:
    return sorted(round(1000.0 + rng.uniform(0, ELAPSED), 6) for _ in range(n))


def _functions_from(lines: List[Dict[str, Any]], funcs: Dict[str, tuple]) -> List[Dict[str, Any]]:
    out = []
    for name, (start, end) in funcs.items():
        f = copy.deepcopy(ZERO_LINE)
        f["line"] = name
        f["lineno"] = start
        for ln in lines:
            if start <= ln["lineno"] <= end:
                for k in ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent", "n_malloc_mb", "n_copy_mb_s",
                          "n_gpu_percent", "n_usage_fraction", "n_async_await_percent"):
                    f[k] += ln[k]
                for k in ("n_peak_mb", "n_avg_mb", "n_gpu_peak_memory_mb"):
                    f[k] = max(f[k], ln[k])
                f["n_mallocs"] += ln["n_mallocs"]
                f["memory_samples"] = sorted(f["memory_samples"] + ln["memory_samples"])[:100]
        f["n_python_fraction"] = 0.8 if f["n_malloc_mb"] else 0.0
        f["n_core_utilization"] = 0.9 if f["n_cpu_percent_python"] else 0.0
        out.append(f)
    return out


def _base(program: str, files: Dict[str, Any], memory=True, gpu=False, stacks=None, samples=None) -> Dict[str, Any]:
    return {
        "program": program,
        "entrypoint_dir": program.rsplit("/", 1)[0],
        "filename": program.rsplit("/", 1)[0],
        "args": ["--size", "20000"],
        "elapsed_time_sec": ELAPSED,
        "start_time_absolute": 1732200000.25,
        "start_time_perf": 1000.0,
        "alloc_samples": 5321,
        "growth_rate": 3.2,
        "max_footprint_mb": 812.5,
        "max_footprint_python_fraction": 0.83,
        "max_footprint_fname": program,
        "max_footprint_lineno": 30,
        "native_allocations_mb": 2.5,
        "files": files,
        "gpu": gpu,
        "gpu_device": "GPU" if gpu else "",
        "memory": memory,
        "async_profile": False,
        "samples": samples or [],
        "stacks": stacks or [],
        "main_thread_id": 140234,
        "memory_stacks": [],
        "combined_stacks": [],
        "combined_stacks_timeline": [],
        "profiler": {
            "name": "scalene-c",
            "version": "0.1.0",
            "python": "3.11.7",
            "cpu_mode": "wall",
            "cpu_sampling_rate": 0.01,
            "cpu_samples": 1250,
            "dropped_samples": 0,
            "threads_seen": 1,
            "why_empty": None,
        },
    }


# Line metrics of the realistic profile: lineno -> (python %, native %, system %, peak MB, python fraction, copy MB/s)
APP_HOT = {
    15: (38.5, 6.25, 1.5, 0.0, 0.0, 0.0),  # total += math.sqrt(...)  -> hot
    14: (9.75, 0.5, 0.25, 0.0, 0.0, 0.0),
    21: (2.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    23: (3.5, 0.25, 0.25, 150.0, 0.95, 0.0),
    24: (1.25, 4.0, 0.5, 96.0, 0.2, 310.0),
    29: (11.0, 2.0, 0.75, 760.0, 0.9, 0.0),
    35: (0.25, 0.0, 0.0, 0.0, 0.0, 0.0),
}
UTIL_HOT = {
    8: (4.5, 1.0, 0.0, 12.0, 0.7, 0.0),
    9: (6.5, 0.5, 0.25, 380.0, 0.99, 42.5),
    15: (0.0, 0.0, 2.75, 0.0, 0.0, 0.0),
}
APP_FUNCS = {"Pipeline.__init__": (8, 10), "Pipeline.score": (12, 16), "Pipeline.run": (18, 25), "build": (28, 30), "main": (33, 40)}
UTIL_FUNCS = {"normalize": (4, 10), "load_rows": (13, 16)}
APP_REGIONS = {14: (14, 15), 15: (14, 15), 20: (20, 22), 21: (20, 22), 22: (20, 22), 29: (28, 30), 23: (18, 25), 24: (18, 25)}
UTIL_REGIONS = {7: (7, 9), 8: (7, 9), 9: (7, 9)}


def _file(src: str, hot: Dict[int, tuple], regions, funcs, rng, total_malloc: float) -> Dict[str, Any]:
    lines = []
    for i, text in enumerate(src.splitlines(), start=1):
        fn = next(((a, b) for a, b in funcs.values() if a <= i <= b), (0, 0))
        region = regions.get(i, fn if fn != (0, 0) else (None, None))
        metrics: Dict[str, Any] = {}
        if i in hot:
            py, c, sy, peak, pyf, copy_ = hot[i]
            metrics.update(n_cpu_percent_python=py, n_cpu_percent_c=c, n_sys_percent=sy,
                           n_core_utilization=round(rng.uniform(0.4, 0.99), 4),
                           cpu_samples_list=_cpu_list(rng, 500 if py + c + sy > 5 else 40))
            if peak:
                malloc = round(peak * 1.7, 3)
                metrics.update(n_peak_mb=peak, n_growth_mb=peak, n_avg_mb=round(peak * 0.6, 3), n_malloc_mb=malloc,
                               n_mallocs=int(peak // 3) + 1, n_usage_fraction=round(malloc / total_malloc, 6),
                               n_python_fraction=pyf, n_copy_mb_s=copy_,
                               memory_samples=_mem_samples(rng, 100, peak))
            elif copy_:
                metrics.update(n_copy_mb_s=copy_)
        lines.append(_line(text, i, region=region, function=fn, **metrics))
    pct = sum(hot[k][0] + hot[k][1] + hot[k][2] for k in hot)
    return {
        "functions": _functions_from(lines, funcs),
        "imports": [],
        "leaks": {},
        "lines": lines,
        "percent_cpu_time": round(pct, 6),
    }


def realistic() -> Dict[str, Any]:
    """Two files, functions, memory with timelines, stacks; our own format."""
    rng = random.Random(1234)
    total_malloc = sum(v[3] * 1.7 for v in list(APP_HOT.values()) + list(UTIL_HOT.values()))
    app = "/home/user/proj/app.py"
    util = "/home/user/proj/util.py"
    files = {
        app: _file(APP_SRC, APP_HOT, APP_REGIONS, APP_FUNCS, rng, total_malloc),
        util: _file(UTIL_SRC, UTIL_HOT, UTIL_REGIONS, UTIL_FUNCS, rng, total_malloc),
    }
    files[util]["leaks"] = {"9": {"likelihood": 0.97, "velocity_mb_s": 1.25}}
    samples = _mem_samples(rng, 100, 812.5)
    stacks = [
        [[f"{app} <module>:44;", f"{app} main:37;", f"{app} Pipeline.run:21;", f"{app} Pipeline.score:15;"],
         {"count": 0.46, "python_time": 0.385, "c_time": 0.0625, "cpu_samples": 0.46}],
        [[f"{app} <module>:44;", f"{app} main:37;", f"{app} Pipeline.run:21;", f"{app} Pipeline.score:14;"],
         {"count": 0.105, "python_time": 0.0975, "c_time": 0.005, "cpu_samples": 0.105}],
        [[f"{app} <module>:44;", f"{app} main:34;", f"{app} build:29;"],
         {"count": 0.1375, "python_time": 0.11, "c_time": 0.02, "cpu_samples": 0.1375}],
        [[f"{app} <module>:44;", f"{app} main:35;", f"{util} normalize:9;"],
         {"count": 0.0725, "python_time": 0.065, "c_time": 0.005, "cpu_samples": 0.0725}],
        [[f"{app} <module>:44;", f"{app} main:35;", f"{util} normalize:8;"],
         {"count": 0.055, "python_time": 0.045, "c_time": 0.01, "cpu_samples": 0.055}],
        [[f"{app} <module>:44;", f"{app} main:37;", f"{app} Pipeline.run:24;"],
         {"count": 0.0575, "python_time": 0.0125, "c_time": 0.04, "cpu_samples": 0.0575}],
    ]
    return _base(app, files, memory=True, stacks=stacks, samples=samples)


HOSTILE_NAME = '/tmp/<img src=x onerror="window.__pwned=1">"></script><script>window.__pwned=2</script>.py'


def hostile() -> Dict[str, Any]:
    """Markup and script in every string the page shows."""
    evil = [
        "<script>window.__pwned = 3</script>",
        "x = '</script><script>window.__pwned=4</script>'",
        '<img src=x onerror="window.__pwned=5">',
        "y = 1 \u2028 + 2 \u2029 # line separators",
        "<!-- <script>window.__pwned=6</script> -->",
        "s = '<svg onload=window.__pwned=7>' & 1",
        "{{CSS}} {{JS}} {{PROFILE_JSON}} {{NONCE}}",
        "\\u003cscript\\u003ewindow.__pwned=8\\u003c/script\\u003e",
        "javascript:window.__pwned=9",
    ]
    lines = []
    for i, t in enumerate(evil, start=1):
        lines.append(_line(t, i, n_cpu_percent_python=10.0, n_cpu_percent_c=1.0, n_core_utilization=0.5,
                           n_peak_mb=5.0, n_avg_mb=2.0, n_malloc_mb=5.0, n_usage_fraction=0.1, n_python_fraction=0.5,
                           async_task_names=['<img src=x onerror="window.__pwned=10">'],
                           n_async_await_percent=2.0,
                           memory_samples=[[1000000, 3.0], [2000000, 5.0]]))
    fn = copy.deepcopy(ZERO_LINE)
    fn.update(line='<img src=x onerror="window.__pwned=11">', lineno=1, n_cpu_percent_python=50.0)
    files = {
        HOSTILE_NAME: {
            "functions": [fn],
            "imports": ["<script>window.__pwned=12</script>"],
            "leaks": {'<img src=x onerror="window.__pwned=13">': {"likelihood": 0.99, "velocity_mb_s": 1.0},
                      "2": {"likelihood": "<b>x</b>", "velocity_mb_s": "<img src=x onerror=window.__pwned=14>"}},
            "lines": lines,
            "percent_cpu_time": 99.0,
        },
        "__proto__": {"functions": [], "imports": [], "leaks": {}, "lines": [], "percent_cpu_time": 0.0},
    }
    prof = _base('<script>window.__pwned=15</script>', files, memory=True, gpu=True,
                 stacks=[[['<img src=x onerror="window.__pwned=16"> <b>f</b>:1;', "</script> g:2;"],
                          {"count": 1.0, "python_time": 0.5, "c_time": 0.5, "cpu_samples": 1.0}]],
                 samples=[[0, 1.0], [5, 2.0]])
    prof["args"] = ["<img src=x onerror=window.__pwned=17>"]
    prof["gpu_device"] = "<img src=x onerror=window.__pwned=18>"
    prof["profiler"]["why_empty"] = "<img src=x onerror=window.__pwned=19>"
    prof["profiler"]["python"] = "</script><script>window.__pwned=20</script>"
    return prof


def large(n_lines: int = 5000, seed: int = 7) -> Dict[str, Any]:
    """One big file (every line present) and a second small one."""
    rng = random.Random(seed)
    lines = []
    for i in range(1, n_lines + 1):
        text = f"    value_{i} = compute(value_{i - 1}, {i}) + math.sqrt({i})  # step {i}"
        if i % 50 == 1:
            text = f"def step_{i}(value_{i - 1}):"
        metrics: Dict[str, Any] = {}
        if rng.random() < 0.04:
            metrics.update(n_cpu_percent_python=round(rng.uniform(0.05, 1.5), 4),
                           n_cpu_percent_c=round(rng.uniform(0, 0.3), 4),
                           n_sys_percent=round(rng.uniform(0, 0.1), 4), n_core_utilization=0.7,
                           cpu_samples_list=_cpu_list(rng, 60))
        if rng.random() < 0.02:
            peak = round(rng.uniform(1, 50), 3)
            metrics.update(n_peak_mb=peak, n_avg_mb=peak / 2, n_malloc_mb=peak, n_mallocs=3,
                           n_usage_fraction=round(rng.uniform(0.001, 0.02), 5), n_python_fraction=0.6,
                           memory_samples=_mem_samples(rng, 30, peak))
        start = (i - 1) // 50 * 50 + 1
        lines.append(_line(text, i, region=(start, start + 49), function=(start, start + 49), **metrics))
    total = sum(l["n_cpu_percent_python"] + l["n_cpu_percent_c"] + l["n_sys_percent"] for l in lines)
    for l in lines:  # scale so that the whole profile adds up to 95 %
        for k in ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent"):
            l[k] = round(l[k] * 95.0 / total, 5)
    big = "/srv/big/generated.py"
    files = {
        big: {"functions": _functions_from(lines, {f"step_{s}": (s, s + 49) for s in range(1, n_lines, 50)}),
              "imports": [], "leaks": {}, "lines": lines,
              "percent_cpu_time": round(sum(l["n_cpu_percent_python"] + l["n_cpu_percent_c"] + l["n_sys_percent"] for l in lines), 4)},
    }
    return _base(big, files, memory=True, samples=_mem_samples(rng, 100, 300.0))


def existing_scalene() -> Dict[str, Any]:
    """Shape of a profile written by the existing Scalene (2.x): no "profiler" key,
    literal \\u003c / \\u003e / \\u0026 text in `line`, GPU on, null args."""
    src = [
        "import numpy as np",
        "",
        "def f(a, b):",
        "    if a \\u003c b \\u0026\\u0026 b \\u003e 0:",
        "        return np.dot(a, b)",
        "    return a \\u0026 b",
        "",
        "for i in range(10):",
        "    f(np.ones(1000), np.ones(1000))",
    ]
    lines = []
    metrics = {
        4: dict(n_cpu_percent_python=12.0, n_cpu_percent_c=3.0, n_sys_percent=1.0, n_core_utilization=0.8),
        5: dict(n_cpu_percent_python=5.0, n_cpu_percent_c=55.0, n_sys_percent=4.0, n_core_utilization=0.95,
                n_gpu_percent=41.5, n_gpu_avg_memory_mb=120.0, n_gpu_peak_memory_mb=256.0,
                n_peak_mb=64.0, n_avg_mb=32.0, n_malloc_mb=640.0, n_mallocs=10, n_usage_fraction=0.9,
                n_python_fraction=0.05, n_copy_mb_s=88.0, memory_samples=[[100000000, 64.0], [900000000, 64.0]]),
        9: dict(n_cpu_percent_python=8.0, n_cpu_percent_c=2.0, n_sys_percent=0.5, n_core_utilization=0.6),
    }
    for i, t in enumerate(src, start=1):
        d = _line(t, i, region=(3, 6) if 3 <= i <= 6 else ((8, 9) if i >= 8 else (None, None)),
                  function=(3, 6) if 3 <= i <= 6 else (0, 0), **metrics.get(i, {}))
        del d["n_async_concurrency_mean"]  # older versions lack some keys
        lines.append(d)
    prog = "/home/user/old/np_demo.py"
    fn = copy.deepcopy(ZERO_LINE)
    fn.update(line="f", lineno=3, n_cpu_percent_python=17.0, n_cpu_percent_c=58.0, n_sys_percent=5.0,
              n_gpu_percent=41.5, n_peak_mb=64.0, n_avg_mb=32.0, n_malloc_mb=640.0, n_python_fraction=0.05)
    prof = {
        "program": prog, "entrypoint_dir": "/home/user/old", "filename": "/home/user/old", "args": None,
        "alloc_samples": 42, "elapsed_time_sec": 1.75, "start_time_absolute": 1700000000.0, "start_time_perf": 50.0,
        "growth_rate": 0.0, "max_footprint_mb": 64.0, "max_footprint_python_fraction": 0.05,
        "max_footprint_fname": prog, "max_footprint_lineno": 5, "native_allocations_mb": 0.0,
        "files": {prog: {"functions": [fn], "imports": ["import numpy as np"], "leaks": {}, "lines": lines,
                         "percent_cpu_time": 90.5}},
        "gpu": True, "gpu_device": "GPU", "memory": True, "async_profile": False,
        "samples": [[0, 0.0], [100000000, 64.0], [1700000000, 12.0]],
        "stacks": [[["/home/user/old/np_demo.py <module>:9;", "/home/user/old/np_demo.py f:5;"],
                    {"count": 0.8, "python_time": 0.1, "c_time": 0.7, "cpu_samples": 0.8}]],
        "combined_stacks": [], "combined_stacks_timeline": [], "main_thread_id": 1, "memory_stacks": [],
    }
    return prof


def hot_line_total() -> float:
    py, c, s, *_ = APP_HOT[15]
    return py + c + s


def find_line(profile: Dict[str, Any], fname: Optional[str], lineno: int) -> Dict[str, Any]:
    files = profile["files"]
    f = files[fname] if fname else next(iter(files.values()))
    return next(l for l in f["lines"] if l["lineno"] == lineno)
