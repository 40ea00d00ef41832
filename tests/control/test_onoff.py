"""Background control: `scalene run --off prog.py &`, then
`python3 -m scalene.profile --on/--off --pid PID`."""
import os
import signal
import subprocess
import sys
import time

import pytest

from scalene_testlib import program, skip_fork_under_sanitizer
from ctl_helpers import finish, load_json, one_line_error, region_share, run_python, share_of, spawn, wait_for, wait_for_line


def switch(which, pid):
    return run_python(["-m", "scalene.profile", which, "--pid", str(pid)])


def test_on_off_profiles_only_the_on_period(tmp_path):
    path = program("ctl_phases.py")
    out = tmp_path / "p.json"
    flag = str(tmp_path / "flag")
    proc = spawn(["-m", "scalene", "run", "--off", "-o", str(out), path, "---", flag])
    try:
        wait_for_line(proc, "A")
        time.sleep(0.4)  # phase A runs unprofiled for a while
        open(flag + ".b", "w").close()
        wait_for_line(proc, "B")
        on = switch("--on", proc.pid)
        assert on.returncode == 0, on.stderr
        time.sleep(1.5)
        off = switch("--off", proc.pid)
        assert off.returncode == 0, off.stderr
        # switching off writes the profile so far, while the program runs on
        assert wait_for(out.exists, timeout=60), "no profile written at --off"
        assert proc.poll() is None
        mid = load_json(str(out))
        assert share_of(mid, path, "PHASE-B") > 20, mid["files"]
        open(flag + ".c", "w").close()
        wait_for_line(proc, "C")
        time.sleep(0.5)  # phase C runs unprofiled
        open(flag + ".d", "w").close()
        rc, _, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err
    assert "scalene.profile --on --pid %d" % proc.pid in err  # the hint printed by --off
    profile = load_json(str(out))
    phases = {name: region_share(profile, path, "def %s(" % name, 6) for name in ("phase_a", "phase_b", "phase_c")}
    assert phases["phase_b"] > 80, phases
    assert phases["phase_a"] < 3 and phases["phase_c"] < 3, phases
    assert 0.3 < profile["elapsed_time_sec"] < 30  # the on-period only, not the whole run


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_on_off_reaches_child_processes(tmp_path, method):
    skip_fork_under_sanitizer()
    path = program("ctl_onoff_children.py")
    out = tmp_path / "p.json"
    flag = str(tmp_path / "flag")
    proc = spawn(["-m", "scalene", "run", "--off", "--cpu-only", "-o", str(out), path, "---", flag, method])
    try:
        wait_for_line(proc, "READY")
        on = switch("--on", proc.pid)
        assert on.returncode == 0, on.stderr
        open(flag + ".start", "w").close()
        wait_for_line(proc, "STARTED")
        time.sleep(2.0)  # two workers burn CPU, profiled
        off = switch("--off", proc.pid)
        assert off.returncode == 0, off.stderr
        # the profile written at --off has the workers' work so far
        assert wait_for(out.exists, timeout=60), "no profile written at --off"
        mid = load_json(str(out))
        # the parent, two workers (and, with spawn, multiprocessing's resource tracker)
        assert mid["profiler"]["processes"] >= 3, mid["profiler"]
        # two busy workers and a parent that waits: about 2/3 of the time
        assert region_share(mid, path, "def worker(", 6) > 50, mid["files"]
        mid_seconds = mid["profiler"]["total_sampled_sec"]
        time.sleep(1.5)  # the workers run on, switched off: none of it is sampled
        on = switch("--on", proc.pid)
        assert on.returncode == 0, on.stderr
        time.sleep(1.0)  # and switched on again
        open(flag + ".stop", "w").close()
        rc, _, err = finish(proc)
    finally:
        open(flag + ".stop", "w").close()  # the workers end even if the test failed
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err
    final = load_json(str(out))
    assert final["profiler"]["processes"] == mid["profiler"]["processes"], final["profiler"]
    assert region_share(final, path, "def worker(", 6) > 50, final["files"]
    # on for ~2 s + ~1 s with two busy workers and a waiting parent: about
    # 3 x 3 s sampled; the 1.5 s off would have added ~4.5 s more
    seconds = final["profiler"]["total_sampled_sec"]
    assert mid_seconds + 0.5 < seconds < mid_seconds * 1.5 + 1.0, (mid_seconds, seconds)


def test_profile_command_bad_pids(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid, says in ((dead.pid, "no process"), ("abc", "not a process id"), ("0", "not a process id"),
                      ("-5", "not a process id")):
        run = switch("--on", pid)
        assert run.returncode == 1, run.stderr
        assert says in one_line_error(run.stderr)
    run = run_python(["-m", "scalene.profile", "--pid", "1"])  # neither --on nor --off
    assert run.returncode == 2
    one_line_error(run.stderr)


def test_profile_command_refuses_a_process_not_being_profiled():
    other = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "up"
        run = switch("--on", other.pid)
        assert run.returncode == 1, run.stderr
        assert "not being profiled" in one_line_error(run.stderr)
        assert other.poll() is None  # left alone (the real-time signal would have killed it)
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
