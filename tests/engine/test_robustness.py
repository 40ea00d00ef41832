"""Crash and hang resistance: many threads, many runs, dying code objects."""
import os
import sys

import pytest

from scalene_testlib import lines_by_number, line_of, program, run_scalene


def test_code_objects_that_die_young(scalene):
    path = program("codechurn.py")
    run = scalene(["run", "--cpu-sampling-rate", "0.001", "--stacks", path, "---", "1.5"])
    assert run.returncode == 0, run
    lines, _ = lines_by_number(run.profile, path)
    assert cpu_sum(lines) > 0
    for ln in lines.values():
        assert ln["n_cpu_percent_python"] >= 0


def cpu_sum(lines):
    return sum(ln["n_cpu_percent_python"] + ln["n_cpu_percent_c"] for ln in lines.values())


def test_sixteen_threads_many_runs(tmp_path):
    """The acceptance criterion: 200 consecutive profiled runs of a 16-thread
    program mixing Python loops, native calls and sleeps.  Run in full on
    one interpreter (SCALENE_STRESS_RUNS), fewer on the others."""
    runs = int(os.environ.get("SCALENE_STRESS_RUNS", "20"))
    path = program("stress16.py")
    for i in range(runs):
        run = run_scalene(["run", path, "---", "0.12"], tmp_path, timeout=60)
        assert run.returncode == 0, (i, run)
        assert run.profile["files"], (i, run)


def test_a_crash_reports_its_c_stack(tmp_path):
    """With SCALENE_CRASH_REPORT=1 (the suite sets it) a program that dies of
    SIGSEGV in native code gets the crashing thread's C stack, then
    faulthandler's Python traceback, and still dies of SIGSEGV."""
    if os.environ.get("SCALENE_SANITIZE"):
        pytest.skip("under AddressSanitizer its own report replaces ours")
    path = program("segfault.py")
    run = run_scalene(["run", path], tmp_path)
    assert run.returncode == -11, run
    err = run.stderr
    assert "scalene: fatal signal 11 in pid" in err, err
    assert "_ctypes" in err.split("C stack:", 1)[1], err
    assert err.index("C stack:") < err.index("Fatal Python error: Segmentation fault"), err
    assert "line %d in crash" % line_of(path, "CRASH-LINE") in err, err


def test_a_faulting_frame_walk_is_abandoned(tmp_path):
    """The handler can interrupt a thread inside _PyEval_EvalFrameDefault's
    prologue, where the thread state may already point at a frame that is
    not filled in yet (CI met a fault at address 0x47 on 3.12).  A fault in
    the handler's walk abandons that sample: the program goes on, the other
    samples still land on each thread's own lines, and the profile counts the
    abandoned walks.  SCALENE_TEST_WALK_FAULT=4 makes every 4th walk fault."""
    path = program("threads.py")
    # --cpu-only: the handler is then the first to meet each code object, so
    # the injected faults also hit codeinfo records reserved mid-walk
    run = run_scalene(["run", "--cpu-only", path, "---", "1.0"], tmp_path, env={"SCALENE_TEST_WALK_FAULT": "4"})
    assert run.returncode == 0, run
    assert "Fatal Python error" not in run.stderr and "fatal signal" not in run.stderr, run.stderr
    prof = run.profile["profiler"]
    assert prof["frame_walk_faults"] >= 10, prof
    assert prof["unattributed_samples"] >= prof["frame_walk_faults"] * 0.9, prof
    lines, _ = lines_by_number(run.profile, path)
    py, native = lines[line_of(path, "PY-WORKER")], lines[line_of(path, "NATIVE-WORKER")]
    assert py["n_cpu_percent_python"] > 5 and native["n_cpu_percent_c"] > 5, (py, native)
