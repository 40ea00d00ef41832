"""Terminal report of a profile (``scalene view --cli``).

Pure standard library.  The layout follows the existing Scalene's terminal
report: per file, a header with the file's share of the time, a table of
source lines (Line | Time Python, native, system | [await] | [Memory Python,
peak, timeline/%, Copy (MB/s)] | [GPU %, mem] | source), a function summary
with the same columns, and possible memory leaks.  A memory-usage sparkline
heads the report when memory profiling was on.

Entry points:

* :func:`render` writes the report of a profile dict to a stream.
* :func:`render_to_string` returns it as a string.
* :func:`view_file` loads a profile file and renders it, printing
  ``scalene: error: ...`` for a bad file; returns an exit status.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
import unicodedata
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

from scalene.profile_io import (
    ProfileError,
    line_is_active,
    load_profile,
    normalize,
    profile_has_data,
    why_empty,
)

__all__ = [
    "render",
    "render_to_string",
    "view_file",
    "sparkline",
    "downsample",
    "HOT_PERCENT",
    "SPARK_POINTS_FILE",
    "SPARK_POINTS_LINE",
    "DEFAULT_WIDTH",
]

#: A line whose Python + native + system share reaches this is highlighted.
HOT_PERCENT = 33.0
#: Points in the memory-usage sparkline of the whole program.
SPARK_POINTS_FILE = 27
#: Points in a line's memory timeline.
SPARK_POINTS_LINE = 9
#: Report width when it cannot be found out from the terminal.
DEFAULT_WIDTH = 132
#: The source column is never narrower than this (the table overflows instead).
MIN_SOURCE_WIDTH = 12

GENERIC_EMPTY = (
    "the program did not run long enough for any sample to be taken, or none "
    "of its files were selected for profiling (try a longer run, or "
    "--profile-all / --profile-only)"
)

# ANSI SGR parameters.
_STYLE = {
    "title": "1",
    "dim": "2",
    "hot": "1;31",
    "cpu": "34",
    "await": "36",
    "mem": "32",
    "copy": "33",
    "gpu": "33",
    "leak": "1;33",
}


class _Glyphs:
    def __init__(self, unicode_ok: bool) -> None:
        if unicode_ok:
            self.bar = "\u2502"         # │
            self.rule = "\u2501"        # ━
            self.cross = "\u253f"       # ┿
            self.ellipsis = "\u2026"    # …
            self.gap = "\u22ee"         # ⋮
            self.bars = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
            self.bad = "\ufffd"
        else:
            self.bar = "|"
            self.rule = "="
            self.cross = "+"
            self.ellipsis = "~"
            self.gap = ":"
            self.bars = "_.-:=+*#"
            self.bad = "?"


# Control characters, C1 controls, line/paragraph separators and bidi
# overrides must never reach the terminal from a source line or a file name.
def _ctrl_table(repl: str) -> Dict[int, str]:
    table: Dict[int, str] = {}
    for o in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0)):
        table[o] = repl
    for o in (0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
              0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C, 0xFEFF):
        table[o] = repl
    return table


_CTRL_UNICODE = _ctrl_table("\ufffd")
_CTRL_ASCII = _ctrl_table("?")


# --------------------------------------------------------------------------
# Text helpers

def _char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    o = ord(ch)
    if o == 0x200B or 0xFE00 <= o <= 0xFE0F:
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(s: str) -> int:
    """Number of terminal columns ``s`` takes."""
    if s.isascii():
        return len(s)
    return sum(_char_width(ch) for ch in s)


def _fit(s: str, width: int, ellipsis: str) -> Tuple[str, int]:
    """``s`` cut to at most ``width`` columns (ending with ``ellipsis`` if
    cut), and the number of columns the result takes."""
    if width <= 0:
        return "", 0
    if s.isascii():
        if len(s) <= width:
            return s, len(s)
        return s[: width - 1] + ellipsis, width
    w = text_width(s)
    if w <= width:
        return s, w
    out: List[str] = []
    used = 0
    for ch in s:
        cw = _char_width(ch)
        if used + cw > width - 1:
            break
        out.append(ch)
        used += cw
    return "".join(out) + ellipsis, used + 1


def _truncate(s: str, width: int, ellipsis: str) -> str:
    """Cut ``s`` to at most ``width`` columns, ending with ``ellipsis``."""
    return _fit(s, width, ellipsis)[0]


def _truncate_left(s: str, width: int, ellipsis: str) -> str:
    """Cut ``s`` from the left (keeps the end of a long path)."""
    if text_width(s) <= width:
        return s
    if width <= 1:
        return ellipsis[:width]
    out: List[str] = []
    used = 0
    for ch in reversed(s):
        w = _char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return ellipsis + "".join(reversed(out))


def _pad(s: str, width: int, right: bool) -> str:
    gap = width - text_width(s)
    if gap <= 0:
        return s
    return (" " * gap + s) if right else (s + " " * gap)


def _clean_source(text: str, table: Dict[int, str]) -> str:
    text = text.rstrip("\r\n")
    if "\t" in text:
        text = text.expandtabs(4)
    return text.translate(table)


# --------------------------------------------------------------------------
# Number formatting

def _fmt_pct(v: float) -> str:
    return "" if v < 1 else f"{v:.0f}%"


def _fmt_frac(v: float) -> str:
    return "" if v < 0.01 else f"{v * 100:.0f}%"


def _fmt_mb_cell(mb: float) -> str:
    """Compact MB for a table cell: 512K, 3.5M, 120M, 1.5G, 2.0T."""
    if mb <= 0:
        return ""
    if mb >= 1024 * 1024:
        return f"{mb / (1024 * 1024):.1f}T"
    if mb >= 1024:
        return f"{mb / 1024:.1f}G"
    if mb >= 9.95:
        return f"{mb:.0f}M"
    if mb >= 0.9995:
        return f"{mb:.1f}M"
    kb = mb * 1024
    return f"{kb:.0f}K" if kb >= 0.5 else "<1K"


def _fmt_mb(mb: float) -> str:
    """Memory for a sentence: 123.45 MB, 1.50 GB."""
    if mb >= 1024 * 1024:
        return f"{mb / (1024 * 1024):.2f} TB"
    if mb >= 1024:
        return f"{mb / 1024:.2f} GB"
    return f"{mb:.2f} MB"


def _fmt_time(secs: float) -> str:
    """1.234s, 12.345ms, 2m:3.456s, 1h:2m:3.456s."""
    if secs < 0:
        secs = 0.0
    if secs < 1:
        return f"{secs * 1000:.3f}ms"
    secs = round(secs, 3)
    if secs < 60:
        return f"{secs:.3f}s"
    minutes, s = divmod(secs, 60)
    if minutes < 60:
        return f"{int(minutes)}m:{s:.3f}s"
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h:{minutes}m:{s:.3f}s"


def _fmt_copy(v: float) -> str:
    return "" if v < 0.5 else f"{v:.0f}"


# --------------------------------------------------------------------------
# Sparklines

def downsample(values: Sequence[float], points: int) -> List[float]:
    """At most ``points`` values: the maximum of each of ``points`` equal runs.

    Deterministic, keeps the order and never hides a peak.
    """
    n = len(values)
    if n <= points:
        return list(values)
    out = []
    for i in range(points):
        lo = i * n // points
        hi = (i + 1) * n // points
        out.append(max(values[lo:hi]))
    return out


def sparkline(values: Sequence[float], top: Optional[float] = None,
              bars: str = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588") -> str:
    """Bars from 0 to ``top`` (default: the largest value); "" if all zero."""
    if not values:
        return ""
    vals = [v if v > 0 else 0.0 for v in values]
    biggest = max(vals)
    if biggest <= 0:
        return ""
    if top is None or not top > 0 or biggest > top:
        top = biggest
    nb = len(bars)
    return "".join(bars[min(nb - 1, int(v / top * nb))] for v in vals)


def _points_values(points: Sequence[Sequence[float]], scale: float = 1.0) -> List[float]:
    pts = points
    if any(pts[i][0] > pts[i + 1][0] for i in range(len(pts) - 1)):
        pts = sorted(pts, key=lambda p: p[0])
    return [p[1] * scale for p in pts]


# --------------------------------------------------------------------------
# Table model

class _Col:
    __slots__ = ("key", "group", "label", "min_width", "style", "right")

    def __init__(self, key: str, group: str, label: str, min_width: int,
                 style: str, right: bool = True) -> None:
        self.key = key
        self.group = group
        self.label = label
        self.min_width = min_width
        self.style = style
        self.right = right


def _columns(memory: bool, gpu: bool, show_await: bool) -> List[_Col]:
    cols = [
        _Col("lineno", "", "Line", 4, "dim"),
        _Col("py", "Time", "Python", 6, "cpu"),
        _Col("c", "Time", "native", 6, "cpu"),
        _Col("sys", "Time", "system", 6, "cpu"),
    ]
    if show_await:
        cols.append(_Col("await", "Async", "await", 6, "await"))
    if memory:
        cols += [
            _Col("mpy", "Memory", "Python", 6, "mem"),
            _Col("peak", "Memory", "peak", 6, "mem"),
            _Col("timeline", "Memory", "timeline/%", 14, "mem", right=False),
            _Col("copy", "Copy", "(MB/s)", 6, "copy"),
        ]
    if gpu:
        cols += [
            _Col("gpu", "GPU", "%", 5, "gpu"),
            _Col("gpumem", "GPU", "mem", 6, "gpu"),
        ]
    return cols


_CPU_KEYS = ("py", "c", "sys")

# A row: (cells, source, hot) or None for a gap ("lines skipped").
_Row = Optional[Tuple[List[str], str, bool]]


class _Ctx:
    """Everything one rendering needs."""

    def __init__(self, profile: Dict[str, Any], color: bool, width: int,
                 unicode_ok: bool, reduced: bool) -> None:
        self.profile = profile
        self.color = color
        self.width = width
        self.g = _Glyphs(unicode_ok)
        self.ctrl = _CTRL_UNICODE if unicode_ok else _CTRL_ASCII
        self.reduced = reduced
        self.memory = bool(profile.get("memory"))
        self.gpu = bool(profile.get("gpu"))
        self.max_footprint = float(profile.get("max_footprint_mb") or 0.0)
        self.show_await = bool(profile.get("async_profile")) and any(
            e.get("n_async_await_percent", 0) > 0
            for d in profile["files"].values()
            for kind in ("lines", "functions")
            for e in d[kind]
        )
        self.cols = _columns(self.memory, self.gpu, self.show_await)

    def style(self, text: str, name: str) -> str:
        if not self.color or not text or not name:
            return text
        return f"\x1b[{_STYLE[name]}m{text}\x1b[0m"

    def cells(self, e: Dict[str, Any]) -> Tuple[List[str], bool]:
        py = e["n_cpu_percent_python"]
        c = e["n_cpu_percent_c"]
        sy = e["n_sys_percent"]
        hot = (py + c + sy) >= HOT_PERCENT
        vals = [str(e["lineno"]), _fmt_pct(py), _fmt_pct(c), _fmt_pct(sy)]
        if self.show_await:
            vals.append(_fmt_pct(e["n_async_await_percent"]))
        if self.memory:
            usage = e["n_usage_fraction"]
            peak = e["n_peak_mb"]
            spark = ""
            samples = e["memory_samples"]
            if samples and usage > 0:
                spark = sparkline(
                    downsample(_points_values(samples, usage), SPARK_POINTS_LINE),
                    self.max_footprint, self.g.bars)
            pct = _fmt_frac(usage)
            timeline = (spark.ljust(SPARK_POINTS_LINE) + " " + pct.rjust(4)) if (spark or pct) else ""
            vals += [
                _fmt_frac(e["n_python_fraction"]) if (peak > 0 or usage > 0) else "",
                _fmt_mb_cell(peak),
                timeline.rstrip(),
                _fmt_copy(e["n_copy_mb_s"]),
            ]
        if self.gpu:
            vals += [_fmt_pct(e["n_gpu_percent"]), _fmt_mb_cell(e["n_gpu_peak_memory_mb"])]
        return vals, hot

    def rows(self, entries: List[Dict[str, Any]], functions: bool) -> List[_Row]:
        if not functions and any(
                entries[i]["lineno"] > entries[i + 1]["lineno"] for i in range(len(entries) - 1)):
            entries = sorted(entries, key=lambda x: x["lineno"])
        rows: List[_Row] = []
        prev = None
        ctrl = self.ctrl
        for e in entries:
            if self.reduced and not line_is_active(e):
                continue
            n = e["lineno"]
            if not functions and prev is not None and n > prev + 1:
                rows.append(None)
            prev = n
            vals, hot = self.cells(e)
            text = e["line"]
            if functions:
                text = text.strip()
            rows.append((vals, _clean_source(text, ctrl), hot))
        return rows

    def table(self, rows: List[_Row], source_header: str) -> List[str]:
        """Lay out the rows; returns the lines of the table."""
        cols = self.cols
        g = self.g
        ncols = len(cols)
        widths = [max(c.min_width, len(c.label)) for c in cols]
        for r in rows:
            if r is None:
                continue
            vals = r[0]
            for i in range(ncols):
                lv = len(vals[i])
                if lv > widths[i]:
                    widths[i] = lv
        # Groups of adjacent columns sharing a heading.
        groups: List[Tuple[str, int, int]] = []  # (label, first, last)
        for i, c in enumerate(cols):
            if groups and groups[-1][0] == c.group and c.group:
                groups[-1] = (c.group, groups[-1][1], i)
            else:
                groups.append((c.group, i, i))
        for label, a, b in groups:
            span = sum(widths[a:b + 1]) + (b - a)
            if len(label) > span:
                widths[b] += len(label) - span
        gwidth = [sum(widths[a:b + 1]) + (b - a) for _, a, b in groups]
        sep = f" {g.bar} "
        fixed = sum(gwidth) + len(sep) * len(groups)
        src_width = max(MIN_SOURCE_WIDTH, self.width - fixed)

        header_src = _truncate_left(source_header, src_width, g.ellipsis)
        texts: List[str] = []
        longest = text_width(header_src)
        for r in rows:
            if r is None:
                texts.append("")
                continue
            t, w = _fit(r[1], src_width, g.ellipsis)
            texts.append(t)
            if w > longest:
                longest = w

        st = self.style
        bar = st(g.bar, "dim") if self.color else g.bar
        sep_c = f" {bar} "
        out: List[str] = []
        # Heading: group labels, then column labels.
        top = sep_c.join(st(label.center(w), "title") if label.strip() else " " * w
                         for (label, _, _), w in zip(groups, gwidth))
        out.append((top + sep_c).rstrip())
        labels = []
        for label, a, b in groups:
            labels.append(" ".join(
                st(_pad(cols[i].label, widths[i], cols[i].right), "title")
                for i in range(a, b + 1)))
        out.append(sep_c.join(labels) + sep_c + st(header_src, "title"))
        rule_mid = g.rule + g.cross + g.rule
        out.append(st(rule_mid.join(g.rule * w for w in gwidth) + rule_mid
                      + g.rule * max(1, min(src_width, longest)), "dim"))
        # Body.
        color = self.color
        gap_cells = [""] * ncols
        gap_cells[0] = "..." if g.gap == ":" else g.gap
        for r, text in zip(rows, texts):
            if r is None:
                vals, hot = gap_cells, False
            else:
                vals, _, hot = r
            parts = []
            for label, a, b in groups:
                cells = []
                for i in range(a, b + 1):
                    v = vals[i]
                    col = cols[i]
                    # Cells hold only single-column characters: len() is their width.
                    cell = v.rjust(widths[i]) if col.right else v.ljust(widths[i])
                    if color and v:
                        name = "hot" if (hot and col.key in _CPU_KEYS) else col.style
                        cell = st(cell, name)
                    cells.append(cell)
                parts.append(" ".join(cells))
            if r is not None and hot and color:
                text = st(text, "hot")
            line = sep_c.join(parts) + sep_c + text
            out.append(line.rstrip() if not color else line)
        return out


# --------------------------------------------------------------------------
# Rendering

def _want_color(out: Any, color: Optional[bool]) -> bool:
    if color is not None:
        return bool(color)
    if "NO_COLOR" in os.environ:
        return False
    if os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return bool(out.isatty())
    except Exception:
        return False


def _width_for(out: Any, column_width: Optional[int]) -> int:
    if column_width:
        return int(column_width)
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if out.isatty():
            cols = os.get_terminal_size(out.fileno()).columns
            if cols > 0:
                return cols
    except Exception:
        pass
    return DEFAULT_WIDTH


def _encoding_of(out: Any) -> Tuple[bool, Optional[str]]:
    """(can print box-drawing and block characters, encoding needing care)."""
    enc = getattr(out, "encoding", None)
    if not enc or not isinstance(enc, str):
        return True, None
    try:
        name = codecs.lookup(enc).name
    except LookupError:
        return False, "ascii"
    if name.startswith("utf"):
        return True, None
    try:
        "\u2502\u2501\u253f\u2026\u22ee\u2581\u2588\ufffd".encode(enc)
        return True, enc
    except UnicodeEncodeError:
        return False, enc


def _file_title(fname: str, detail: Dict[str, Any], elapsed: float) -> str:
    pct = detail["percent_cpu_time"]
    return (f"{fname}: % of time = {pct:.2f}% ({_fmt_time(pct / 100.0 * elapsed)}) "
            f"out of {_fmt_time(elapsed)}.")


def _memory_header(ctx: _Ctx) -> str:
    p = ctx.profile
    values = _points_values(p["samples"]) if p["samples"] else []
    spark = sparkline(downsample(values, SPARK_POINTS_FILE), ctx.max_footprint or None,
                      ctx.g.bars)
    growth = p.get("growth_rate", 0.0)
    text = "Memory usage: "
    if spark:
        text += ctx.style(spark, "mem") + " "
    return text + f"(max: {_fmt_mb(ctx.max_footprint)}, growth rate: {growth:.1f}%)"


def _leak_lines(ctx: _Ctx, leaks: Dict[str, Dict[str, float]]) -> List[str]:
    items = []
    for key, v in leaks.items():
        try:
            n = int(key)
        except ValueError:
            continue
        items.append((n, v.get("likelihood", 0.0), v.get("velocity_mb_s", 0.0)))
    items.sort(key=lambda t: (-t[1], t[0]))
    return [ctx.style(
        f"Possible memory leak identified at line {n} (estimated likelihood: "
        f"{lk * 100:.0f}%, velocity: {vel:.2f} MB/s)", "leak") for n, lk, vel in items]


def _render_lines(profile: Dict[str, Any], reduced: bool, color: bool, width: int,
                  unicode_ok: bool) -> List[str]:
    if not profile["files"] or not profile_has_data(profile):
        reason = why_empty(profile) or GENERIC_EMPTY
        reason = reason.rstrip(".").translate(_CTRL_UNICODE if unicode_ok else _CTRL_ASCII)
        return [f"No profile data to show: {reason}."]
    ctx = _Ctx(profile, color, width, unicode_ok, reduced)
    out: List[str] = []
    if ctx.memory:
        out.append(_memory_header(ctx))
        out.append("")
    elapsed = float(profile["elapsed_time_sec"])
    for fname, detail in profile["files"].items():
        shown = fname.translate(ctx.ctrl)
        out.append(ctx.style(_file_title(shown, detail, elapsed), "title"))
        lines = detail["lines"]
        rows = ctx.rows(lines, functions=False)
        if not lines:
            out.append("  (no line-level data for this file)")
        elif not rows:
            out.append("  (no line reached the reporting thresholds)")
        else:
            out.extend(ctx.table(rows, shown))
        funcs = detail["functions"]
        if funcs:
            frows = ctx.rows(funcs, functions=True)
            if frows:
                out.append("")
                out.append(ctx.style(f"function summary for {shown}", "title"))
                out.extend(ctx.table(frows, "function"))
        if detail["leaks"]:
            out.append("")
            out.extend(_leak_lines(ctx, detail["leaks"]))
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return out


def render(profile: Dict[str, Any], out: Optional[TextIO] = None, reduced: bool = False,
           color: Optional[bool] = None, column_width: Optional[int] = None) -> None:
    """Write the terminal report of ``profile`` to ``out`` (default stdout).

    ``reduced``: only lines (and functions) with activity: a CPU share of at
    least 1 %, or any memory, copy, GPU or await value.  ``color``: ANSI
    colours on/off; ``None`` means on only if ``out`` is a terminal, the
    ``NO_COLOR`` environment variable is unset and ``TERM`` is not ``dumb``.
    ``column_width``: width to fit the table to (long source lines are
    truncated); default: ``$COLUMNS``, else the terminal's width, else 132.
    """
    if out is None:
        out = sys.stdout
    prof = normalize(profile)
    use_color = _want_color(out, color)
    width = _width_for(out, column_width)
    unicode_ok, enc = _encoding_of(out)
    text = "\n".join(_render_lines(prof, reduced, use_color, width, unicode_ok)) + "\n"
    if enc is not None:
        text = text.encode(enc, "replace").decode(enc)
    out.write(text)
    try:
        out.flush()
    except Exception:
        pass


def render_to_string(profile: Dict[str, Any], reduced: bool = False, color: bool = False,
                     column_width: Optional[int] = DEFAULT_WIDTH) -> str:
    """The report as a string (no colour and 132 columns unless asked)."""
    buf = io.StringIO()
    render(profile, out=buf, reduced=reduced, color=color, column_width=column_width)
    return buf.getvalue()


def view_file(path: str, reduced: bool = False, out: Optional[TextIO] = None,
              err: Optional[TextIO] = None, color: Optional[bool] = None,
              column_width: Optional[int] = None) -> int:
    """Load ``path`` and render it; for ``scalene view --cli``.

    Returns 0, or 1 after printing ``scalene: error: <reason>`` (one line) to
    ``err`` (default stderr) when the file cannot be used.
    """
    if err is None:
        err = sys.stderr
    try:
        profile = load_profile(path)
    except ProfileError as e:
        err.write(f"scalene: error: {e}\n")
        return 1
    try:
        render(profile, out=out, reduced=reduced, color=color, column_width=column_width)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, (out or sys.stdout).fileno())
        except Exception:
            pass
    return 0
