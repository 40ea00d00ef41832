"""Ground truth: the Julia-set kernel (pure Python, one hot function).

The truth for the three kernel lines (loop test / arithmetic / counter) is not
known by construction: the harness takes it from a frame-reading sampler
(py-spy at a high rate, pooled over several runs) measured in the same
harness run.  On CPython 3.11 it is about 50 / 40 / 6 %.

Markers used by the harness (do not move them without updating nothing else:
the harness finds lines by these comments):
  GT:loop_test  GT:arith  GT:counter
"""
import sys

X1, X2, Y1, Y2 = -1.8, 1.8, -1.8, 1.8
C_REAL, C_IMAG = -0.62772, -0.42193


# @profile
def calculate_z(maxiter, zs, cs):
    output = [0] * len(zs)
    for i in range(len(zs)):
        n = 0
        z = zs[i]
        c = cs[i]
        while abs(z) < 2 and n < maxiter:  # GT:loop_test
            z = z * z + c  # GT:arith
            n += 1  # GT:counter
        output[i] = n
    return output


def build(width, maxiter):
    xs = [X1 + (X2 - X1) * k / width for k in range(width)]
    ys = [Y1 + (Y2 - Y1) * k / width for k in range(width)]
    zs = [complex(x, y) for y in ys for x in xs]
    cs = [complex(C_REAL, C_IMAG)] * len(zs)
    return calculate_z(maxiter, zs, cs)


if __name__ == "__main__":
    width = int(sys.argv[1]) if len(sys.argv) > 1 else 560
    out = build(width, 300)
    print("sum", sum(out))
