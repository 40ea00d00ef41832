"""A numpy line allocating 400 MB (native buffers) and a line building
Python lists (Python objects)."""
import numpy as np


def native():
    a = np.ones(50 * 1024 * 1024)  # NUMPY-400MB
    return float(a.sum())


def python_lists():
    rows = [[i, i + 1, i + 2] for i in range(1_500_000)]  # PY-LISTS
    return len(rows)


native()
python_lists()
