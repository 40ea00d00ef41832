"""GPU profiling end to end against the fake libnvidia-ml.so.1 the suite builds."""
import os
import subprocess

import pytest

from scalene_testlib import ROOT, line_of, lines_by_number, program


@pytest.fixture(scope="module")
def fake_nvml():
    out = os.path.join(ROOT, "build", "ctests", "gpu")
    proc = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "engine", "tests", "gpu"), "OUT=" + out],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        pytest.fail("cannot build the fake NVML: " + proc.stdout)
    return os.path.join(out, "fake", "libnvidia-ml.so.1")


def test_gpu_utilisation_and_memory_are_attributed(scalene, fake_nvml):
    path = program("sleeper.py")
    env = {"SCALENE_NVML_LIBRARY": fake_nvml, "FAKE_NVML_UTIL": "40", "FAKE_NVML_PROCS": "0:self:512"}
    run = scalene(["run", "--gpu", path, "---", "0.3"], env=env)
    assert run.returncode == 0, run
    profile = run.profile
    assert profile["gpu"] is True and profile["gpu_device"] == "GPU", profile["profiler"]
    lines, _ = lines_by_number(profile, path)
    busy = lines[line_of(path, "BUSY-LOOP")]
    assert abs(busy["n_gpu_percent"] - 40) < 1, busy
    assert abs(busy["n_gpu_peak_memory_mb"] - 512) < 1, busy
    assert profile["profiler"]["gpu_utilization"] == "device-wide"


def test_no_gpu_library_means_gpu_off(scalene, tmp_path):
    env = {"SCALENE_NVML_LIBRARY": str(tmp_path / "missing.so")}
    run = scalene(["run", "--gpu", program("exits3.py")], env=env)
    assert run.returncode == 3, run
    profile = run.profile
    assert profile["gpu"] is False and profile["gpu_device"] == ""
    assert profile["profiler"]["gpu_why"]


def test_gpu_failing_mid_run_does_not_crash(scalene, fake_nvml):
    env = {"SCALENE_NVML_LIBRARY": fake_nvml, "FAKE_NVML_UTIL": "50",
           "FAKE_NVML_FAIL_AFTER": "nvmlDeviceGetUtilizationRates:5:999"}
    run = scalene(["run", "--gpu", program("sleeper.py"), "---", "0.3"], env=env)
    assert run.returncode == 0, run
    assert "fail" in (run.profile["profiler"]["gpu_why"] or "").lower() or run.profile["profiler"]["gpu_why"]
