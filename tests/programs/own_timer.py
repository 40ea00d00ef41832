"""A program with its own timer signals and blocking I/O: both must keep
working under the profiler.  Exits 0 only if everything behaved."""
import select
import signal
import socket
import sys
import threading
import time

ticks = {"alarm": 0, "prof": 0}


def on_alarm(signum, frame):
    ticks["alarm"] += 1


def on_prof(signum, frame):
    ticks["prof"] += 1


def busy(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1  # BUSY
    return x


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGPROF, on_prof)
    signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
    signal.setitimer(signal.ITIMER_PROF, 0.01, 0.01)
    busy(0.6)
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_PROF, 0)

    # Blocking I/O while a busy thread keeps the sampler going.
    a, b = socket.socketpair()
    worker = threading.Thread(target=busy, args=(0.6,))
    worker.start()

    def late_send():
        time.sleep(0.3)
        b.sendall(b"x" * 100000)

    sender = threading.Thread(target=late_send)
    sender.start()
    got = b""
    while len(got) < 100000:
        chunk = a.recv(65536)  # BLOCKING-RECV
        if not chunk:
            break
        got += chunk
    r, _, _ = select.select([a], [], [], 0.2)
    sender.join()
    worker.join()
    ok = ticks["alarm"] >= 20 and ticks["prof"] >= 10 and len(got) == 100000 and r == []
    print("alarm=%d prof=%d got=%d select=%r" % (ticks["alarm"], ticks["prof"], len(got), r))
    sys.exit(0 if ok else 4)


if __name__ == "__main__":
    main()
