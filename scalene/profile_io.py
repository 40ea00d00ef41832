"""Loading, validating and normalising a profile JSON file.

The format is described in ``docs/profile-format.md``.  Profiles written by
this project and by the existing Scalene (2.x) are both accepted; the only
differences that matter to a reader are handled here:

* the existing Scalene has no ``profiler`` key, and it writes ``&``, ``<`` and
  ``>`` in source lines as the literal six-character texts ``\\u0026``,
  ``\\u003c`` and ``\\u003e`` (its GUI unescapes them); :func:`normalize`
  turns them back into the characters for such profiles.
* older writers leave out keys that were added later; :func:`normalize` fills
  every optional key with a default so that renderers can index freely.

Every problem with the file is reported as a :class:`ProfileError` whose text
is a single line, meant to be printed as ``scalene: error: <message>``.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Optional

__all__ = [
    "ProfileError",
    "load_profile",
    "validate_profile",
    "normalize",
    "is_scalene_c_profile",
    "line_is_active",
    "profile_has_data",
    "LINE_NUMERIC_DEFAULTS",
]


class ProfileError(Exception):
    """A profile file is missing, unreadable or malformed.

    ``str(err)`` is always exactly one line (no newlines or other control
    characters), suitable for ``print(f"scalene: error: {err}")``.
    """

    def __init__(self, message: str) -> None:
        message = _one_line(str(message))
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------
# Defaults

# Numeric per-line / per-function metrics and their defaults.
LINE_NUMERIC_DEFAULTS: Dict[str, float] = {
    "n_cpu_percent_python": 0.0,
    "n_cpu_percent_c": 0.0,
    "n_sys_percent": 0.0,
    "n_core_utilization": 0.0,
    "n_gpu_percent": 0.0,
    "n_gpu_avg_memory_mb": 0.0,
    "n_gpu_peak_memory_mb": 0.0,
    "n_malloc_mb": 0.0,
    "n_mallocs": 0,
    "n_avg_mb": 0.0,
    "n_peak_mb": 0.0,
    "n_growth_mb": 0.0,
    "n_usage_fraction": 0.0,
    "n_python_fraction": 0.0,
    "n_copy_mb_s": 0.0,
    "n_async_await_percent": 0.0,
    "n_async_concurrency_mean": 0.0,
    "n_async_concurrency_peak": 0.0,
}

_REGION_KEYS = (
    "start_region_line",
    "end_region_line",
    "start_outermost_loop",
    "end_outermost_loop",
    "start_function_line",
    "end_function_line",
)

_TOP_NUMERIC_DEFAULTS: Dict[str, float] = {
    "elapsed_time_sec": 0.0,
    "start_time_absolute": 0.0,
    "start_time_perf": 0.0,
    "alloc_samples": 0,
    "growth_rate": 0.0,
    "max_footprint_mb": 0.0,
    "max_footprint_python_fraction": 0.0,
    "native_allocations_mb": 0.0,
    "main_thread_id": 0,
}

_TOP_OTHER_DEFAULTS: Dict[str, Any] = {
    "program": "",
    "entrypoint_dir": "",
    "filename": "",
    "max_footprint_fname": None,
    "max_footprint_lineno": None,
    "gpu": False,
    "gpu_device": "",
    "memory": False,
    "async_profile": False,
}

_TOP_LIST_KEYS = (
    "args",
    "samples",
    "stacks",
    "memory_stacks",
    "combined_stacks",
    "combined_stacks_timeline",
)

_PROFILER_DEFAULTS: Dict[str, Any] = {
    "name": None,
    "version": None,
    "python": None,
    "cpu_mode": None,
    "cpu_sampling_rate": None,
    "cpu_samples": None,
    "dropped_samples": None,
    "dropped_code_names": None,
    "dropped_memory_samples": None,
    "threads_seen": None,
    "why_empty": None,
}

_ESCAPES = (("\\u0026", "&"), ("\\u003c", "<"), ("\\u003e", ">"))


# --------------------------------------------------------------------------
# Small helpers

def _one_line(text: str) -> str:
    """Collapse ``text`` to one printable line."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch in "\r\n\t":
            out.append(" ")
        elif o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0:
            out.append("\\x%02x" % o)
        elif 0x2028 <= o <= 0x2029 or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return "".join(out).strip()


def _show_path(path: str, limit: int = 300) -> str:
    s = _one_line(path)
    if len(s) > limit:
        s = "..." + s[-(limit - 3):]
    return s


def _show_key(key: Any, limit: int = 120) -> str:
    s = json.dumps(key, ensure_ascii=False) if isinstance(key, str) else repr(key)
    if len(s) > limit:
        s = s[: limit - 4] + '..."'
    return s


_NUMT = (int, float)
_FAST_OK = (int, float, type(None))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _finite(v: Any, default: float = 0.0) -> Any:
    """``v`` if it is a finite number, else ``default``."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return default
    if isinstance(v, float) and not math.isfinite(v):
        return default
    return v


def is_scalene_c_profile(profile: Dict[str, Any]) -> bool:
    """True if ``profile`` was written by this project's engine.

    The existing Scalene writes no ``profiler`` object; ours always has one
    with a ``name``.
    """
    prof = profile.get("profiler")
    return isinstance(prof, dict) and bool(prof.get("name"))


# --------------------------------------------------------------------------
# Loading

def load_profile(path: str) -> Dict[str, Any]:
    """Read, validate and normalise the profile at ``path``.

    Returns the normalised profile (see :func:`normalize`).  Raises
    :class:`ProfileError` with a one-line message for every problem with the
    file: missing, a directory, unreadable, empty, not UTF-8, truncated or
    invalid JSON, not a profile, or key fields of the wrong type.
    """
    if path is None or (isinstance(path, str) and path == ""):
        raise ProfileError("no profile file given")
    path = os.fspath(path)
    shown = _show_path(str(path))
    try:
        if os.path.isdir(path):
            raise ProfileError(f"{shown} is a directory, not a profile file")
        with open(path, "rb") as f:
            data = f.read()
    except ProfileError:
        raise
    except FileNotFoundError:
        raise ProfileError(
            f"profile file not found: {shown} "
            "(create one with: scalene run your_program.py)"
        ) from None
    except IsADirectoryError:
        raise ProfileError(f"{shown} is a directory, not a profile file") from None
    except PermissionError:
        raise ProfileError(f"cannot read {shown}: permission denied") from None
    except OSError as e:
        reason = e.strerror or e.__class__.__name__
        raise ProfileError(f"cannot read {shown}: {reason}") from None
    return parse_profile(data, shown)


def parse_profile(data: Any, name: str = "<profile>") -> Dict[str, Any]:
    """Validate and normalise a profile given as bytes or text.

    ``name`` is used in error messages.
    """
    if isinstance(data, (bytes, bytearray)):
        if not data.strip():
            raise ProfileError(f"{name} is empty (0 bytes of profile data)"
                               if not data else f"{name} is empty (only whitespace)")
        if data[:2] == b"\x1f\x8b":
            raise ProfileError(
                f"{name} is not a scalene profile (it is gzip-compressed; decompress it first)")
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ProfileError(
                f"{name} is not a scalene profile (not UTF-8 text: invalid byte at offset {e.start})"
            ) from None
    else:
        text = str(data)
    if not text.strip():
        raise ProfileError(f"{name} is empty")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        hint = ""
        head = text.lstrip()[:64].lower()
        if head.startswith("<"):
            hint = "; it looks like HTML or XML, not a JSON profile"
        elif e.pos >= len(text.rstrip()):
            hint = "; the file ends too early"
        raise ProfileError(
            f"{name} is truncated or not valid JSON: {e.msg} at line {e.lineno} "
            f"column {e.colno} (char {e.pos}){hint}"
        ) from None
    except RecursionError:
        raise ProfileError(f"{name} is not valid JSON (nested too deeply)") from None
    except ValueError as e:  # e.g. an integer with too many digits
        raise ProfileError(f"{name} is not valid JSON ({e})") from None
    validate_profile(obj, name)
    return normalize(obj)


# --------------------------------------------------------------------------
# Validation

def _bad(name: str, where: str, expected: str, value: Any) -> ProfileError:
    return ProfileError(
        f"{name} is not a valid scalene profile: {where} should be {expected}, "
        f"but is {_type_name(value)}"
    )


def _check_entry(entry: Any, where: str, name: str, kind: str) -> None:
    if not isinstance(entry, dict):
        raise _bad(name, where, "an object", entry)
    lineno = entry.get("lineno")
    if isinstance(lineno, bool) or not isinstance(lineno, int):
        raise _bad(name, where + ".lineno", "an integer", lineno)
    text = entry.get("line")
    if not isinstance(text, str):
        raise _bad(name, where + ".line",
                   "a string (the source text)" if kind == "lines"
                   else "a string (the function name)", text)
    get = entry.get
    for key in LINE_NUMERIC_DEFAULTS:
        v = get(key)
        if type(v) not in _FAST_OK and not _is_number(v):
            raise _bad(name, f"{where}.{key}", "a number", v)
    v = entry.get("memory_samples")
    if v is not None and not isinstance(v, list):
        raise _bad(name, where + ".memory_samples", "a list", v)


def validate_profile(obj: Any, name: str = "<profile>") -> None:
    """Raise :class:`ProfileError` unless ``obj`` has the shape of a profile.

    Checks the types of the key fields only; unknown keys are ignored and
    missing optional keys are left for :func:`normalize`.
    """
    if not isinstance(obj, dict):
        raise ProfileError(
            f"{name} is not a scalene profile (the top level is {_type_name(obj)}, "
            "expected an object with 'files' and 'elapsed_time_sec')"
        )
    missing = [k for k in ("files", "elapsed_time_sec") if k not in obj]
    if missing:
        raise ProfileError(
            f"{name} is not a scalene profile (no {' or '.join(repr(k) for k in missing)} key)"
        )
    files = obj["files"]
    if not isinstance(files, dict):
        raise _bad(name, "'files'", "an object mapping file names to details", files)
    if not _is_number(obj["elapsed_time_sec"]):
        raise _bad(name, "'elapsed_time_sec'", "a number", obj["elapsed_time_sec"])
    for key in _TOP_NUMERIC_DEFAULTS:
        v = obj.get(key)
        if v is not None and not _is_number(v):
            raise _bad(name, repr(key), "a number", v)
    for key in ("memory", "gpu", "async_profile"):
        v = obj.get(key)
        if v is not None and not isinstance(v, (bool, int)):
            raise _bad(name, repr(key), "true or false", v)
    for key in _TOP_LIST_KEYS:
        v = obj.get(key)
        if v is not None and not isinstance(v, list):
            raise _bad(name, repr(key), "a list", v)
    for key in ("program", "gpu_device"):
        v = obj.get(key)
        if v is not None and not isinstance(v, str):
            raise _bad(name, repr(key), "a string", v)
    prof = obj.get("profiler")
    if prof is not None:
        if not isinstance(prof, dict):
            raise _bad(name, "'profiler'", "an object", prof)
        why = prof.get("why_empty")
        if why is not None and not isinstance(why, str):
            raise _bad(name, "'profiler'.why_empty", "a string or null", why)

    for fname, detail in files.items():
        fw = f"files[{_show_key(fname)}]"
        if not isinstance(detail, dict):
            raise _bad(name, fw, "an object", detail)
        pct = detail.get("percent_cpu_time")
        if pct is not None and not _is_number(pct):
            raise _bad(name, fw + ".percent_cpu_time", "a number", pct)
        for kind in ("lines", "functions"):
            entries = detail.get(kind)
            if entries is None:
                continue
            if not isinstance(entries, list):
                raise _bad(name, f"{fw}.{kind}", "a list", entries)
            for i, entry in enumerate(entries):
                _check_entry(entry, f"{fw}.{kind}[{i}]", name, kind)
        leaks = detail.get("leaks")
        if leaks is None:
            continue
        if isinstance(leaks, dict):
            for lk, lv in leaks.items():
                lw = f"{fw}.leaks[{_show_key(lk)}]"
                try:
                    int(lk)
                except (TypeError, ValueError):
                    raise ProfileError(
                        f"{name} is not a valid scalene profile: {fw}.leaks has the key "
                        f"{_show_key(lk)}, which is not a line number") from None
                if not isinstance(lv, dict):
                    raise _bad(name, lw, "an object", lv)
                for k in ("likelihood", "velocity_mb_s"):
                    v = lv.get(k)
                    if v is not None and not _is_number(v):
                        raise _bad(name, f"{lw}.{k}", "a number", v)
        elif isinstance(leaks, list):
            # Very old writers: a list of [lineno, likelihood, velocity].
            for i, lv in enumerate(leaks):
                if not (isinstance(lv, list) and len(lv) >= 2
                        and all(_is_number(x) for x in lv[:3])):
                    raise _bad(name, f"{fw}.leaks[{i}]",
                               "a list [line, likelihood, velocity]", lv)
        else:
            raise _bad(name, fw + ".leaks", "an object", leaks)


# --------------------------------------------------------------------------
# Normalisation

def _unescape(text: str) -> str:
    if "\\u00" in text:
        for src, dst in _ESCAPES:
            text = text.replace(src, dst)
    return text


def _norm_points(points: Any) -> List[List[float]]:
    """Keep only well-formed ``[t, value]`` pairs of finite numbers.

    A list that is already well formed is returned as it is (not copied).
    """
    if not isinstance(points, list):
        return []
    # Fast path: every point is a list of two plain numbers.
    for p in points:
        if (type(p) is not list or len(p) != 2 or type(p[0]) not in _NUMT
                or type(p[1]) not in _NUMT):
            break
    else:
        total = 0.0
        for t, v in points:
            total += t * 0.0 + v * 0.0
        if total == 0.0:  # a NaN or an infinity would have made it NaN
            return points
    out = []
    for p in points:
        if isinstance(p, (list, tuple)) and len(p) >= 2:
            t, v = p[0], p[1]
            if _is_number(t) and _is_number(v):
                t = float(t)
                v = float(v)
                if math.isfinite(t) and math.isfinite(v):
                    out.append([t, v])
    return out


def _norm_entry(entry: Dict[str, Any], unescape: bool, is_line: bool) -> Dict[str, Any]:
    e = dict(entry)
    get = e.get
    for key, default in LINE_NUMERIC_DEFAULTS.items():
        v = get(key)
        t = type(v)
        if t is float:
            if v - v != 0.0:  # NaN or infinity
                e[key] = default
        elif t is not int:
            if _is_number(v) and math.isfinite(v):
                e[key] = v + 0  # a subclass of int/float: plain number
            else:
                e[key] = default
    lineno = e.get("lineno")
    if isinstance(lineno, bool) or not isinstance(lineno, int):
        lineno = int(_finite(lineno, 0))
        e["lineno"] = lineno
    text = e.get("line")
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if unescape and is_line:
        text = _unescape(text)
    e["line"] = text
    ms = e.get("memory_samples")
    e["memory_samples"] = _norm_points(ms) if ms else []
    if not isinstance(e.get("cpu_samples_list"), list):
        e["cpu_samples_list"] = []
    if not isinstance(e.get("async_task_names"), list):
        e["async_task_names"] = []
    e["is_coroutine"] = bool(e.get("is_coroutine", False))
    if is_line:
        for key in _REGION_KEYS:
            v = e.get(key)
            if isinstance(v, bool) or not isinstance(v, int):
                e[key] = 0 if "function" in key else lineno
    return e


def _norm_leaks(leaks: Any) -> Dict[str, Dict[str, float]]:
    out: Dict[str, Dict[str, float]] = {}
    if isinstance(leaks, dict):
        for k, v in leaks.items():
            try:
                key = str(int(k))
            except (TypeError, ValueError):
                continue
            if not isinstance(v, dict):
                continue
            out[key] = {
                "likelihood": float(_finite(v.get("likelihood"), 0.0)),
                "velocity_mb_s": float(_finite(v.get("velocity_mb_s"), 0.0)),
            }
    elif isinstance(leaks, list):
        for v in leaks:
            if isinstance(v, (list, tuple)) and len(v) >= 2:
                try:
                    key = str(int(_finite(v[0], 0)))
                except (TypeError, ValueError, OverflowError):
                    continue
                out[key] = {
                    "likelihood": float(_finite(v[1], 0.0)),
                    "velocity_mb_s": float(_finite(v[2], 0.0)) if len(v) > 2 else 0.0,
                }
    return out


def normalize(profile: Dict[str, Any]) -> Dict[str, Any]:
    """Return a copy of ``profile`` with every optional key filled in.

    After this, renderers can rely on: all top-level keys of the format
    (``profiler`` included, as an object with all its keys), each file's
    ``functions``, ``imports``, ``leaks`` (``{"<lineno>": {likelihood,
    velocity_mb_s}}``), ``lines`` and ``percent_cpu_time``, and every metric
    of each line / function entry (numbers, finite; lists as lists).  Source
    lines of existing-Scalene profiles are unescaped (``\\u0026`` -> ``&``
    etc.).  Idempotent; the input is not modified.  Entries that are not
    objects are dropped.
    """
    if not isinstance(profile, dict):
        raise ProfileError("not a scalene profile (expected an object)")
    out: Dict[str, Any] = dict(profile)
    unescape = not is_scalene_c_profile(profile)
    for key, default in _TOP_NUMERIC_DEFAULTS.items():
        out[key] = _finite(out.get(key), default)
    for key, default in _TOP_OTHER_DEFAULTS.items():
        if out.get(key) is None:
            out[key] = default
    for key in ("gpu", "memory", "async_profile"):
        out[key] = bool(out[key])
    for key in _TOP_LIST_KEYS:
        if not isinstance(out.get(key), list):
            out[key] = []
    out["samples"] = _norm_points(out["samples"])
    prof = profile.get("profiler")
    prof_out = dict(_PROFILER_DEFAULTS)
    if isinstance(prof, dict):
        prof_out.update(prof)
    out["profiler"] = prof_out

    files_in = profile.get("files")
    files: Dict[str, Any] = {}
    if isinstance(files_in, dict):
        for fname, detail in files_in.items():
            if not isinstance(detail, dict):
                continue
            d = dict(detail)
            d["percent_cpu_time"] = _finite(d.get("percent_cpu_time"), 0.0)
            lines = d.get("lines")
            d["lines"] = [
                _norm_entry(x, unescape, True)
                for x in (lines if isinstance(lines, list) else [])
                if isinstance(x, dict)
            ]
            funcs = d.get("functions")
            d["functions"] = [
                _norm_entry(x, unescape, False)
                for x in (funcs if isinstance(funcs, list) else [])
                if isinstance(x, dict)
            ]
            imports = d.get("imports")
            d["imports"] = [str(x) for x in imports] if isinstance(imports, list) else []
            d["leaks"] = _norm_leaks(d.get("leaks"))
            files[str(fname)] = d
    out["files"] = files
    return out


# --------------------------------------------------------------------------
# Queries shared by renderers

def line_is_active(entry: Dict[str, Any], cpu_threshold: float = 1.0) -> bool:
    """Whether a (normalised) line or function entry had activity.

    Activity means any CPU share (Python, native or system) of at least
    ``cpu_threshold`` percent, or any memory, copy, GPU or await value above 0.
    """
    get = entry.get
    if (get("n_cpu_percent_python", 0) >= cpu_threshold
            or get("n_cpu_percent_c", 0) >= cpu_threshold
            or get("n_sys_percent", 0) >= cpu_threshold):
        return True
    for key in ("n_malloc_mb", "n_peak_mb", "n_usage_fraction", "n_copy_mb_s",
                "n_gpu_percent", "n_gpu_peak_memory_mb", "n_async_await_percent"):
        if get(key, 0) > 0:
            return True
    return False


def profile_has_data(profile: Dict[str, Any]) -> bool:
    """Whether a (normalised) profile has anything worth showing."""
    for detail in profile.get("files", {}).values():
        if detail.get("percent_cpu_time", 0) > 0:
            return True
        if detail.get("leaks"):
            return True
        for kind in ("lines", "functions"):
            for e in detail.get(kind, ()):
                if line_is_active(e, cpu_threshold=1e-12):
                    return True
    return False


def why_empty(profile: Dict[str, Any]) -> Optional[str]:
    """The engine's explanation of an empty profile, if it gave one."""
    prof = profile.get("profiler")
    if isinstance(prof, dict):
        why = prof.get("why_empty")
        if isinstance(why, str) and why.strip():
            return why.strip()
    return None
