"""Three busy phases, each until a flag file appears (for --on/--off tests).
argv[1]: flag prefix; the test creates <prefix>.b, .c, .d in turn."""
import os
import sys

flag = sys.argv[1]


def phase_a():
    x = 0
    while not os.path.exists(flag + ".b"):
        for i in range(2000):
            x += i  # PHASE-A
    return x


def phase_b():
    x = 0
    while not os.path.exists(flag + ".c"):
        for i in range(2000):
            x += i  # PHASE-B
    return x


def phase_c():
    x = 0
    while not os.path.exists(flag + ".d"):
        for i in range(2000):
            x += i  # PHASE-C
    return x


print("A", flush=True)
phase_a()
print("B", flush=True)
phase_b()
print("C", flush=True)
phase_c()
print("D", flush=True)
