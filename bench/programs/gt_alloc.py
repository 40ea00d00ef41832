"""Ground truth for memory: known bytes allocated per line.

Three lines allocate known amounts, each in its own function:
  GT:alloc_big    -> 4 MiB bytearrays, freed almost at once (only the last 4 live)
  GT:alloc_lists  -> lists of 1000 pointers (8 KiB + header each), freed at once
  GT:alloc_keep   -> 64 KiB bytes objects kept alive to the end (retained memory)
The program prints, per line, the bytes it allocated there (object sizes from
sys.getsizeof, i.e. what the allocator was asked for) as ``GT-JSON:`` on
stderr; the harness compares each profiler's per-line allocated MB with it.
Pure-Python work in between (which allocates nothing: cached small ints
only) keeps the run about 2 s long, so every other line's truth is ~0 MB.
"""
import json
import sys

N_BIG = 400          # 400 x 4 MiB   = 1600 MiB
N_LISTS = 40_000     # 40k x ~8 KiB  ~  313 MiB
N_KEEP = 3_000       # 3000 x 64 KiB ~  188 MiB, retained


# @profile
def alloc_big(n):
    ring = [None] * 4
    for i in range(n): ring[i % 4] = bytearray(4 << 20)  # GT:alloc_big
    return (sys.getsizeof(bytearray(0)) + (4 << 20)) * n  # size without allocating it


# @profile
def alloc_lists(n):
    x = None
    for i in range(n): x = [i] * 1000  # GT:alloc_lists
    return sys.getsizeof(x) * n


keep = []


# @profile
def alloc_keep(n):
    for i in range(n): keep.append(bytes(64 << 10))  # GT:alloc_keep
    return sys.getsizeof(keep[-1]) * n


SMALL = list(range(256)) * 4


def busy(n):
    # Pure-Python work that allocates nothing: every value stays a cached small int.
    x = 0
    for _ in range(n // len(SMALL)):
        for v in SMALL:
            x = x ^ v
    return x


def tagged_lines(*tags):
    src = open(__file__).read().splitlines()
    return {t: i + 1 for i, l in enumerate(src) for t in tags if l.rstrip().endswith("# " + t)}


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    sizes = {}
    busy(int(20_000_000 * scale))
    sizes["alloc_big"] = alloc_big(int(N_BIG * scale))
    busy(int(20_000_000 * scale))
    sizes["alloc_lists"] = alloc_lists(int(N_LISTS * scale))
    busy(int(20_000_000 * scale))
    sizes["alloc_keep"] = alloc_keep(int(N_KEEP * scale))
    line_of = tagged_lines("GT:alloc_big", "GT:alloc_lists", "GT:alloc_keep")
    info = {
        "program": "gt_alloc",
        "alloc_lines": {str(line_of["GT:" + f]): {"function": f, "mb": b / 2 ** 20} for f, b in sizes.items()},
        "retained_mb": sum(sys.getsizeof(k) for k in keep) / 2 ** 20,
    }
    print("GT-JSON: " + json.dumps(info), file=sys.stderr)


if __name__ == "__main__":
    main()
