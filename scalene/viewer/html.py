"""Generate the self-contained HTML viewer page for a scalene profile.

The page is one file: the CSS and JavaScript from ``assets/`` are inlined, the
profile is embedded as JSON in a ``<script type="application/json">`` element
and syntax highlighting is precomputed here with Pygments (as compact token
runs that the page turns into ``<span>`` elements with ``textContent``).
Nothing in the page refers to the network.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import secrets
import tempfile
from importlib import resources
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["write_html", "render_html", "embed_json", "highlight_file", "TOKEN_CLASSES"]

# Token classes understood by viewer.js / viewer.css (index 0 = plain text).
TOKEN_CLASSES = ["", "k", "s", "c", "m", "nf", "nc", "nb", "d", "ow", "sd", "bp", "kc", "o"]

# Profile keys that the page never uses and that can be very large.
_DROPPED_LINE_KEYS = (
    "cpu_samples_list",
    "start_outermost_loop",
    "end_outermost_loop",
    "start_function_line",
    "end_function_line",
)
_DROPPED_TOP_KEYS = ("combined_stacks", "combined_stacks_timeline")  # the flame chart reads "stacks"
# Keys kept even when empty.
_KEEP_KEYS = ("line", "lineno")

_ESCAPES_EXISTING = (("\\u0026", "&"), ("\\u003c", "<"), ("\\u003e", ">"))


def _read_asset(name: str) -> str:
    try:
        return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")
    except AttributeError:  # Python < 3.9 style fallback
        here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", name)
        with open(here, encoding="utf-8") as f:
            return f.read()


def is_own_format(profile: Dict[str, Any]) -> bool:
    """True for profiles written by this project's engine (real characters in ``line``)."""
    prof = profile.get("profiler")
    return isinstance(prof, dict) and str(prof.get("name", "")).startswith("scalene-c")


def unescape_line(text: str) -> str:
    """Undo the existing Scalene's literal ``\\u0026``/``\\u003c``/``\\u003e`` text escapes."""
    if "\\u00" not in text:
        return text
    for src, dst in _ESCAPES_EXISTING:
        text = text.replace(src, dst)
    return text


def _finite(obj: Any) -> Any:
    """Replace NaN/inf (not valid JSON) by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def embed_json(obj: Any) -> str:
    """JSON text safe to place inside a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc. so no ``</script>``
    or ``<!--`` can appear; the output is pure ASCII so U+2028/U+2029 are
    escaped too. NaN/Infinity become ``null``.
    """
    try:
        text = json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_finite(obj), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # ensure_ascii already escapes these; keep the guarantee explicit.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


@functools.lru_cache(maxsize=None)
def _token_class(ttype: Any) -> int:
    """Map a Pygments token type to an index in TOKEN_CLASSES."""
    from pygments import token as T

    if ttype in T.String.Doc:
        return 10
    if ttype in T.Comment:
        return 3
    if ttype in T.String:
        return 2
    if ttype in T.Keyword.Constant:
        return 12
    if ttype in T.Keyword:
        return 1
    if ttype in T.Operator.Word:
        return 9
    if ttype in T.Number:
        return 4
    if ttype in T.Name.Function or ttype in T.Name.Function.Magic:
        return 5
    if ttype in T.Name.Class:
        return 6
    if ttype in T.Name.Builtin.Pseudo:
        return 11
    if ttype in T.Name.Builtin or ttype in T.Name.Exception:
        return 7
    if ttype in T.Name.Decorator:
        return 8
    return 0


def _lex(text: str) -> List[Tuple[int, str]]:
    from pygments.lexers import PythonLexer

    lexer = PythonLexer(stripnl=False, stripall=False, ensurenl=False, tabsize=0)
    return [(_token_class(tt), val) for tt, val in lexer.get_tokens(text)]


def highlight_file(texts: List[str], contiguous: bool = True) -> Optional[List[List[int]]]:
    """Token runs for each source line: flat ``[class, length, class, length, ...]``.

    Lengths are in UTF-16 code units (what JavaScript's ``String.slice`` uses);
    runs cover the line text without its trailing newline; an empty list means
    "plain text". Returns None when Pygments is not available.
    """
    try:
        import pygments  # noqa: F401
    except ImportError:
        return None
    stripped = [t.rstrip("\r\n") for t in texts]
    if contiguous:
        chunks = [stripped]
    else:
        chunks = [[t] for t in stripped]
    out: List[List[int]] = []
    for chunk in chunks:
        src = "\n".join(chunk) + "\n"
        try:
            toks = _lex(src)
        except Exception:  # pragma: no cover - pygments never should, but be safe
            out.extend([] for _ in chunk)
            continue
        lines: List[List[int]] = [[]]
        for cls, val in toks:
            parts = val.split("\n")
            for i, part in enumerate(parts):
                if i:
                    lines.append([])
                if not part:
                    continue
                runs = lines[-1]
                n = _utf16_len(part)
                if runs and runs[-2] == cls:
                    runs[-1] += n
                else:
                    runs.extend((cls, n))
        lines = lines[: len(chunk)]
        while len(lines) < len(chunk):
            lines.append([])
        # A line that is entirely plain text needs no runs.
        for runs in lines:
            out.append([] if len(runs) == 2 and runs[0] == 0 else runs)
    return out


def _is_empty(v: Any) -> bool:
    return v is None or v is False or (isinstance(v, (int, float)) and v == 0) or v == [] or v == {}


def _compact(entry: Dict[str, Any]) -> Dict[str, Any]:
    """Copy of a line/function entry without unused or empty metrics.

    The page treats a missing metric as 0, so zero values need not be embedded
    (this keeps pages of large, mostly idle files small).
    """
    out = {
        k: v
        for k, v in entry.items()
        if k not in _DROPPED_LINE_KEYS and (k in _KEEP_KEYS or not _is_empty(v))
    }
    # A one-line region is the default; only keep real (multi-line) regions.
    if out.get("start_region_line") == out.get("end_region_line"):
        out.pop("start_region_line", None)
        out.pop("end_region_line", None)
    return out


def _prepare(profile: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Return (data to embed, highlighting runs keyed by file name)."""
    if not isinstance(profile, dict):
        raise TypeError("profile must be a dict (the parsed scalene-profile.json)")
    own = is_own_format(profile)
    data: Dict[str, Any] = {k: v for k, v in profile.items() if k not in _DROPPED_TOP_KEYS}
    files_in = profile.get("files") or {}
    files_out: Dict[str, Any] = {}
    hl: Dict[str, Any] = {}
    if isinstance(files_in, dict):
        for fname, detail in files_in.items():
            if not isinstance(detail, dict):
                continue
            d = dict(detail)
            new_lines = []
            for ln in detail.get("lines") or []:
                if not isinstance(ln, dict):
                    continue
                ln2 = _compact(ln)
                text = ln2.get("line")
                if not isinstance(text, str):
                    text = "" if text is None else str(text)
                ln2["line"] = text if own else unescape_line(text)
                new_lines.append(ln2)
            d["lines"] = new_lines
            funcs = []
            for fn in detail.get("functions") or []:
                if isinstance(fn, dict):
                    fn2 = _compact(fn)
                    if isinstance(fn2.get("line"), str) and not own:
                        fn2["line"] = unescape_line(fn2["line"])
                    funcs.append(fn2)
            d["functions"] = funcs
            files_out[str(fname)] = d
            linenos = [ln.get("lineno") for ln in new_lines]
            contiguous = all(isinstance(n, int) for n in linenos) and linenos == list(
                range(linenos[0], linenos[0] + len(linenos))
            ) if linenos else True
            runs = highlight_file([ln["line"] for ln in new_lines], contiguous)
            if runs is not None:
                hl[str(fname)] = runs
    data["files"] = files_out
    # JavaScript objects put integer-like keys first; keep the profile's file order.
    data["_viewer_file_order"] = list(files_out)
    # Tell the page the text is already unescaped.
    data["_viewer_unescaped"] = True
    return data, hl


def render_html(profile: Dict[str, Any]) -> str:
    """Return the complete HTML page for ``profile`` as a string."""
    data, hl = _prepare(profile)
    template = _read_asset("template.html")
    css = _read_asset("viewer.css")
    js = _read_asset("viewer.js")
    program = str(profile.get("program") or "")
    title = "Scalene profile" + (": " + os.path.basename(program) if program else "")
    from html import escape

    try:
        from scalene import __version__ as version
    except Exception:  # pragma: no cover
        version = ""
    # Guard against a literal "</script" or "</style" in our own assets.
    for name, text in (("viewer.js", js), ("viewer.css", css)):
        if "</script" in text.lower() or "</style" in text.lower():
            raise ValueError(f"asset {name} must not contain a closing script/style tag")
    replacements = {
        "{{TITLE}}": escape(title, quote=True),
        "{{VERSION}}": escape(str(version), quote=True),
        "{{CSS}}": css,
        "{{PROFILE_JSON}}": embed_json(data),
        "{{HIGHLIGHT_JSON}}": embed_json({"classes": TOKEN_CLASSES, "files": hl}),
        "{{JS}}": js,
        "{{NONCE}}": secrets.token_urlsafe(18),
    }
    # Single pass so that text inserted for one placeholder is never rescanned.
    pattern = re.compile("|".join(re.escape(k) for k in replacements))
    return pattern.sub(lambda m: replacements[m.group(0)], template)


def write_html(profile: Dict[str, Any], out_path: str, standalone: bool = True) -> str:
    """Write the viewer page for ``profile`` to ``out_path`` and return the path.

    The page is always a single self-contained file (CSS, JavaScript, data
    inlined; no network use), so ``standalone`` is accepted for API
    compatibility and both values produce the same offline file.
    """
    del standalone  # both modes produce the same self-contained page
    page = render_html(profile)
    out_path = os.fspath(out_path)
    directory = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".scalene-viewer-", suffix=".html", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out_path
