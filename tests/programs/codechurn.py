"""Code objects that die young while being sampled: exec'd code, lambdas,
modules imported and dropped.  Must not crash; its lines must be sane."""
import importlib
import os
import sys
import tempfile
import time


def churn(seconds):
    tmp = tempfile.mkdtemp()
    sys.path.insert(0, tmp)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        src = "def f(n):\n    s = 0\n    for k in range(n):\n        s += k * %d\n    return s\nr = f(2000)\n" % i
        exec(compile(src, "<churn-%d>" % i, "exec"), {})  # EXEC
        g = (lambda n: sum(j * i for j in range(n)))  # LAMBDA
        g(500)
        name = "churnmod_%d" % i
        with open(os.path.join(tmp, name + ".py"), "w") as f:
            f.write("X = sum(range(3000))\n")
        importlib.invalidate_caches()
        importlib.import_module(name)
        del sys.modules[name]
    return i


if __name__ == "__main__":
    print(churn(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5))
