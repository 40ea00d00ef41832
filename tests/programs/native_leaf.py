"""Ground truth for native leaves: one line spends its time inside zlib's C
code (libz.so), another in bytecode."""
import sys
import time
import zlib


def compress_for(seconds):
    data = bytes(range(256)) * 2048 + bytes(i * 7 % 251 for i in range(1 << 19))
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        zlib.compress(data, 9)  # NATIVE-LINE


def spin_for(seconds):
    x = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for i in range(1000):
            x += i * i  # PY-LINE
    return x


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.6
    if "--in-child" in sys.argv:  # the native line runs in a forked child
        import multiprocessing

        child = multiprocessing.get_context("fork").Process(target=compress_for, args=(seconds,))
        child.start()
        child.join()
    else:
        compress_for(seconds)
    spin_for(seconds)
