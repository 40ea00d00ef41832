"""The programmatic API, as in Scalene::

    from scalene import scalene_profiler

    scalene_profiler.start()
    ...                                # profiled
    scalene_profiler.stop()

    with scalene_profiler.enable_profiling():
        ...                            # profiled

Under ``scalene run`` (usually with ``--off``) these switch the running
profiler; the profile is written when the program ends.  In a plain
``python3`` process they profile in-process: the code under the script's
directory (or the current directory) is reported, and the profile is written
to ``scalene-profile.json`` at ``stop()`` (and at exit if still running).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from . import api

__all__ = ["start", "stop", "enable_profiling", "is_running"]


def start() -> None:
    """Start (or resume) profiling."""
    session = api.session()
    if session is None:
        session = api.in_process_session()
    session.start()


def stop() -> None:
    """Stop profiling.  Outside ``scalene run`` this also writes the profile."""
    session = api.session()
    if session is not None:
        session.stop()


def is_running() -> bool:
    session = api.session()
    return bool(session is not None and session.running)


@contextmanager
def enable_profiling() -> Iterator[None]:
    """Profile the body of a ``with`` block."""
    start()
    try:
        yield
    finally:
        stop()
