"""Runs until a signal ends it; says 'ready' once it has been busy a while."""
import sys
import time

start = time.monotonic()
said = False
x = 0
while True:
    x += 1  # SPIN
    if not said and time.monotonic() - start > 0.4:
        print("ready", flush=True)
        said = True
