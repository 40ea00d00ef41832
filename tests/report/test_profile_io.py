"""load_profile / normalize: good files load, every bad file gives one line."""

from __future__ import annotations

import io
import json
import math
import os
import sys

import pytest

from scalene import profile_io
from scalene.profile_io import ProfileError, load_profile, normalize, validate_profile
from scalene.report.terminal import view_file


def _one_line_error(path):
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert msg and msg == msg.strip()
    assert "\n" not in msg and "\r" not in msg
    assert all(ch >= " " for ch in msg), repr(msg)
    assert "Traceback" not in msg
    # The CLI helper prints exactly one line and no traceback.
    err = io.StringIO()
    assert view_file(path, out=io.StringIO(), err=err) == 1
    text = err.getvalue()
    assert text.count("\n") == 1 and text.startswith("scalene: error: ")
    return msg


# ---------------------------------------------------------------- good files

def test_load_our_profile(tmp_path, builders):
    p = builders.profile()
    path = builders.write(tmp_path / "p.json", p)
    loaded = load_profile(path)
    assert list(loaded["files"]) == list(p["files"])
    lines = loaded["files"]["/home/user/prog.py"]["lines"]
    assert [e["lineno"] for e in lines] == list(range(1, 10))
    assert lines[3]["line"] == "    x = np.zeros(n)  # <big> & small\n"
    assert loaded["profiler"]["name"] == "scalene-c"
    assert loaded["memory"] is True and loaded["gpu"] is False


def test_our_profile_keeps_literal_escape_text(tmp_path, builders):
    # In our format \u0026 is a JSON escape, so a literal backslash-u text in
    # the source must survive untouched.
    p = builders.profile()
    p["files"]["/home/user/prog.py"]["lines"][0]["line"] = 'print("\\u003c")\n'
    path = builders.write(tmp_path / "p.json", p)
    assert load_profile(path)["files"]["/home/user/prog.py"]["lines"][0]["line"] == 'print("\\u003c")\n'


def test_load_existing_scalene_profile_unescapes(tmp_path, builders):
    path = builders.write(tmp_path / "legacy.json", builders.legacy())
    raw = open(path, encoding="utf-8").read()
    assert "\\\\u003c" in raw  # really the literal text in the file
    loaded = load_profile(path)
    lines = loaded["files"]["test.py"]["lines"]
    assert lines[1]["line"] == "      if a < b && c > d: pass\n"
    # defaults filled in for keys the existing tool does not write
    assert lines[0]["start_region_line"] == 6 and lines[0]["start_function_line"] == 0
    assert lines[0]["cpu_samples_list"] == [] and lines[0]["n_async_await_percent"] == 0
    assert loaded["profiler"]["why_empty"] is None
    assert loaded["async_profile"] is False and loaded["stacks"] == []
    assert loaded["files"]["test.py"]["imports"] == []


def test_normalize_fills_defaults_and_does_not_mutate():
    raw = {"elapsed_time_sec": 1, "files": {"a.py": {"lines": [{"lineno": 1, "line": "x = 1\n"}]}}}
    before = json.dumps(raw, sort_keys=True)
    n = normalize(raw)
    assert json.dumps(raw, sort_keys=True) == before
    f = n["files"]["a.py"]
    assert f["functions"] == [] and f["leaks"] == {} and f["percent_cpu_time"] == 0
    e = f["lines"][0]
    for key in profile_io.LINE_NUMERIC_DEFAULTS:
        assert e[key] == 0
    assert e["memory_samples"] == []
    for key in ("memory", "gpu", "async_profile"):
        assert n[key] is False
    assert n["samples"] == [] and n["max_footprint_mb"] == 0
    assert set(profile_io._PROFILER_DEFAULTS) <= set(n["profiler"])
    assert normalize(n) == n  # idempotent


def test_normalize_cleans_non_finite_and_bad_points():
    raw = {"elapsed_time_sec": float("nan"), "samples": [[1, 2], "x", [3], [4, float("inf")]],
           "files": {"a.py": {"lines": [{"lineno": 1, "line": "x\n", "n_cpu_percent_python": float("nan"),
                                         "n_peak_mb": float("inf"), "memory_samples": [[1, 2], [None, 3]]}],
                              "leaks": [[1, 0.97, 2.0]]}}}
    n = normalize(raw)
    assert n["elapsed_time_sec"] == 0
    assert n["samples"] == [[1.0, 2.0]]
    e = n["files"]["a.py"]["lines"][0]
    assert e["n_cpu_percent_python"] == 0 and e["n_peak_mb"] == 0
    assert e["memory_samples"] == [[1.0, 2.0]]
    assert n["files"]["a.py"]["leaks"] == {"1": {"likelihood": 0.97, "velocity_mb_s": 2.0}}
    assert not any(isinstance(v, float) and math.isnan(v) for v in e.values() if not isinstance(v, list))


def test_bom_and_nonstandard_whitespace_accepted(tmp_path, builders):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(builders.profile()).encode() + b"\n\n")
    assert load_profile(str(path))["elapsed_time_sec"] == 2.93


def test_pathlike_accepted(tmp_path, builders):
    builders.write(tmp_path / "p.json", builders.profile())
    assert load_profile(tmp_path / "p.json")["files"]


# ---------------------------------------------------------------- bad files

def test_missing_file(tmp_path):
    msg = _one_line_error(str(tmp_path / "nope.json"))
    assert "not found" in msg and "nope.json" in msg


def test_directory(tmp_path):
    msg = _one_line_error(str(tmp_path))
    assert "is a directory" in msg


def test_unreadable_file_permission(tmp_path, builders, monkeypatch):
    path = builders.write(tmp_path / "p.json", builders.profile())

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(profile_io, "open", denied, raising=False)
    msg = _one_line_error(path)
    assert "cannot read" in msg and "permission denied" in msg


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read a mode-000 file")
def test_unreadable_file_chmod(tmp_path, builders):
    path = builders.write(tmp_path / "p.json", builders.profile())
    os.chmod(path, 0)
    try:
        assert "permission denied" in _one_line_error(path)
    finally:
        os.chmod(path, 0o644)


def test_other_os_error(tmp_path, builders, monkeypatch):
    path = builders.write(tmp_path / "p.json", builders.profile())

    def eio(*a, **k):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(profile_io, "open", eio, raising=False)
    assert "Input/output error" in _one_line_error(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert "is empty" in _one_line_error(str(path))


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "ws.json"
    path.write_bytes(b"  \n\t\n")
    assert "is empty" in _one_line_error(str(path))


def test_truncated_json(tmp_path, builders):
    full = json.dumps(builders.profile(), indent=4)
    path = tmp_path / "cut.json"
    path.write_text(full[: len(full) // 2], encoding="utf-8")
    msg = _one_line_error(str(path))
    assert "truncated or not valid JSON" in msg
    assert "line " in msg and "column " in msg


def test_invalid_json_middle(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"files": {}, "elapsed_time_sec": 1,,}\n', encoding="utf-8")
    msg = _one_line_error(str(path))
    assert "truncated or not valid JSON" in msg and "line 1 column" in msg


def test_html_instead_of_json(tmp_path):
    path = tmp_path / "scalene-profile.html"
    path.write_text("<!DOCTYPE html>\n<html><body>hi</body></html>\n", encoding="utf-8")
    msg = _one_line_error(str(path))
    assert "not valid JSON" in msg and "HTML" in msg


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.json"
    path.write_bytes(b'{"files": "\xff\xfe"}')
    assert "not UTF-8" in _one_line_error(str(path))


def test_gzip(tmp_path):
    import gzip
    path = tmp_path / "p.json.gz"
    path.write_bytes(gzip.compress(b'{"files": {}, "elapsed_time_sec": 1}'))
    assert "gzip" in _one_line_error(str(path))


def test_deeply_nested(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    msg = _one_line_error(str(path))
    assert "JSON" in msg or "not a scalene profile" in msg


@pytest.mark.parametrize("content, expect", [
    ("[1, 2, 3]", "not a scalene profile"),
    ('"hello"', "not a scalene profile"),
    ("42", "not a scalene profile"),
    ("null", "not a scalene profile"),
    ('{"name": "x"}', "not a scalene profile"),
    ('{"files": {}}', "not a scalene profile"),
    ('{"elapsed_time_sec": 1}', "not a scalene profile"),
])
def test_json_that_is_not_a_profile(tmp_path, content, expect):
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    assert expect in _one_line_error(str(path))


def _mutations():
    F = "/home/user/prog.py"

    def files_list(p): p["files"] = []
    def elapsed_str(p): p["elapsed_time_sec"] = "2.9"
    def elapsed_bool(p): p["elapsed_time_sec"] = True
    def memory_str(p): p["memory"] = "yes"
    def samples_dict(p): p["samples"] = {}
    def file_str(p): p["files"][F] = "oops"
    def lines_dict(p): p["files"][F]["lines"] = {}
    def line_str(p): p["files"][F]["lines"][2] = "x = 1"
    def lineno_str(p): p["files"][F]["lines"][2]["lineno"] = "3"
    def lineno_missing(p): del p["files"][F]["lines"][2]["lineno"]
    def text_num(p): p["files"][F]["lines"][2]["line"] = 5
    def metric_str(p): p["files"][F]["lines"][5]["n_cpu_percent_python"] = "55%"
    def metric_list(p): p["files"][F]["functions"][0]["n_peak_mb"] = [1]
    def pct_str(p): p["files"][F]["percent_cpu_time"] = "42"
    def leaks_str(p): p["files"][F]["leaks"] = "none"
    def leak_key(p): p["files"][F]["leaks"] = {"four": {"likelihood": 1, "velocity_mb_s": 1}}
    def leak_val(p): p["files"][F]["leaks"] = {"4": {"likelihood": "high"}}
    def mem_samples(p): p["files"][F]["lines"][3]["memory_samples"] = "none"
    def profiler_list(p): p["profiler"] = []
    def why_empty_num(p): p["profiler"]["why_empty"] = 3

    return [
        (files_list, "'files'"), (elapsed_str, "elapsed_time_sec"),
        (elapsed_bool, "elapsed_time_sec"), (memory_str, "memory"),
        (samples_dict, "samples"), (file_str, "files["), (lines_dict, ".lines"),
        (line_str, "lines[2]"), (lineno_str, "lines[2].lineno"),
        (lineno_missing, "lines[2].lineno"), (text_num, "lines[2].line"),
        (metric_str, "lines[5].n_cpu_percent_python"), (metric_list, "functions[0].n_peak_mb"),
        (pct_str, "percent_cpu_time"), (leaks_str, "leaks"), (leak_key, "leaks"),
        (leak_val, "likelihood"), (mem_samples, "memory_samples"),
        (profiler_list, "profiler"), (why_empty_num, "why_empty"),
    ]


@pytest.mark.parametrize("mutate, where", _mutations(), ids=lambda x: getattr(x, "__name__", ""))
def test_wrong_types(tmp_path, builders, mutate, where):
    p = builders.profile()
    mutate(p)
    path = builders.write(tmp_path / "p.json", p)
    msg = _one_line_error(path)
    assert where in msg, msg
    assert "not a valid scalene profile" in msg or "not a scalene profile" in msg


def test_error_one_line_even_with_newlines_in_names(tmp_path, builders):
    p = builders.profile()
    fname = "/tmp/evil\nname\x1b[31m.py"
    p["files"][fname] = p["files"].pop("/home/user/prog.py")
    p["files"][fname]["lines"][0]["lineno"] = None
    path = builders.write(tmp_path / "weird\nfile.json", p)
    msg = _one_line_error(path)
    assert "\x1b" not in msg


def test_profile_error_str_is_one_line():
    assert str(ProfileError("a\nb\r\nc\x1b")) == "a b  c\\x1b"


def test_validate_profile_accepts_minimal():
    validate_profile({"files": {}, "elapsed_time_sec": 0})
    validate_profile({"files": {"a.py": {}}, "elapsed_time_sec": 0.5, "profiler": None})


def test_no_path():
    with pytest.raises(ProfileError):
        load_profile("")
