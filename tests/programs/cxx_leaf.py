"""A line whose time is inside C++ code: numpy's stable sort of doubles is
a C++ template (timsort), whose symbols are mangled in the binary."""
import sys

import numpy as np

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
a = np.random.default_rng(1).random(3_000_000)
for _ in range(rounds):
    b = np.sort(a, kind="stable")  # CXX-LINE
