"""scalene_profiler.start()/stop() and enable_profiling(); argv[1] == "no-stop"
starts and never stops (the profile is written at exit)."""
import sys

from scalene import scalene_profiler


def outside(n):
    x = 0
    for i in range(n):
        x += i  # OUTSIDE
    return x


def inside(n):
    x = 0
    for i in range(n):
        x += i * 3  # INSIDE
    return x


outside(800_000)
scalene_profiler.start()
inside(800_000)
if len(sys.argv) > 1 and sys.argv[1] == "no-stop":
    sys.exit(0)
scalene_profiler.stop()
outside(800_000)
with scalene_profiler.enable_profiling():
    inside(800_000)
outside(800_000)
print("done", flush=True)
