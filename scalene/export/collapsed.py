"""Collapsed ("folded") stacks, the input format of flamegraph.pl and inferno.

One line per distinct stack::

    <module> (prog.py:30);main (prog.py:22);work (prog.py:9) 42

Frames are outermost first, separated by ``;``; the weight follows the last
space.  A frame is named ``qualname (file:line)`` where ``file`` is relative
to the program's directory when it lies inside it (absolute otherwise) and
``:line`` is omitted when the line is unknown.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

from . import ExportError, Frame, collect_stacks, short_path, stack_seconds, total_sampled_sec

_UNSAFE = re.compile(r"[;\x00-\x1f\x7f]")


def sanitize(name: str) -> str:
    """Make ``name`` safe as one folded frame: no ``;``, no line breaks or
    other control characters, not empty, no leading/trailing blanks."""
    cleaned = _UNSAFE.sub(lambda m: "," if m.group() == ";" else " ", name).strip()
    return cleaned or "<unknown>"


def frame_label(frame: Frame, profile: Dict[str, Any], include_line: bool = True) -> str:
    """Readable, sanitised name of one frame: ``qualname (file:line)``."""
    file = short_path(frame.file, profile)
    where = file
    if include_line and frame.line > 0:
        where = "%s:%d" % (file, frame.line) if file else "line %d" % frame.line
    label = "%s (%s)" % (frame.qualname, where) if where else frame.qualname
    return sanitize(label)


def to_collapsed(
    profile: Dict[str, Any], weight: str = "samples", include_line: bool = True
) -> str:
    """Render the profile's stacks in the folded format.

    ``weight="samples"`` (default) weighs each stack by its sample count;
    ``weight="time"`` by its sampled time in integer microseconds.  Stacks
    whose names coincide after formatting are merged; zero-weight lines are
    dropped; lines are sorted.  Returns "" + lines each ending in ``\\n``.
    """
    if weight not in ("samples", "time"):
        raise ExportError("unknown collapsed weight %r (choose samples or time)" % (weight,))
    records = collect_stacks(profile)
    if weight == "samples":
        values: List[int] = [r.count for r in records]
    else:
        secs = stack_seconds(records, total_sampled_sec(profile))
        values = [int(round(s * 1e6)) for s in secs]
    folded: Dict[Tuple[str, ...], int] = {}
    for rec, value in zip(records, values):
        key = tuple(frame_label(f, profile, include_line) for f in rec.frames)
        folded[key] = folded.get(key, 0) + value
    lines = [";".join(k) + " %d\n" % v for k, v in folded.items() if v > 0]
    if not lines:
        raise ExportError(
            "the profile's stacks carry no %s to export; re-run the profiler with --stacks"
            % ("samples" if weight == "samples" else "time")
        )
    lines.sort()
    return "".join(lines)
