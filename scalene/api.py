"""The session that ``scalene run`` (or the programmatic API) is driving.

``scalene_profiler.start()/stop()`` and ``@profile`` reach the running
profiler through here.
"""

from __future__ import annotations

from typing import Optional

_current = None  # the Profiler of this process, if any


def _attach(profiler) -> None:  # type: ignore[no-untyped-def]
    global _current
    _current = profiler


def current():  # type: ignore[no-untyped-def]
    return _current
