import time

end = time.monotonic() + 0.4
x = 0
while time.monotonic() < end:
    x += 1  # CHILD-WORK
