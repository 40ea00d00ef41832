"""A numpy mix: vectorised kernels, a Python loop over small arrays, linear algebra."""
import sys

import numpy as np


def vectorised(rng, n):
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    acc = 0.0
    for _ in range(20):
        c = np.sqrt(a * a + b * b) + np.sin(a) * np.cos(b)
        acc += float(c.sum())
        a = np.roll(a, 1)
    return acc


def small_arrays(rng, n):
    total = 0.0
    v = rng.random(16)
    for i in range(n):
        w = v * (i % 7) + 1.0
        total += float(w.max() - w.min())
    return total


def linalg(rng, size, reps):
    out = 0.0
    for _ in range(reps):
        m = rng.random((size, size))
        out += float(np.linalg.norm(m @ m.T))
        out += float(np.linalg.solve(m + size * np.eye(size), np.ones(size)).sum())
    return out


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = np.random.default_rng(0)
    print(round(vectorised(rng, int(1_300_000 * scale)), 3))
    print(round(small_arrays(rng, int(130_000 * scale)), 3))
    print(round(linalg(rng, 300, int(20 * scale)), 3))
