"""Ground truth: half the time in one pure-Python line, half in one native call.

Each part sits on ONE source line (a one-line ``for`` statement), inside its
own function, so the truth is known by construction at line level and at
function level:
  GT:python  -> ``python_part``  (pure bytecode arithmetic, no calls)
  GT:native  -> ``native_part``  (hashlib.sha256 over a large buffer, in C)
At start-up the program times a small slice of each part and scales the
iteration counts so that each half takes about TARGET seconds; then it runs
the real work, timing each part (thread CPU time and wall time).  The
measured split is printed to stderr as one JSON line prefixed ``GT-JSON:``:
for each line, its function, the work done (iterations / calls, calibration
included) and the thread CPU seconds it took.  The harness turns work into
the truth with per-unit costs measured in the unprofiled runs, so a
profiler's own overhead does not move the truth.
"""
import hashlib
import json
import sys
import time

TARGET = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
BUF = bytes(range(256)) * (32 * 1024 * 4)  # 32 MiB


# @profile
def python_part(n):
    x = 1
    for i in range(n): x = (x * 1103515245 + 12345 + i) & 0x7FFFFFFF  # GT:python
    return x


# @profile
def native_part(k):
    h = None
    for _ in range(k): h = hashlib.sha256(BUF).digest()  # GT:native
    return h


def timed(fn, arg):
    c0, w0 = time.thread_time(), time.perf_counter()
    fn(arg)
    return time.thread_time() - c0, time.perf_counter() - w0


def tagged_lines(*tags):
    src = open(__file__).read().splitlines()
    return {t: i + 1 for i, l in enumerate(src) for t in tags if l.rstrip().endswith("# " + t)}


def main():
    # Calibration: the minimum over a few short slices, so that a profiler's
    # start-up work does not skew it.  The calibration runs the same two lines
    # and is counted in the totals below.
    n_cal, py_rounds, nat_rounds = 100_000, 5, 3
    py_cal = [timed(python_part, n_cal)[0] for _ in range(py_rounds)]
    nat_cal = [timed(native_part, 1)[0] for _ in range(nat_rounds)]
    n_py = max(1, int(n_cal * TARGET / max(min(py_cal), 1e-5)))
    k_nat = max(1, round(TARGET / max(min(nat_cal), 1e-5)))
    py_cpu, py_wall = timed(python_part, n_py)
    nat_cpu, nat_wall = timed(native_part, k_nat)
    py_cpu += sum(py_cal)
    nat_cpu += sum(nat_cal)
    line_of = tagged_lines("GT:python", "GT:native")
    info = {
        "program": "gt_py_native",
        # per line: owning function, amount of work done, thread CPU seconds
        "lines": {
            str(line_of["GT:python"]): {"function": "python_part", "work": n_py + py_rounds * n_cal,
                                        "cpu_s": py_cpu},
            str(line_of["GT:native"]): {"function": "native_part", "work": k_nat + nat_rounds,
                                        "cpu_s": nat_cpu},
        },
        "python_wall_s": py_wall, "native_wall_s": nat_wall,
        "calibration": {"python_s_per_100k": min(py_cal), "native_s_per_call": min(nat_cal)},
    }
    print("GT-JSON: " + json.dumps(info), file=sys.stderr)


if __name__ == "__main__":
    main()
