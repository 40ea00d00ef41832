"""Memory ground truth by construction.  argv[1] selects the scenario; the
program prints the truth it knows as JSON on stdout."""
import json
import sys


def keep_big():
    keep = bytearray(512 * 1024 * 1024)  # KEEP-BIG
    return keep


def keep_small_objects():
    n = 3_000_000
    items = [b"%09d" % i + b"x" * 90 for i in range(n)]  # KEEP-SMALL
    truth = sum(sys.getsizeof(x) for x in items) + sys.getsizeof(items)
    return items, truth


def churn():
    for _ in range(400):
        block = bytearray(1 << 20)  # CHURN
        del block


LEAKED = []


def leaky():
    for _ in range(300):
        LEAKED.append(bytearray(1 << 20))  # LEAK-LOOP


def dropping():
    dropped = []
    for _ in range(300):
        dropped.append(bytearray(1 << 20))  # DROP-LOOP
        dropped.pop()


def copies():
    src = bytearray(256 * 1024 * 1024)
    dst = bytearray(256 * 1024 * 1024)
    for _ in range(10):
        dst[:] = src  # COPY-LINE
    return 10 * 256


HELD = None


def main(which):
    global HELD
    truth = {}
    if which == "big":
        HELD = keep_big()
        truth["mb"] = len(HELD) / 2**20
    elif which == "small":
        HELD, size = keep_small_objects()
        truth["mb"] = size / 2**20
    elif which == "churn":
        churn()
    elif which == "leak":
        leaky()
        dropping()
    elif which == "copy":
        truth["copied_mb"] = copies()
    print(json.dumps(truth))


if __name__ == "__main__":
    main(sys.argv[1])
