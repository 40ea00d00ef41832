"""Flame-graph exports of a scalene profile (collapsed stacks, speedscope, pprof).

All exporters read the ``stacks`` key of the profile JSON (see
``docs/profile-format.md``) and are pure Python with no dependencies.
See ``docs/exports.md`` for the formats and the choices made.

Public API::

    to_collapsed(profile, weight="samples") -> str
    to_speedscope(profile, name=None, weight="time") -> str
    to_pprof(profile) -> bytes                      # gzipped profile.proto
    write_export(profile, kind, out_path) -> str    # kind: collapsed|speedscope|pprof

Every function raises :class:`ExportError` (one-line message) when the
profile holds no stacks.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, List, NamedTuple, Tuple, Union


class ExportError(Exception):
    """An export could not be produced; ``str(err)`` is a one-line message."""


NO_STACKS_MESSAGE = (
    "the profile has no call stacks to export: it was recorded with --no-stacks, "
    "or too briefly to take samples; re-run with --stacks (the default) for longer"
)


class Frame(NamedTuple):
    """One Python frame of a stack: where execution was."""

    file: str
    qualname: str
    line: int


class StackRecord(NamedTuple):
    """One distinct stack with its merged statistics.

    ``frames`` is outermost first.  ``time_fraction`` is the stack's share of
    all sampled time (``cpu_samples``, or the sum of the per-kind fractions
    when that is absent).  ``python``/``native``/``system`` are the stack's
    per-kind fractions as written in the profile (not necessarily on the same
    scale as ``time_fraction`` in profiles of the existing tool: use their
    proportions only).
    """

    frames: Tuple[Frame, ...]
    count: int
    time_fraction: float
    python: float
    native: float
    system: float


def parse_frame(text: str) -> Frame:
    """Parse ``"<file> <qualname>:<line>;"`` into a :class:`Frame`.

    The file path may contain spaces, the qualname does not.  Malformed
    strings degrade gracefully: a missing or non-numeric line becomes 0 and a
    string without a space is taken as a bare qualname.
    """
    s = str(text).rstrip(";")
    head, sep, tail = s.rpartition(":")
    line = 0
    if sep:
        try:
            line = int(tail.strip())
            s = head
        except ValueError:
            line = 0
    file, sep, qualname = s.rpartition(" ")
    if not sep:
        file, qualname = "", s
    if not qualname:
        qualname = "<unknown>"
    return Frame(file, qualname, max(line, 0))


def _num(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    if x != x or x in (float("inf"), float("-inf")) or x < 0:
        return 0.0
    return x


def _accumulate(merged: Dict[Tuple[Frame, ...], List[float]], frames: Tuple[Frame, ...],
                *values: float) -> None:
    acc = merged.setdefault(frames, [0.0, 0.0, 0.0, 0.0, 0.0])
    for i, v in enumerate(values):
        acc[i] += v


def collect_stacks(profile: Any) -> List[StackRecord]:
    """Return the profile's stacks parsed and merged by identical frames.

    Entries that are malformed or carry no weight at all are skipped; order
    is that of first appearance.  A stack's ``native_leaves`` (the C
    functions its native samples were in) become stacks one frame deeper,
    that frame being ``Frame(library, function, 0)``.  Raises :class:`ExportError` when nothing
    remains.
    """
    if not isinstance(profile, dict):
        raise ExportError("not a scalene profile (expected a JSON object)")
    raw = profile.get("stacks")
    if not raw or not isinstance(raw, list):
        raise ExportError(NO_STACKS_MESSAGE)
    merged: Dict[Tuple[Frame, ...], List[float]] = {}
    for entry in raw:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            continue
        frames_raw, stats = entry
        if not isinstance(frames_raw, (list, tuple)) or not frames_raw:
            continue
        if not isinstance(stats, dict):
            stats = {"count": stats}
        frames = tuple(parse_frame(f) for f in frames_raw)
        count = _num(stats.get("count", 0))
        py = _num(stats.get("python_time", 0))
        c = _num(stats.get("c_time", 0))
        sy = _num(stats.get("sys_time", 0))
        if "cpu_samples" in stats:
            frac = _num(stats.get("cpu_samples"))
        else:
            frac = py + c + sy
        # The C functions that native samples of this stack were running
        # become leaf frames (file = the library, line 0) that take their
        # share of its samples and native time.
        leaves = stats.get("native_leaves")
        for leaf in leaves if isinstance(leaves, list) else ():
            if not isinstance(leaf, dict):
                continue
            lc, lt = _num(leaf.get("count", 0)), _num(leaf.get("c_time", 0))
            if lc <= 0 and lt <= 0:
                continue
            native = Frame(str(leaf.get("module") or ""), str(leaf.get("symbol") or "<native>"), 0)
            _accumulate(merged, frames + (native,), lc, lt, 0.0, lt, 0.0)
            count, frac, c = max(count - lc, 0.0), max(frac - lt, 0.0), max(c - lt, 0.0)
        if count <= 0 and frac <= 0:
            continue
        _accumulate(merged, frames, count, frac, py, c, sy)
    if not merged:
        raise ExportError(NO_STACKS_MESSAGE)
    return [
        StackRecord(k, int(round(v[0])), v[1], v[2], v[3], v[4])
        for k, v in merged.items()
    ]


def total_sampled_sec(profile: Dict[str, Any]) -> float:
    """Seconds of sampled thread time the profile's fractions refer to.

    ``profiler.total_sampled_sec`` (ours) when present and positive, else
    ``elapsed_time_sec``, else 0.
    """
    prof = profile.get("profiler")
    if isinstance(prof, dict):
        t = _num(prof.get("total_sampled_sec"))
        if t > 0:
            return t
    return _num(profile.get("elapsed_time_sec"))


def stack_seconds(records: List[StackRecord], total_sec: float) -> List[float]:
    """Seconds attributed to each stack.

    ``time_fraction * total_sec``; when the profile has no usable time
    (all fractions or the total are 0) the total is split by sample count.
    """
    if total_sec > 0 and any(r.time_fraction > 0 for r in records):
        return [r.time_fraction * total_sec for r in records]
    n = sum(r.count for r in records)
    if total_sec > 0 and n > 0:
        return [total_sec * r.count / n for r in records]
    return [0.0 for _ in records]


def short_path(file: str, profile: Dict[str, Any]) -> str:
    """``file`` relative to the program's directory when it lies inside it."""
    base = profile.get("entrypoint_dir") or ""
    if isinstance(base, str) and base.rstrip("/\\") and file:
        prefix = base.rstrip("/\\") + os.sep
        if file.startswith(prefix) and len(file) > len(prefix):
            return file[len(prefix):]
    return file


def write_export(profile: Dict[str, Any], kind: str, out_path: str) -> str:
    """Write export ``kind`` ("collapsed", "speedscope" or "pprof") to
    ``out_path`` atomically and return ``out_path``."""
    data: Union[str, bytes]
    if kind == "collapsed":
        data = to_collapsed(profile)
    elif kind == "speedscope":
        data = to_speedscope(profile)
    elif kind == "pprof":
        data = to_pprof(profile)
    else:
        raise ExportError(
            "unknown export kind %r (choose collapsed, speedscope or pprof)" % (kind,)
        )
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = os.path.dirname(os.path.abspath(out_path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".scalene-export-", dir=directory)
    except OSError as e:
        raise ExportError("cannot write %s: %s" % (out_path, e.strerror or e)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ExportError("cannot write %s: %s" % (out_path, e.strerror or e)) from None
    return out_path


from .collapsed import to_collapsed  # noqa: E402
from .pprof import to_pprof  # noqa: E402
from .speedscope import to_speedscope  # noqa: E402

__all__ = [
    "ExportError",
    "to_collapsed",
    "to_speedscope",
    "to_pprof",
    "write_export",
]
