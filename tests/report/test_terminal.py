"""The terminal report (scalene view --cli)."""

from __future__ import annotations

import io
import re
import time

import pytest

from scalene.report import terminal
from scalene.report.terminal import (
    downsample,
    render,
    render_to_string,
    sparkline,
    text_width,
    view_file,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
F = "/home/user/prog.py"


def out_of(profile, **kw):
    buf = io.StringIO()
    kw.setdefault("column_width", 132)
    render(profile, out=buf, **kw)
    return buf.getvalue()


def table_rows(text):
    """Body rows of the line tables: {lineno: row text}."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+) \u2502", line)
        if m:
            rows.setdefault(int(m.group(1)), line)
    return rows


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


# ------------------------------------------------------------- structure

def test_header_and_memory_columns(builders):
    text = out_of(builders.profile(memory=True))
    assert f"{F}: % of time = 42.10% (1.234s) out of 2.930s." in text
    assert re.search(r"^Memory usage: [\u2581-\u2588]{27} \(max: 123\.45 MB, growth rate: 1\.2%\)$",
                     text, re.M), text
    header = [l for l in text.splitlines() if l.startswith("Line")][0]
    for label in ("Python", "native", "system", "peak", "timeline/%", "(MB/s)"):
        assert label in header
    assert header.count("Python") == 2  # Time Python and Memory Python
    assert "Time" in text and "Memory" in text and "Copy" in text
    assert "GPU" not in text
    row4 = table_rows(text)[4]
    assert "12%" in row4 and "76M" in row4 and "60%" in row4 and " 30 " in row4 and "2%" in row4
    assert re.search(r"[\u2581-\u2588]{1,9}\s+60%", row4)


def test_no_memory_columns_when_memory_off(builders):
    text = out_of(builders.profile(memory=False))
    assert "Memory usage" not in text
    for label in ("peak", "timeline", "(MB/s)", "Memory", "Copy"):
        assert label not in text
    header = [l for l in text.splitlines() if l.startswith("Line")][0]
    assert header.count("Python") == 1
    assert not re.search(r"[\u2581-\u2588]", text)


def test_gpu_columns_only_with_gpu(builders):
    with_gpu = out_of(builders.profile(gpu=True))
    assert "GPU" in with_gpu
    row6 = table_rows(with_gpu)[6]
    assert "20%" in row6 and "512M" in row6
    without = out_of(builders.profile(gpu=False))
    assert "GPU" not in without


def test_percent_cells_blank_when_zero(builders):
    rows = table_rows(out_of(builders.profile()))
    assert rows[1].split("\u2502")[1:-1] == [" " * len(c) for c in rows[1].split("\u2502")[1:-1]]
    assert rows[1].endswith("import numpy as np")
    assert rows[2].rstrip().endswith("\u2502")  # empty source line, all blank
    assert "%" not in rows[9]  # 0.6 % shows blank, like the existing tool
    assert "%" not in rows[1] and "%" not in rows[3]


def test_full_view_shows_every_line(builders):
    text = out_of(builders.profile())
    rows = table_rows(text)
    assert sorted(r for r in rows if r <= 9) == list(range(1, 10))
    for src in builders.source:
        if src.strip():
            assert src.rstrip("\n") in text
    assert "\u22ee" not in text  # no gaps in a complete file


def test_reduced_view_only_active_lines(builders):
    text = out_of(builders.profile(), reduced=True)
    body = text.split("function summary")[0]
    rows = table_rows(body)
    assert sorted(rows) == [4, 6]
    assert "import numpy" not in body and "work(10_000_000)" not in body
    assert "\u22ee" in body  # gap marker between 4 and 6


def test_reduced_keeps_memory_only_and_gpu_only_lines(builders):
    p = builders.profile(memory=True, gpu=True)
    lines = p["files"][F]["lines"]
    lines[0].update(n_copy_mb_s=3.0)
    lines[6].update(n_gpu_percent=0.5)
    lines[7].update(n_malloc_mb=0.01, n_usage_fraction=0.001)
    rows = table_rows(out_of(p, reduced=True).split("function summary")[0])
    assert sorted(rows) == [1, 4, 6, 7, 8]


def test_function_summary(builders):
    text = out_of(builders.profile())
    assert f"function summary for {F}" in text
    after = text.split("function summary")[1]
    header = [l for l in after.splitlines() if l.startswith("Line")][0]
    assert header.rstrip().endswith("function")
    row = [l for l in after.splitlines() if l.rstrip().endswith("\u2502 work")]
    assert row and "56%" in row[0] and "13%" in row[0] and row[0].lstrip().startswith("3 ")


def test_leaks_section(builders):
    leaks = {"6": {"likelihood": 0.97, "velocity_mb_s": 0.5},
             "4": {"likelihood": 0.95, "velocity_mb_s": 1.0}}
    text = out_of(builders.profile(leaks=leaks))
    found = [l for l in text.splitlines() if l.startswith("Possible memory leak")]
    assert found == [
        "Possible memory leak identified at line 6 (estimated likelihood: 97%, velocity: 0.50 MB/s)",
        "Possible memory leak identified at line 4 (estimated likelihood: 95%, velocity: 1.00 MB/s)",
    ]
    assert "Possible memory leak" not in out_of(builders.profile())


def test_files_in_profile_order(builders):
    p = builders.profile()
    second = builders.deepcopy(p["files"][F])
    second["percent_cpu_time"] = 3.0
    p["files"]["/home/user/aaa.py"] = second
    text = out_of(p)
    assert text.index(f"{F}: % of time") < text.index("/home/user/aaa.py: % of time")


def test_existing_scalene_profile_renders(builders):
    text = out_of(builders.legacy())
    assert "test.py: % of time = 100.00% (1m:9.176s) out of 1m:9.176s." in text
    assert "if a < b && c > d: pass" in text
    assert "\\u003c" not in text
    rows = table_rows(text)
    assert {6, 10, 11} <= set(rows)
    assert "\u22ee" in text  # lines missing from a reduced profile
    assert "Memory usage:" in text and "2.83 GB" in text
    assert "1.9G" in rows[11]  # peak column


def test_loaded_file_renders_same_as_dict(tmp_path, builders):
    from scalene.profile_io import load_profile
    p = builders.profile(gpu=True)
    path = builders.write(tmp_path / "p.json", p)
    assert out_of(load_profile(path)) == out_of(p)


def test_async_column_only_with_await_data(builders):
    p = builders.profile()
    p["async_profile"] = True
    assert "await" not in out_of(p)
    p["files"][F]["lines"][5]["n_async_await_percent"] = 40.0
    text = out_of(p)
    assert "await" in text and "40%" in table_rows(text)[6]


# ------------------------------------------------------------- empty

def test_empty_profile_uses_why_empty(builders):
    p = builders.profile()
    p["files"] = {}
    p["profiler"]["why_empty"] = "the program exited after 3 ms, before the first CPU sample"
    text = out_of(p)
    assert text == ("No profile data to show: the program exited after 3 ms, before the "
                    "first CPU sample.\n")


def test_empty_profile_generic(builders):
    p = builders.legacy()
    p["files"] = {}
    text = out_of(p)
    assert text.count("\n") == 1 and text.startswith("No profile data to show: ")
    assert "did not run long enough" in text


def test_nothing_sampled(builders):
    p = builders.profile()
    fd = p["files"][F]
    fd["percent_cpu_time"] = 0.0
    fd["functions"] = []
    fd["lines"] = [builders.line(i + 1, t) for i, t in enumerate(builders.source)]
    text = out_of(p)
    assert text.startswith("No profile data to show") and text.count("\n") == 1


def test_minimal_dict_does_not_crash():
    assert out_of({"files": {}, "elapsed_time_sec": 0}).startswith("No profile data")
    text = out_of({"elapsed_time_sec": 1.0, "files": {"a.py": {"percent_cpu_time": 50.0}}})
    assert "a.py: % of time = 50.00% (500.000ms) out of 1.000s." in text
    assert "no line-level data" in text


# ------------------------------------------------------------- colour

def test_color_forced(builders):
    text = out_of(builders.profile(), color=True)
    assert "\x1b[" in text
    hot = [l for l in text.splitlines() if "x[i] = i * 2" in l][0]
    assert "\x1b[1;31m" in hot  # hot line (55 % + 3 %) in bold red
    cold = [l for l in text.splitlines() if "import numpy" in l][0]
    assert "\x1b[1;31m" not in cold
    # colour changes nothing but the escapes
    assert ANSI.sub("", text).split() == out_of(builders.profile(), color=False).split()


def test_no_color_when_not_tty(builders):
    text = out_of(builders.profile())  # StringIO is not a tty
    assert "\x1b" not in text


def test_color_auto_on_tty(builders):
    buf = FakeTTY()
    render(builders.profile(), out=buf, column_width=132)
    assert "\x1b[" in buf.getvalue()


@pytest.mark.parametrize("var, value", [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_color_auto_disabled_by_env(builders, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    buf = FakeTTY()
    render(builders.profile(), out=buf, column_width=132)
    assert "\x1b" not in buf.getvalue()
    buf = FakeTTY()
    render(builders.profile(), out=buf, column_width=132, color=True)
    assert "\x1b[" in buf.getvalue()  # explicit request wins


def test_escape_sequences_in_source_are_neutralised(builders):
    p = builders.profile()
    p["files"][F]["lines"][0]["line"] = "s = '\x1b[2J\x1b]0;pwned\x07' \u202e txt\r\n"
    text = out_of(p)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "s = '\ufffd[2J" in text


# ------------------------------------------------------------- width

def test_long_lines_truncated_to_width(builders):
    p = builders.profile(memory=False)
    p["files"][F]["lines"][5]["line"] = "        x[i] = " + " + ".join(f"v{k}" for k in range(80)) + "\n"
    text = out_of(p, column_width=80)
    table = [l for l in text.splitlines() if "\u2502" in l or l.startswith("\u2501")]
    assert table and all(text_width(l) <= 80 for l in table)
    row6 = table_rows(text)[6]
    assert row6.endswith("\u2026") and text_width(row6) == 80
    assert "x[i] = v0 + v1" in row6
    wide = out_of(p, column_width=700)
    assert "v79" in wide and "\u2026" not in table_rows(wide)[6]


def test_long_file_name_truncated_from_left(builders):
    long_name = "/very/" + "deep/" * 40 + "prog.py"
    p = builders.profile(memory=False, fname=long_name)
    text = out_of(p, column_width=80)
    header = [l for l in text.splitlines() if l.startswith("Line")][0]
    assert text_width(header) <= 80 and header.endswith("deep/prog.py")
    assert "\u2026" in header


def test_default_width_132_when_not_a_tty(builders):
    p = builders.profile(memory=False)
    p["files"][F]["lines"][0]["line"] = "#" * 300 + "\n"
    buf = io.StringIO()
    render(p, out=buf)
    row = table_rows(buf.getvalue())[1]
    assert text_width(row) == 132


def test_columns_env_sets_default_width(builders, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    p = builders.profile(memory=False)
    p["files"][F]["lines"][0]["line"] = "#" * 300 + "\n"
    buf = io.StringIO()
    render(p, out=buf)
    assert text_width(table_rows(buf.getvalue())[1]) == 100


def test_wide_characters_counted_as_two_columns(builders):
    p = builders.profile(memory=False)
    p["files"][F]["lines"][0]["line"] = "s = '" + "\u6f22\u5b57" * 60 + "'\n"
    row = table_rows(out_of(p, column_width=80))[1]
    assert text_width(row) <= 80 and row.endswith("\u2026")


def test_tabs_expanded(builders):
    p = builders.profile(memory=False)
    p["files"][F]["lines"][4]["line"] = "\tfor i in range(n):\n"
    text = out_of(p)
    assert "\t" not in text and "    for i in range(n):" in text


def test_ascii_only_stream(builders):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    p = builders.profile(memory=True, gpu=True)
    p["files"][F]["lines"][0]["line"] = "s = 'caf\u00e9 \u6f22'\n"
    render(p, out=stream, column_width=132, color=False)
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "|" in text and "Memory usage: " in text and "s = 'caf? ?'" in text


# ------------------------------------------------------------- helpers

def test_downsample_is_deterministic_and_keeps_peaks():
    values = [float(i % 10) for i in range(100)]
    values[57] = 1000.0
    a = downsample(values, 27)
    assert a == downsample(values, 27) and len(a) == 27 and 1000.0 in a
    assert downsample([1.0, 2.0], 9) == [1.0, 2.0]
    assert len(downsample(list(range(100)), 9)) == 9


def test_sparkline():
    assert sparkline([]) == "" and sparkline([0, 0]) == ""
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8], 8) == "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588\u2588"
    assert sparkline([1, 1], 100) == "\u2581\u2581"
    assert sparkline([-5, 10]) == "\u2581\u2588"


def test_line_sparkline_scaled_by_usage_fraction(builders):
    p = builders.profile()
    line = p["files"][F]["lines"][3]
    line["memory_samples"] = [[i, 123.45] for i in range(20)]
    line["n_usage_fraction"] = 1.0
    assert "\u2588" * 9 in table_rows(out_of(p))[4]
    line["n_usage_fraction"] = 0.3
    row = table_rows(out_of(p))[4]
    assert "\u2583" * 9 in row and "30%" in row


@pytest.mark.parametrize("secs, text", [
    (0.0123, "12.300ms"), (1.2345, "1.234s"), (59.9999, "1m:0.000s"),
    (125.5, "2m:5.500s"), (3723.25, "1h:2m:3.250s"),
])
def test_time_format(secs, text):
    assert terminal._fmt_time(secs) == text


@pytest.mark.parametrize("mb, text", [
    (0, ""), (0.0001, "<1K"), (0.5, "512K"), (3.25, "3.2M"), (76.3, "76M"),
    (1536, "1.5G"), (3 * 1024 * 1024, "3.0T"),
])
def test_mb_cell_format(mb, text):
    assert terminal._fmt_mb_cell(mb) == text


def test_render_to_string_and_view_file(tmp_path, builders):
    assert "function summary" in render_to_string(builders.profile())
    path = builders.write(tmp_path / "p.json", builders.profile())
    out, err = io.StringIO(), io.StringIO()
    assert view_file(path, out=out, err=err, column_width=100, reduced=True) == 0
    assert err.getvalue() == "" and "x[i] = i * 2" in out.getvalue()


def test_stdout_default(builders, capsys):
    render(builders.profile(), column_width=120)
    assert "% of time" in capsys.readouterr().out


# ------------------------------------------------------------- speed

def test_ten_thousand_lines_is_fast(builders):
    lines = []
    samples = [[j * 1000, float(j)] for j in range(30)]
    for i in range(1, 10_001):
        extra = {}
        if i % 3 == 0:
            extra = dict(n_cpu_percent_python=1.5, n_malloc_mb=0.5, n_peak_mb=2.0,
                         n_usage_fraction=0.0001, memory_samples=samples)
        lines.append(builders.line(i, f"    value_{i} = compute({i}) + something_else * 2  # {'x' * 80}\n",
                                   **extra))
    p = builders.profile(memory=True, gpu=True)
    p["files"][F]["lines"] = lines
    t0 = time.perf_counter()
    text = out_of(p, column_width=120)
    t1 = time.perf_counter()
    reduced = out_of(p, column_width=120, reduced=True, color=True)
    t2 = time.perf_counter()
    assert len(table_rows(text)) >= 10_000
    assert 3_000 < len(table_rows(ANSI.sub("", reduced).split("function summary")[0])) < 4_000
    assert t1 - t0 < 2.0 and t2 - t1 < 2.0, (t1 - t0, t2 - t1)
