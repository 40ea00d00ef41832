"""Ground truth: about half the time in a pure-Python loop, half in one native
call on a large buffer.  The program measures each half's CPU time itself
and prints the truth as JSON on stderr."""
import hashlib
import json
import sys
import time


def python_part(n):
    x = 0
    for i in range(n):  # PY-LOOP-HEADER
        x = (x * 31 + i) % 1000003  # PY-LOOP-BODY
    return x


def native_part(data, reps):
    for _ in range(reps):
        hashlib.sha256(data).digest()  # NATIVE-CALL


def main(seconds):
    data = bytes(range(256)) * (16 * 1024 * 4)  # 16 MiB
    t = time.thread_time()
    python_part(200000)
    py_rate = 200000 / max(time.thread_time() - t, 1e-6)
    t = time.thread_time()
    native_part(data, 2)
    native_rate = 2 / max(time.thread_time() - t, 1e-6)
    n = int(py_rate * seconds)
    reps = max(1, int(native_rate * seconds))
    t0 = time.thread_time()
    python_part(n)
    t1 = time.thread_time()
    native_part(data, reps)
    t2 = time.thread_time()
    print(json.dumps({"python": t1 - t0, "native": t2 - t1}), file=sys.stderr)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
