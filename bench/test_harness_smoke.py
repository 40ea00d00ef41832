"""Smoke test of the benchmark harness (no timings asserted).

Not collected by the project's default pytest run (testpaths = ["tests"]);
run it explicitly:  python3.11 -m pytest bench/test_harness_smoke.py
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def test_parse_pyspy_raw(tmp_path):
    target = harness.PROGRAMS_DIR / "gt_julia.py"
    raw = tmp_path / "r.txt"
    raw.write_text(
        "<module> (gt_julia.py:50);build (gt_julia.py:39);calculate_z (gt_julia.py:25) 30\n"
        "<module> (gt_julia.py:50);build (gt_julia.py:39);calculate_z (gt_julia.py:26) 10\n"
        "<module> (gt_julia.py:50);helper (other.py:3) 10\n"
        " 1\n")
    s = harness.parse_pyspy_raw(raw, target)
    assert s.level == "line"
    assert s.shares == {25: 0.6, 26: 0.2, 50: 0.2}


def test_parse_scalene_json(tmp_path):
    target = harness.PROGRAMS_DIR / "gt_py_native.py"
    prof = {"files": {str(target): {"lines": [
        {"lineno": 29, "n_cpu_percent_python": 30.0, "n_cpu_percent_c": 10.0, "n_sys_percent": 50.0},
        {"lineno": 36, "n_cpu_percent_python": 5.0, "n_cpu_percent_c": 55.0, "n_sys_percent": 0.0},
        {"lineno": 40, "n_cpu_percent_python": 0.0, "n_cpu_percent_c": 0.0, "n_sys_percent": 0.0}]}}}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(prof))
    s = harness.parse_scalene_json(p, target)
    assert s.shares == {29: 0.4, 36: 0.6}


def test_truth_modes():
    prog = next(p for p in harness.discover_programs() if p.name == "gt_py_native")
    gt_plain = {"lines": {"29": {"function": "python_part", "work": 100, "cpu_s": 1.0},
                          "36": {"function": "native_part", "work": 10, "cpu_s": 1.0}}}
    gt_prof = {"lines": {"29": {"function": "python_part", "work": 100, "cpu_s": 3.0},   # slowed down
                         "36": {"function": "native_part", "work": 30, "cpu_s": 3.0}}}
    recs = {"plain": [harness.RunRecord(1.0, 0, gt=gt_plain)]}
    truth = harness.gt_truth(prog, recs, mode="plain")
    t = truth(harness.RunRecord(2.0, 0, gt=gt_prof))
    assert abs(t["29"] - 0.25) < 1e-9 and abs(t["36"] - 0.75) < 1e-9
    # default mode: the CPU seconds measured in the run itself
    t = harness.gt_truth(prog, recs, mode="run")(harness.RunRecord(2.0, 0, gt=gt_prof))
    assert abs(t["29"] - 0.5) < 1e-9


def test_protocol_plain_and_cprofile_on_empty():
    progs = harness.discover_programs(only=["empty"])
    cfgs, skipped = harness.prepare_configs(["plain", "cprofile"])
    res = harness.run_protocol(progs, cfgs, runs=2)
    assert [r.rc for r in res["empty"]["plain"]] == [0, 0]
    assert [r.rc for r in res["empty"]["cprofile"]] == [0, 0]
    sd = harness.slowdowns(res, progs, cfgs)
    assert "__startup_ms__" in sd["cprofile"]
    table = harness.slowdown_table(sd, progs, cfgs, skipped, {})
    assert "cProfile" in table


def test_pyperf_driver_knows_its_benchmarks():
    import pyperf_driver
    assert {"nbody", "raytrace", "richards"} <= set(pyperf_driver.LOOPS)


def test_parse_scalene_mem(tmp_path):
    target = harness.PROGRAMS_DIR / "gt_alloc.py"
    prof = {"files": {str(target): {"lines": [
        {"lineno": 23, "n_malloc_mb": 1600.5}, {"lineno": 30, "n_malloc_mb": 0.0}]}}}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(prof))
    assert harness.parse_scalene_mem(p, target) == {"23": 1600.5}


def test_ours_pending_when_engine_missing(tmp_path, monkeypatch):
    # A root with no scalene package: the engine cannot import.
    monkeypatch.setattr(harness, "OURS_ROOT", tmp_path)
    cfgs, skipped = harness.prepare_configs(["plain", "ours-cpu", "ours-full"], setup=False)
    assert [c.name for c in cfgs] == ["plain"]
    assert skipped == {"ours-cpu": "pending: engine not built", "ours-full": "pending: engine not built"}
    progs = harness.discover_programs(only=["gt_julia"], startup=False)
    table = harness.slowdown_table({}, progs, cfgs, skipped, {})
    assert "pending: engine not built" in table
    acc = harness.accuracy_table({}, progs, cfgs, skipped, {})
    assert "pending: engine not built" in acc
