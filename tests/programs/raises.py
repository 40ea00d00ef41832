import time


def work():
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        pass  # WORK
    raise ValueError("the program's own error")


work()
