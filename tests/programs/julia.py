"""Ground truth: the Julia-set kernel from the design brief.

The loop header, the arithmetic line and the increment are three separate
lines; a safepoint sampler reports 0 % for the arithmetic line on 3.10+."""
import sys


def calc(maxiter, zs, cs):
    output = [0] * len(zs)
    for i in range(len(zs)):
        n = 0
        z = zs[i]
        c = cs[i]
        while abs(z) < 2 and n < maxiter:
            z = z * z + c
            n += 1
        output[i] = n
    return output


def main(width):
    x1, x2, y1, y2 = -1.8, 1.8, -1.8, 1.8
    c_real, c_imag = -0.62772, -0.42193
    xstep = (x2 - x1) / width
    ystep = (y1 - y2) / width
    zs, cs = [], []
    y = y2
    while y > y1:
        x = x1
        while x < x2:
            zs.append(complex(x, y))
            cs.append(complex(c_real, c_imag))
            x += xstep
        y += ystep
    return sum(calc(300, zs, cs))


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
