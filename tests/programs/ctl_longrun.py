"""A long-running 'server': busy until the flag file argv[1] appears."""
import os
import sys


def serve(flag):
    x = 0
    while not os.path.exists(flag):
        for i in range(5000):
            x += i  # SERVE
    return x


print("serving", flush=True)
serve(sys.argv[1])
