"""Ground truth: busy for a while, then asleep for as long."""
import sys
import time


def busy(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:  # BUSY-LOOP
        x += 1
    return x


def main(seconds):
    busy(seconds)
    time.sleep(seconds)  # SLEEP-LINE


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
