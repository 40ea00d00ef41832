"""A small program with a bit of everything scalene reports: a hot
pure-Python loop, native code called on large buffers, a worker thread and
some time spent sleeping.  Run it with `make demo`."""
import hashlib
import threading
import time
import zlib


def mandelbrot_row(y, width, maxiter=200):
    row = []
    for x in range(width):
        c = complex(-2.0 + 3.0 * x / width, -1.2 + 2.4 * y / width)
        z = 0j
        n = 0
        while abs(z) <= 2 and n < maxiter:
            z = z * z + c  # the hot line: pure Python arithmetic
            n += 1
        row.append(n)
    return row


def checksum_worker(rounds):
    data = bytes(range(256)) * 65536  # 16 MiB
    for _ in range(rounds):
        hashlib.sha256(data).hexdigest()  # native code, in another thread
        zlib.crc32(data)


def main():
    worker = threading.Thread(target=checksum_worker, args=(12,))
    worker.start()
    image = [mandelbrot_row(y, 240) for y in range(160)]
    time.sleep(0.3)  # off-CPU: shows up as system time
    worker.join()
    print("pixels inside the set:", sum(v == 200 for row in image for v in row))


if __name__ == "__main__":
    main()
