"""Threads allocating concurrently, a forked child allocating, and a native
thread with no Python frame allocating (through a tiny C library)."""
import ctypes
import os
import sys
import threading


def worker(n):
    kept = []
    for _ in range(n):
        kept.append(bytearray(1 << 20))  # THREAD-ALLOC
    return kept


def main(native_lib):
    threads = [threading.Thread(target=worker, args=(100,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pid = os.fork()
    if pid == 0:
        kept = [bytearray(1 << 20) for _ in range(150)]  # FORK-ALLOC
        os._exit(0 if kept else 1)
    os.waitpid(pid, 0)
    if native_lib:
        lib = ctypes.CDLL(native_lib)
        lib.alloc_in_native_thread(ctypes.c_size_t(200))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
