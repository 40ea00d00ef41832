"""Pure-Python loops: sieve, integer arithmetic, nested list 'matrix' multiply."""
import sys


def sieve(limit):
    flags = [True] * (limit + 1)
    flags[0] = flags[1] = False
    i = 2
    while i * i <= limit:
        if flags[i]:
            for j in range(i * i, limit + 1, i):
                flags[j] = False
        i += 1
    return sum(flags)


def collatz_longest(limit):
    best, best_n = 0, 1
    for start in range(1, limit):
        n, steps = start, 0
        while n != 1:
            if n & 1:
                n = 3 * n + 1
            else:
                n >>= 1
            steps += 1
        if steps > best:
            best, best_n = steps, start
    return best_n, best


def matmul(n):
    a = [[(i * j) % 7 + 1.0 for j in range(n)] for i in range(n)]
    b = [[(i + 2 * j) % 5 - 1.5 for j in range(n)] for i in range(n)]
    c = [[0.0] * n for _ in range(n)]
    for i in range(n):
        ai, ci = a[i], c[i]
        for k in range(n):
            aik, bk = ai[k], b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    return sum(map(sum, c))


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    print(sieve(int(6_000_000 * scale)))
    print(collatz_longest(int(150_000 * scale)))
    print(matmul(int(170 * scale ** (1 / 3))))
