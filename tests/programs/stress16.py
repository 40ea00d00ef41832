"""16 threads mixing Python loops, native calls and sleeps, briefly."""
import hashlib
import sys
import threading
import time
import zlib


def worker(kind, seconds):
    data = b"y" * (1 << 18)
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        if kind == 0:
            for i in range(2000):
                x += i * i  # PY
        elif kind == 1:
            hashlib.sha1(data).digest()  # HASH
        elif kind == 2:
            zlib.compress(data, 1)  # ZLIB
        else:
            time.sleep(0.003)  # SLEEP
    return x


def main(seconds):
    threads = [threading.Thread(target=worker, args=(i % 4, seconds)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.15)
