"""Deep and wide recursion: naive fib, Ackermann, recursive tree build/walk."""
import sys

sys.setrecursionlimit(20_000)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def build(depth):
    if depth == 0:
        return None
    return (depth, build(depth - 1), build(depth - 1) if depth % 4 == 0 else None)


def walk(node):
    if node is None:
        return 0
    return node[0] + walk(node[1]) + walk(node[2])


def deep_sum(n):
    return 0 if n == 0 else n + deep_sum(n - 1)


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    # Depths stay within a few hundred frames (deep for real code; far deeper
    # stacks make stack-walking samplers pathologically slow).
    print(fib(30))
    acc = 0
    for _ in range(int(40 * scale)):
        acc += ackermann(2, 300)
    print(acc)
    total = 0
    for _ in range(int(3000 * scale)):
        total += deep_sum(800)
    print(total)
    print(walk(build(56)))
