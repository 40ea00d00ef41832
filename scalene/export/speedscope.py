"""speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json).

One ``sampled`` profile; each distinct stack is one sample (frame indices,
outermost first) weighted by its sampled time in seconds (``weight="time"``,
the default) or by its sample count (``weight="samples"``, unit ``none``).
Frames are shared as ``{name: qualname, file, line}``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

from . import ExportError, Frame, collect_stacks, stack_seconds, total_sampled_sec

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"


def _exporter() -> str:
    try:
        from scalene import __version__
    except Exception:  # pragma: no cover - defensive
        __version__ = "unknown"
    return "scalene@%s" % __version__


def _default_name(profile: Dict[str, Any]) -> str:
    program = profile.get("program") or profile.get("filename") or ""
    if isinstance(program, str) and program:
        base = os.path.basename(program.rstrip("/\\")) or program
        return "scalene: %s" % base
    return "scalene profile"


def to_speedscope(
    profile: Dict[str, Any], name: Optional[str] = None, weight: str = "time"
) -> str:
    """Render the profile's stacks as a speedscope JSON document (str)."""
    if weight not in ("samples", "time"):
        raise ExportError("unknown speedscope weight %r (choose samples or time)" % (weight,))
    records = collect_stacks(profile)
    unit = "seconds"
    values: List[float]
    if weight == "time":
        values = stack_seconds(records, total_sampled_sec(profile))
        if not any(v > 0 for v in values):  # no time information: fall back
            weight = "samples"
    if weight == "samples":
        unit = "none"
        values = [float(r.count) for r in records]

    frame_index: Dict[Frame, int] = {}
    frames: List[Dict[str, Any]] = []
    rows: List[Tuple[List[int], float]] = []
    for rec, value in zip(records, values):
        if value <= 0:
            continue
        stack: List[int] = []
        for f in rec.frames:
            idx = frame_index.get(f)
            if idx is None:
                idx = len(frames)
                frame_index[f] = idx
                entry: Dict[str, Any] = {"name": f.qualname}
                if f.file:
                    entry["file"] = f.file
                if f.line > 0:
                    entry["line"] = f.line
                frames.append(entry)
            stack.append(idx)
        rows.append((stack, value))
    if not rows:
        raise ExportError(
            "the profile's stacks carry no samples to export; re-run the profiler with --stacks"
        )

    # Order samples like a flame graph (by frame names, outermost first) so
    # speedscope's time-order view groups common prefixes together.
    def sort_key(row: Tuple[List[int], float]) -> List[Tuple[str, str, int]]:
        return [
            (frames[i]["name"], frames[i].get("file", ""), frames[i].get("line", 0))
            for i in row[0]
        ]

    rows.sort(key=sort_key)
    if unit == "seconds":
        weights: List[Any] = [round(v, 9) for _, v in rows]
    else:
        weights = [int(v) for _, v in rows]
    end_value = sum(weights)
    if unit == "seconds":
        end_value = round(end_value, 9)
    title = name if name else _default_name(profile)
    doc = {
        "$schema": SCHEMA_URL,
        "exporter": _exporter(),
        "name": title,
        "activeProfileIndex": 0,
        "profiles": [
            {
                "type": "sampled",
                "name": title,
                "unit": unit,
                "startValue": 0,
                "endValue": end_value,
                "samples": [s for s, _ in rows],
                "weights": weights,
            }
        ],
        "shared": {"frames": frames},
    }
    return json.dumps(doc, separators=(",", ":")) + "\n"
