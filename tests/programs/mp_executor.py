"""ProcessPoolExecutor, with the start method set by the program itself."""
import concurrent.futures
import multiprocessing as mp
import sys
import time


def work(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1  # EXECUTOR-WORK
    return x


def killed_child():
    end = time.monotonic() + 5
    while time.monotonic() < end:
        pass  # KILLED-WORK


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        list(ex.map(work, [0.3, 0.3]))
    p = mp.Process(target=killed_child)
    p.start()
    time.sleep(0.5)
    p.kill()
    p.join()
    print("exitcode", p.exitcode)
