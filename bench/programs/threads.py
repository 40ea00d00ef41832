"""Threads: several threads doing Python work, hashlib and zlib on large buffers."""
import hashlib
import sys
import threading
import zlib


def python_work(n, out, key):
    d = {}
    for i in range(n):
        d[i % 1000] = d.get(i % 1000, 0) + i * i % 97
    out[key] = sum(d.values())


def hash_work(buf, rounds, out, key):
    h = b""
    for _ in range(rounds):
        h = hashlib.sha256(buf + h[:1]).digest()
    out[key] = h.hex()[:16]


def zlib_work(buf, rounds, out, key):
    size = 0
    for _ in range(rounds):
        size += len(zlib.compress(buf, 6))
    out[key] = size


def make_buffer(mb):
    # Deterministic, moderately compressible data.
    block = bytes((i * 7919 + (i >> 5)) & 0xFF for i in range(1 << 16))
    return (block + block[::-1]) * (mb * 8)


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    buf = make_buffer(16)
    out = {}
    ts = [
        threading.Thread(target=python_work, args=(int(3_500_000 * scale), out, "py1")),
        threading.Thread(target=python_work, args=(int(2_500_000 * scale), out, "py2")),
        threading.Thread(target=hash_work, args=(buf, int(40 * scale), out, "sha")),
        threading.Thread(target=zlib_work, args=(buf, int(8 * scale), out, "zlib")),
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(sorted(out.items()))
