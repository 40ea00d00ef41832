"""Reports derived from a profile file.

``scalene.report.terminal`` renders the terminal report (``scalene view --cli``).
"""

from scalene.report.terminal import render, render_to_string, view_file

__all__ = ["render", "render_to_string", "view_file"]
