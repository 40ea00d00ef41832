"""The program runs another Python program with subprocess and forks."""
import os
import subprocess
import sys
import time

CHILD = """
import time
end = time.monotonic() + 0.4
x = 0
while time.monotonic() < end:
    x += 1  # CHILD-WORK
"""


def spin(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1  # FORK-WORK
    return x


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    child = os.path.join(here, "mp_child_script.py")
    subprocess.run([sys.executable, child], check=True)
    pid = os.fork()
    if pid == 0:
        spin(0.4)
        os._exit(0)
    os.waitpid(pid, 0)
    print("done")


if __name__ == "__main__":
    main()
