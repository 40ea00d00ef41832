"""Nearly empty: measures a profiler's fixed start-up and shutdown cost.

It sleeps 0.2 s so that profilers that attach to a running process (py-spy)
have time to attach; the harness reports median(profiler) - median(plain).
"""
import time

time.sleep(0.2)
