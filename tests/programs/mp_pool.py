"""A pool of worker processes doing known work: each worker function's lines
must show up with their true share.  argv[1] = start method."""
import multiprocessing as mp
import sys
import time


def square_sum(n):
    end = time.monotonic() + n
    x = 0
    while time.monotonic() < end:
        x += 1  # SQUARE-WORK
    return x


def cube_sum(n):
    end = time.monotonic() + n
    x = 0
    while time.monotonic() < end:
        x += 3  # CUBE-WORK
    return x


def main(method):
    ctx = mp.get_context(method)
    with ctx.Pool(4) as pool:
        a = pool.map_async(square_sum, [0.3] * 4)  # square: 4 x 0.3 s
        b = pool.map_async(cube_sum, [0.15] * 4)   # cube:   4 x 0.15 s
        a.get()
        b.get()
        pool.close()
        pool.join()
    print("done", method)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "spawn")
