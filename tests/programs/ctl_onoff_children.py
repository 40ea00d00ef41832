"""Background on/off reaching child processes: two workers started with the
start method named on the command line burn CPU until told to stop."""
import multiprocessing
import os
import sys
import time


def worker(flag):
    x = 0
    while not os.path.exists(flag + ".stop"):
        for i in range(20000):
            x += i * i  # WORKER-LOOP
    return x


def main():
    flag, method = sys.argv[1], sys.argv[2]
    print("READY", flush=True)
    while not os.path.exists(flag + ".start"):
        time.sleep(0.01)
    ctx = multiprocessing.get_context(method)
    workers = [ctx.Process(target=worker, args=(flag,)) for _ in range(2)]
    for w in workers:
        w.start()
    print("STARTED", flush=True)
    while not os.path.exists(flag + ".stop"):
        time.sleep(0.05)  # PARENT-WAIT
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
