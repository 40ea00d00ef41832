"""Profile builders shared by the report tests."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import sys

import pytest

# `python -m pytest` puts the checkout on sys.path; plain `pytest` does not.
if importlib.util.find_spec("scalene") is None:  # pragma: no cover
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

SOURCE = [
    "import numpy as np\n",
    "\n",
    "def work(n):\n",
    "    x = np.zeros(n)  # <big> & small\n",
    "    for i in range(n):\n",
    "        x[i] = i * 2\n",
    "    return x\n",
    "\n",
    "work(10_000_000)\n",
]


def make_line(lineno, text, **metrics):
    """A LineDetail as our engine writes it, all metrics zero unless given."""
    d = {
        "line": text,
        "lineno": lineno,
        "cpu_samples_list": [],
        "memory_samples": [],
        "n_avg_mb": 0.0,
        "n_copy_mb_s": 0.0,
        "n_core_utilization": 0.0,
        "n_cpu_percent_c": 0.0,
        "n_cpu_percent_python": 0.0,
        "n_gpu_avg_memory_mb": 0.0,
        "n_gpu_peak_memory_mb": 0.0,
        "n_gpu_percent": 0.0,
        "n_growth_mb": 0.0,
        "n_malloc_mb": 0.0,
        "n_mallocs": 0,
        "n_peak_mb": 0.0,
        "n_python_fraction": 0.0,
        "n_sys_percent": 0.0,
        "n_usage_fraction": 0.0,
        "n_async_await_percent": 0.0,
        "n_async_concurrency_mean": 0.0,
        "n_async_concurrency_peak": 0.0,
        "async_task_names": [],
        "is_coroutine": False,
        "start_region_line": lineno,
        "end_region_line": lineno,
        "start_outermost_loop": lineno,
        "end_outermost_loop": lineno,
        "start_function_line": 0,
        "end_function_line": 0,
    }
    d.update(metrics)
    return d


def make_profile(memory=True, gpu=False, leaks=None, fname="/home/user/prog.py"):
    """A realistic profile of SOURCE, as written by our engine."""
    lines = [make_line(i + 1, t) for i, t in enumerate(SOURCE)]
    # line 4: native time and a 76 MB allocation
    lines[3].update(
        n_cpu_percent_c=12.3,
        n_cpu_percent_python=0.4,
    )
    if memory:
        lines[3].update(
            n_malloc_mb=76.3, n_mallocs=1, n_avg_mb=76.3, n_peak_mb=76.3, n_growth_mb=76.3,
            n_usage_fraction=0.6, n_python_fraction=0.02, n_copy_mb_s=30.2,
            memory_samples=[[i * 1_000_000, 3.0 * i] for i in range(40)],
        )
    # line 6: the hot loop body
    lines[5].update(n_cpu_percent_python=55.2, n_cpu_percent_c=0.4, n_sys_percent=3.1,
                    cpu_samples_list=[1.0, 1.1, 1.2])
    if gpu:
        lines[5].update(n_gpu_percent=20.0, n_gpu_avg_memory_mb=300.0, n_gpu_peak_memory_mb=512.0)
    # line 9: under 1 %
    lines[8].update(n_cpu_percent_python=0.6)
    func = make_line(3, "work", n_cpu_percent_python=55.6, n_cpu_percent_c=12.7, n_sys_percent=3.1)
    for k in ("start_region_line", "end_region_line", "start_outermost_loop", "end_outermost_loop",
              "start_function_line", "end_function_line"):
        del func[k]
    if memory:
        func.update(n_malloc_mb=76.3, n_peak_mb=76.3, n_usage_fraction=0.6, n_python_fraction=0.02)
    return {
        "program": fname,
        "entrypoint_dir": os.path.dirname(fname),
        "filename": os.path.dirname(fname),
        "args": [],
        "elapsed_time_sec": 2.93,
        "start_time_absolute": 1_700_000_000.0,
        "start_time_perf": 1000.0,
        "alloc_samples": 40 if memory else 0,
        "growth_rate": 1.234 if memory else 0.0,
        "max_footprint_mb": 123.45 if memory else 0.0,
        "max_footprint_python_fraction": 0.02,
        "max_footprint_fname": fname if memory else None,
        "max_footprint_lineno": 4 if memory else None,
        "native_allocations_mb": 0.0,
        "files": {
            fname: {
                "functions": [func],
                "imports": ["import numpy as np"],
                "leaks": leaks or {},
                "lines": lines,
                "percent_cpu_time": 42.1,
            }
        },
        "gpu": gpu,
        "gpu_device": "GPU" if gpu else "",
        "memory": memory,
        "async_profile": False,
        "samples": [[i * 10_000_000, float((i % 30) * 4)] for i in range(100)] if memory else [],
        "stacks": [],
        "main_thread_id": 1,
        "memory_stacks": [],
        "combined_stacks": [],
        "combined_stacks_timeline": [],
        "profiler": {
            "name": "scalene-c", "version": "0.1.0", "python": "3.11.7", "cpu_mode": "wall",
            "cpu_sampling_rate": 0.01, "cpu_samples": 293, "dropped_samples": 0,
            "threads_seen": 1, "why_empty": None,
        },
    }


def make_legacy_profile():
    """Shaped like a profile of the existing Scalene 2.x run with
    --reduced-profile: no `profiler`, no region/async keys, only active
    lines, and &, <, > written as the literal texts \\u0026, \\u003c, \\u003e."""
    def legacy_line(lineno, text, **m):
        d = {
            "line": text, "lineno": lineno, "memory_samples": [],
            "n_avg_mb": 0.0, "n_copy_mb_s": 0.0, "n_cpu_percent_c": 0.0,
            "n_cpu_percent_python": 0.0, "n_gpu_avg_memory_mb": 0.0,
            "n_gpu_peak_memory_mb": 0.0, "n_gpu_percent": 0.0, "n_growth_mb": 0.0,
            "n_malloc_mb": 0.0, "n_mallocs": 0, "n_peak_mb": 0.0,
            "n_python_fraction": 0, "n_sys_percent": 0.0, "n_usage_fraction": 0.0,
        }
        d.update(m)
        return d

    return {
        "elapsed_time_sec": 69.1761589050293,
        "files": {
            "test.py": {
                "functions": [legacy_line(4, "sieve", n_cpu_percent_c=84.3,
                                          n_cpu_percent_python=8.2, n_sys_percent=5.6)],
                "leaks": {},
                "lines": [
                    legacy_line(6, "   data = bytearray([1]) * n\n", n_malloc_mb=954.3,
                                n_peak_mb=954.3, n_growth_mb=954.3, n_usage_fraction=0.19,
                                n_python_fraction=0.99,
                                memory_samples=[[961863291, 954.35]]),
                    legacy_line(10, "      if a \\u003c b \\u0026\\u0026 c \\u003e d: pass\n",
                                n_cpu_percent_c=11.3, n_cpu_percent_python=8.2,
                                n_sys_percent=1.2, n_malloc_mb=2015.0, n_peak_mb=476.7,
                                n_usage_fraction=0.41, n_mallocs=110,
                                memory_samples=[[1314779428, 1431.1], [1314848557, 954.4]]),
                    legacy_line(11, "   return list(compress(count(), data))\n",
                                n_cpu_percent_c=71.4, n_sys_percent=6.1, n_peak_mb=1943.3,
                                n_malloc_mb=1943.3, n_usage_fraction=0.40),
                ],
                "percent_cpu_time": 100.0,
            }
        },
        "gpu": False,
        "growth_rate": 39.6,
        "max_footprint_fname": "test.py",
        "max_footprint_lineno": 11,
        "max_footprint_mb": 2897.765048980713,
        "memory": True,
        "program": "test.py",
        "samples": [[961829760, 954.35], [961835035, 1431.19], [1314838957, 954.36],
                    [69168611513, 2897.78], [69168659357, 1945.33]],
    }


def write_json(path, obj):
    path.write_text(json.dumps(obj, sort_keys=True, indent=4) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def profile():
    return make_profile()


@pytest.fixture
def builders():
    class B:
        line = staticmethod(make_line)
        profile = staticmethod(make_profile)
        legacy = staticmethod(make_legacy_profile)
        write = staticmethod(write_json)
        source = SOURCE
        deepcopy = staticmethod(copy.deepcopy)
    return B
