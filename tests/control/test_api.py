"""scalene_profiler.start()/stop()/enable_profiling(): under `scalene run
--off`, and in a plain python3 process."""
import os
import shutil

from scalene_testlib import program
from ctl_helpers import load_json, region_share, run_python


def test_api_switches_scalene_run_off(scalene):
    path = program("ctl_api.py")
    run = scalene(["run", "--off", path])
    assert run.returncode == 0 and "done" in run.stdout, run
    assert region_share(run.profile, path, "def inside(", 5) > 80
    assert region_share(run.profile, path, "def outside(", 5) < 3


def test_api_in_plain_python_writes_the_profile(tmp_path):
    path = str(tmp_path / "ctl_api.py")
    shutil.copy(program("ctl_api.py"), path)
    run = run_python([path], cwd=str(tmp_path))
    assert run.returncode == 0 and "done" in run.stdout, run.stderr
    out = tmp_path / "scalene-profile.json"
    assert out.exists(), run.stderr
    assert run.stderr.count("profile saved to") == 1 and str(out) in run.stderr, run.stderr
    profile = load_json(str(out))
    assert profile["program"] == path
    assert region_share(profile, path, "def inside(", 5) > 80, profile["files"].keys()
    assert region_share(profile, path, "def outside(", 5) < 3


def test_api_in_plain_python_writes_at_exit_when_still_running(tmp_path):
    path = str(tmp_path / "ctl_api.py")
    shutil.copy(program("ctl_api.py"), path)
    run = run_python([path, "no-stop"], cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    profile = load_json(os.path.join(str(tmp_path), "scalene-profile.json"))
    assert region_share(profile, path, "def inside(", 5) > 80
    assert "profile saved to" in run.stderr
