"""Most of the time in this file, most of the memory in mem_helper.py."""
import time

import mem_helper

mem_helper.allocate()
end = time.monotonic() + 0.6
while time.monotonic() < end:
    pass  # SPIN
