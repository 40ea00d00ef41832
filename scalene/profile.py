"""Switch profiling on or off in a running ``scalene run`` process::

    scalene run --off prog.py &
    python3 -m scalene.profile --on --pid PID     # start profiling
    python3 -m scalene.profile --off --pid PID    # stop, and write the profile so far

It sends a real-time signal (SIGRTMIN+4 for on, SIGRTMIN+5 for off) that the
profiled process handles.  A process that does not handle them is not being
profiled by scalene: it is left alone (the default action of those signals
would kill it).  The process passes the signal on to its profiled child
processes, and at "off" waits briefly for what they sampled so far, so that
the profile it writes includes their work.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import List, Optional

PROG = "python3 -m scalene.profile"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print("scalene.profile: error: %s (see `%s --help`)" % (message, PROG), file=sys.stderr)
        raise SystemExit(2)


def _handled_signals(pid: int) -> Optional[int]:
    """The process's caught-signal mask from /proc, or None if unknown."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _fail(message: str) -> int:
    print("scalene.profile: error: %s" % message, file=sys.stderr)
    return 1


def main(argv: Optional[List[str]] = None) -> int:
    p = _Parser(prog=PROG, description="Turn profiling on or off in a process started with "
                "`scalene run` (for example `scalene run --off prog.py &`). Turning it off writes "
                "the profile collected so far to the process's -o file.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--on", action="store_true", help="start profiling")
    which.add_argument("--off", action="store_true", help="stop profiling and write the profile so far")
    p.add_argument("--pid", required=True, metavar="PID", help="the process id of the profiled program")
    ns = p.parse_args(argv)
    try:
        pid = int(ns.pid, 10)
    except ValueError:
        return _fail("--pid %r is not a process id" % ns.pid)
    if pid <= 0:
        return _fail("--pid %d is not a process id (it must be greater than 0)" % pid)
    if not hasattr(signal, "SIGRTMIN"):
        return _fail("switching profiling on and off needs real-time signals (Linux)")
    from .api import off_signal, on_signal

    signo = on_signal() if ns.on else off_signal()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return _fail("no process with id %d" % pid)
    except PermissionError:
        return _fail("not allowed to signal process %d (it belongs to another user)" % pid)
    mask = _handled_signals(pid)
    if mask is not None and not (mask >> (signo - 1)) & 1:
        return _fail("process %d is not being profiled by scalene (it does not handle scalene's on/off "
                     "signals); start it with `scalene run --off prog.py`" % pid)
    try:
        os.kill(pid, signo)
    except ProcessLookupError:
        return _fail("no process with id %d" % pid)
    except PermissionError:
        return _fail("not allowed to signal process %d" % pid)
    if ns.on:
        print("scalene.profile: asked process %d to start profiling" % pid, file=sys.stderr)
    else:
        print("scalene.profile: asked process %d to stop profiling and write its profile" % pid, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
