"""Ground truth: worker threads doing different kinds of work at once."""
import sys
import threading
import time
import zlib


def py_worker(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        for i in range(1000):
            x = (x * 7 + i) % 65521  # PY-WORKER
    return x


def native_worker(seconds):
    data = bytes(range(256)) * 4096 * 4  # 4 MiB
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        zlib.compress(data, 6)  # NATIVE-WORKER


def sleepy_worker(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)  # SLEEP-WORKER


def main(seconds):
    threads = [
        threading.Thread(target=py_worker, args=(seconds,)),
        threading.Thread(target=native_worker, args=(seconds,)),
        threading.Thread(target=sleepy_worker, args=(seconds,)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # MAIN-JOIN


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
