import sys
import time

end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass  # WORK
sys.exit(3)
