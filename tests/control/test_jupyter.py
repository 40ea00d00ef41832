"""%load_ext scalene, %scrun and %%scalene: in-process with IPython's
InteractiveShell, and once through a real kernel executing a notebook."""
import json
import textwrap

import pytest
from ctl_helpers import load_json, run_python, text_share

pytest.importorskip("IPython")

SHELL_SCRIPT = textwrap.dedent('''
    import sys
    from IPython.core.interactiveshell import InteractiveShell

    out = sys.argv[1]
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "scalene")
    ip.run_cell("def square_sum(n):\\n    return sum(i * i for i in range(n))\\n")
    print("== cell", flush=True)
    ip.run_cell_magic("scalene", "run --cli -o %s/cell.json" % out,
                      "x = 0\\nfor i in range(2_500_000):\\n    x += i  # CELL-LOOP\\nprint('x =', x)\\n")
    print("== line", flush=True)
    ip.run_line_magic("scrun", "--cpu-sampling-rate 0.005 -o %s/line.json square_sum(2_500_000)" % out)
    print("== bad", flush=True)
    ip.run_cell_magic("scalene", "--cpu-sampling-rate never", "x = 1\\n")
    print("== error", flush=True)
    result = ip.run_cell("%%scalene -o " + out + "/err.json\\nfor i in range(10):\\n    pass\\nraise ValueError('from the cell')\\n")
    print("error:", type(result.error_in_exec).__name__, flush=True)
    print("== exit", flush=True)
    ip.run_cell_magic("scalene", "", "import sys\\nsys.exit(3)\\n")
    print("still alive", flush=True)
''')


def test_magics_in_an_interactive_shell(tmp_path):
    script = tmp_path / "shell.py"
    script.write_text(SHELL_SCRIPT)
    run = run_python([str(script), str(tmp_path)], cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    sections = dict(part.split("\n", 1) for part in run.stdout.split("== ")[1:])
    # %%scalene: the cell ran in the user namespace, and its lines are in the profile
    assert "x = 3124998750000" in sections["cell"]
    cell = load_json(str(tmp_path / "cell.json"))
    [cell_file] = list(cell["files"])
    assert cell_file.endswith("-profile.py")
    assert text_share(cell, cell_file, "CELL-LOOP") > 30
    assert "CELL-LOOP" in sections["cell"]  # the text report (--cli) was shown
    # %scrun: options, then the statement; the function defined in an earlier cell ran
    # (its code, from an earlier ordinary cell, is attributed to that cell)
    line = load_json(str(tmp_path / "line.json"))
    body = [f for f in line["files"] if f.startswith("<ipython-input-")]
    assert body and text_share(line, body[0], "return sum(i * i") > 30, list(line["files"])
    # a bad option: one line, nothing run
    bad = [ln for ln in run.stderr.splitlines() if "--cpu-sampling-rate" in ln]
    assert len(bad) == 1 and "error" in bad[0], run.stderr
    # the cell's exception is still raised (after the profile is written)
    assert "error: ValueError" in sections["error"]
    assert (tmp_path / "err.json").exists()
    # the cell's sys.exit() does not end the shell
    assert "still alive" in sections["exit"]


NOTEBOOK_SCRIPT = textwrap.dedent('''
    import json, sys
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext scalene"),
        nbformat.v4.new_code_cell("%%scalene\\nx = 0\\nfor i in range(3_000_000):\\n    x += i * 2  # NOTEBOOK-LOOP\\n"),
        nbformat.v4.new_code_cell("print(x)"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    json.dump([c.get("outputs", []) for c in nb.cells], open(sys.argv[1], "w"))
''')


def test_notebook_through_a_real_kernel(tmp_path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    script = tmp_path / "nb.py"
    script.write_text(NOTEBOOK_SCRIPT)
    result = tmp_path / "outputs.json"
    run = run_python([str(script), str(result)], cwd=str(tmp_path), timeout=240)
    assert run.returncode == 0, run.stderr
    outputs = json.loads(result.read_text())
    shown = [o for o in outputs[1] if o["output_type"] == "display_data"]
    assert len(shown) == 1, outputs[1]
    data = shown[0]["data"]
    html, text = "".join(data["text/html"]), "".join(data["text/plain"])
    assert html.startswith("<iframe srcdoc=") and "NOTEBOOK-LOOP" in html
    assert "NOTEBOOK-LOOP" in text and "% of time" in text
    row = next(ln for ln in text.splitlines() if "NOTEBOOK-LOOP" in ln)
    assert "%" in row.split("NOTEBOOK-LOOP")[0], row  # the loop's line has time
    assert "".join(outputs[2][0]["text"]).strip() == str(sum(i * 2 for i in range(3_000_000)))
    _check_iframe_renders(html, tmp_path)


def _check_iframe_renders(iframe_html, tmp_path):
    """The viewer page works inside the notebook's sandboxed srcdoc iframe
    (when playwright and chromium are present, as in the viewer tests)."""
    import shutil

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if not exe:
        return
    outer = tmp_path / "notebook-output.html"
    outer.write_text("<!DOCTYPE html><html><body>" + iframe_html + "</body></html>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe,
                                    args=["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(outer.as_uri())
            frame = page.frames[1]
            frame.wait_for_function("() => window.__scaleneViewerReady === true", timeout=30000)
            assert "NOTEBOOK-LOOP" in frame.locator("body").inner_text()
            assert frame.locator("tr[data-lineno]").count() > 0
            assert not errors, errors
        finally:
            browser.close()
