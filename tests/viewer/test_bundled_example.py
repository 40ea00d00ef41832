"""The bundled example (examples/demo.py), profiled for real and opened in
chromium: the screenshot the README's demo produces, kept as an artifact."""
import json
import os
import subprocess
import sys

from viewer_profiles import *  # noqa: F401,F403  (keeps the fixtures' import path)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bundled_example_screenshot(open_page, artifacts_dir, tmp_path):
    out = tmp_path / "demo.json"
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-m", "scalene", "run", "-o", str(out), "examples/demo.py"],
                          cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr
    profile = json.loads(out.read_text())
    opened = open_page(profile, name="demo.html")
    page = opened.page
    assert not opened.errors, opened.errors
    text = page.inner_text("body")
    assert "demo.py" in text and "mandelbrot_row" in text
    page.screenshot(path=str(artifacts_dir / "viewer-bundled-example.png"))
