"""Ground truth: worker threads doing different, known amounts of work.

Three worker threads each run ONE hot line in their own function:
  GT:t_small  -> ``worker_small``  pure Python, 1 unit of work
  GT:t_large  -> ``worker_large``  pure Python, 3 units of work
  GT:t_hash   -> ``worker_hash``   hashlib.sha256 over a large buffer
                                   (releases the GIL: runs in parallel)
The main thread only starts and joins them.  Each worker measures its own
CPU time with ``time.thread_time()``; work and CPU seconds per line are
printed to stderr as one JSON line prefixed ``GT-JSON:``.  The truth is each
line's share of the workers' total CPU time in the unprofiled runs (the
harness turns work into time with per-unit costs from the plain runs).  (Compare CPU shares, not wall shares: threads queueing for the
GIL are not running.)
"""
import hashlib
import json
import sys
import threading
import time

UNIT = int(sys.argv[1]) if len(sys.argv) > 1 else 2_400_000
HASH_ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 24
BUF = bytes(range(256)) * (32 * 1024 * 4)  # 32 MiB
cpu = {}


# @profile
def worker_small(n):
    t0 = time.thread_time()
    x = 1
    for i in range(n): x = (x * 1103515245 + 12345 + i) & 0x7FFFFFFF  # GT:t_small
    cpu["worker_small"] = time.thread_time() - t0


# @profile
def worker_large(n):
    t0 = time.thread_time()
    x = 1
    for i in range(n): x = (x * 1103515245 + 12345 + i) & 0x7FFFFFFF  # GT:t_large
    cpu["worker_large"] = time.thread_time() - t0


# @profile
def worker_hash(k):
    t0 = time.thread_time()
    for _ in range(k): hashlib.sha256(BUF).digest()  # GT:t_hash
    cpu["worker_hash"] = time.thread_time() - t0


def main():
    threads = [
        threading.Thread(target=worker_small, args=(UNIT,), name="small"),
        threading.Thread(target=worker_large, args=(3 * UNIT,), name="large"),
        threading.Thread(target=worker_hash, args=(HASH_ROUNDS,), name="hash"),
    ]
    w0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - w0
    src = open(__file__).read().splitlines()
    tags = {"GT:t_small": "worker_small", "GT:t_large": "worker_large", "GT:t_hash": "worker_hash"}
    line_of = {tags[t]: i + 1 for i, l in enumerate(src) for t in tags if l.rstrip().endswith("# " + t)}
    work = {"worker_small": UNIT, "worker_large": 3 * UNIT, "worker_hash": HASH_ROUNDS}
    info = {
        "program": "gt_threads",
        # per line: owning function, amount of work done, thread CPU seconds
        "lines": {str(line_of[f]): {"function": f, "work": work[f], "cpu_s": cpu[f]} for f in work},
        "wall_s": wall,
    }
    print("GT-JSON: " + json.dumps(info), file=sys.stderr)


if __name__ == "__main__":
    main()
