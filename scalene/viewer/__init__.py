"""The scalene web viewer: a single self-contained HTML page per profile.

Public API (used by the CLI):

* ``write_html(profile, out_path, standalone=True) -> str``
* ``open_in_browser(path) -> bool``
"""

from __future__ import annotations

import os
import sys
import webbrowser
from pathlib import Path

from .html import render_html, write_html

__all__ = ["write_html", "render_html", "open_in_browser"]

# Browsers that cannot run the page's JavaScript: treated as "no browser".
_TEXT_BROWSERS = {"lynx", "w3m", "links", "elinks", "links2", "www-browser", "browsh", "netrik"}

# Variables the profiler may have set that must not leak into the browser process.
_PRELOAD_VARS = ("LD_PRELOAD", "DYLD_INSERT_LIBRARIES")


def _browser_name(browser: object) -> str:
    name = getattr(browser, "name", "") or ""
    if not name:
        args = getattr(browser, "args", None)
        if args:
            name = args[0]
    if not name:
        name = type(browser).__name__
    return os.path.basename(str(name)).lower()


def _is_text_browser(name: str) -> bool:
    base = name.split()[0] if name.split() else name
    base = os.path.basename(base).lower()
    return base in _TEXT_BROWSERS or any(base.startswith(t) for t in ("lynx", "w3m", "elinks"))


def open_in_browser(path: str) -> bool:
    """Open ``path`` in the default graphical browser.

    Returns False (without raising) when there is no usable browser: on Linux
    without ``DISPLAY``/``WAYLAND_DISPLAY``, when the default is a text browser
    (lynx, w3m, links, elinks), or when launching fails. The caller then prints
    the path instead.
    """
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    env_browser = os.environ.get("BROWSER", "")
    if env_browser and all(_is_text_browser(b) for b in env_browser.split(os.pathsep) if b):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    except Exception:
        return False
    if _is_text_browser(_browser_name(browser)):
        return False
    try:
        url = Path(os.fspath(path)).resolve().as_uri()
    except (ValueError, OSError):
        return False
    saved = {k: os.environ.pop(k) for k in _PRELOAD_VARS if k in os.environ}
    try:
        return bool(browser.open(url, new=2))
    except Exception:
        return False
    finally:
        os.environ.update(saved)
