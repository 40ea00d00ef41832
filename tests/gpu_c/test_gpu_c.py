"""C-level tests of the GPU layer (engine/gpu/) against a fake NVML.

Builds tests/fakes/fake_nvml.c as libnvidia-ml.so.1 and the driver
engine/tests/gpu/gpu_driver.c into build/ctests/gpu/ (plain) and
build/ctests/gpu/asan/ (-fsanitize=address,undefined), then runs every
scenario in a child process with both builds. The driver prints one JSON
object per line; the fake can append its init/shutdown/call counts to a log.
"""

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "ctests" / "gpu"
VARIANTS = {"plain": BUILD, "asan": BUILD / "asan"}


@pytest.fixture(scope="session")
def builds():
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler")
    BUILD.mkdir(parents=True, exist_ok=True)
    # Several interpreters' test runs may build at once: serialise.
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name, out in VARIANTS.items():
            cmd = ["make", "-s", "-C", str(ROOT / "engine" / "tests" / "gpu"), f"OUT={out}"]
            if name == "asan":
                cmd.append("SAN=1")
            p = subprocess.run(cmd, capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr
    return VARIANTS


@pytest.fixture(params=list(VARIANTS))
def drv(request, builds, tmp_path):
    return Driver(builds[request.param], tmp_path, request.param)


class Driver:
    def __init__(self, out, tmp, variant):
        self.out = out
        self.tmp = tmp
        self.variant = variant
        self.log = tmp / "fake.log"
        self.fake = out / "fake" / "libnvidia-ml.so.1"
        self.fake_v2only = out / "fake-v2only" / "libnvidia-ml.so.1"

    def run(self, *ops, lib=None, expect_rc=0, timeout=20, **fake):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FAKE_NVML_", "SCALENE_", "ASAN_", "UBSAN_", "LD_PRELOAD"))
        }
        env["SCALENE_NVML_LIBRARY"] = str(lib if lib is not None else self.fake)
        env["FAKE_NVML_LOG"] = str(self.log)
        env["ASAN_OPTIONS"] = "detect_leaks=1:halt_on_error=1"
        env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
        for k, v in fake.items():
            if k.startswith("SCALENE_"):
                env[k] = str(v)
            else:
                env["FAKE_NVML_" + k.upper()] = str(v)
        p = subprocess.run(
            [str(self.out / "gpu_driver"), *ops],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert p.returncode == expect_rc, f"rc={p.returncode}\n{p.stdout}\n{p.stderr}"
        assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    def log_lines(self):
        return self.log.read_text().splitlines() if self.log.exists() else []

    def calls(self):
        """Call counts of the last NVML session, from the fake's log."""
        lines = [l for l in self.log_lines() if l.startswith("calls ")]
        assert lines, self.log_lines()
        return {k: int(v) for k, v in (kv.split("=") for kv in lines[-1].split()[1:])}


def ok_samples(out):
    return [r for r in out if r["op"] == "sample" and r["rc"] == 0]


def assert_balanced(drv):
    """Every successful nvmlInit was matched by nvmlShutdown."""
    log = drv.log_lines()
    inits = sum(1 for l in log if l.startswith("init rc=0"))
    shutdowns = sum(1 for l in log if l.startswith("shutdown rc=0"))
    assert inits == shutdowns, log
    assert not any("uninitialized" in l for l in log), log


# ---------------------------------------------------------------- normal use


def test_device_wide_utilization(drv):
    out = drv.run("open", "sample:3", "close", devices=2, util="30,70")
    o = out[0]
    assert (o["rc"], o["available"], o["ndevices"], o["per_process"]) == (0, 1, 2, 0)
    assert "device 0: accounting mode disabled" in o["why"]
    s = ok_samples(out)
    assert len(s) == 3
    for r in s:
        assert r["utilization"] == pytest.approx(0.5)
        assert r["memory_mb"] == 0.0
        assert r["per_process"] == 0
    assert_balanced(drv)


def test_single_device(drv):
    out = drv.run("open", "sample", "close", devices=1, util=42)
    assert out[0]["ndevices"] == 1
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.42)


def test_per_process_accounting(drv):
    out = drv.run(
        "open", "sample", "close",
        devices=2, util=90, accounting=1, acct="0:self:40,1:self:20,0:4242:100",
    )
    o = out[0]
    assert (o["rc"], o["available"], o["per_process"], o["why"]) == (0, 1, 1, "")
    # mean of this pid's accounting utilisation, not the device-wide 90 %
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.30)


def test_per_process_other_pid(drv):
    out = drv.run(
        "open", "pid:4242", "sample", "close",
        devices=2, accounting=1, acct="0:self:40,1:self:20,0:4242:100,1:4242:50",
    )
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.75)


def test_per_process_not_found_counts_as_zero(drv):
    # pid has stats on device 0 only: NOT_FOUND on device 1 means "did not use it"
    out = drv.run("open", "sample", devices=2, accounting=1, acct="0:self:60")
    assert out[0]["per_process"] == 1
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.30)


def test_per_process_value_not_available_is_left_out(drv):
    out = drv.run("open", "sample", devices=2, accounting=1, acct="0:self:60,1:self:na")
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.60)


def test_accounting_on_some_devices_only(drv):
    out = drv.run("open", "sample", devices=2, util="10,30", accounting="1,0", acct="0:self:99")
    assert out[0]["per_process"] == 0
    assert "device 1: accounting mode disabled" in out[0]["why"]
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.20)


def test_memory_summed_over_devices_for_pid_only(drv):
    procs = "0:4242:1000,0:self:100,1:self:50,1:4242:7,1:self:na,1:999:3"
    out = drv.run("open", "sample", "pid:4242", "sample", "pid:0", "sample", "close",
                  devices=2, util=0, procs=procs)
    s = ok_samples(out)
    assert [r["memory_mb"] for r in s] == [150.0, 1007.0, 150.0]
    assert_balanced(drv)


def test_memory_buffer_grows(drv):
    # 2 x 500 other processes: more than the initial buffer -> INSUFFICIENT_SIZE
    out = drv.run("open", "sample:3", "close", devices=2,
                  procs="0:self:5,1:self:7", extra_procs=500,
                  SCALENE_GPU_MEMORY_INTERVAL_MS=0)
    assert [r["memory_mb"] for r in ok_samples(out)] == [12.0] * 3


@pytest.mark.parametrize("stride", [16, 24, 32])
def test_process_entry_stride(drv, stride):
    # our entries after others, so a wrong stride would misread them
    out = drv.run("open", "sample:2", "close", devices=2, proc_stride=stride,
                  procs="0:4242:1000,0:777:3,0:self:100,1:4242:9,1:self:50",
                  extra_procs=3, SCALENE_GPU_MEMORY_INTERVAL_MS=0)
    assert [r["memory_mb"] for r in ok_samples(out)] == [150.0, 150.0]


def test_v2_entry_point_fallback(drv):
    out = drv.run("open", "sample", "close", lib=drv.fake_v2only, devices=2,
                  procs="0:self:1,1:self:2,1:5:100")
    assert out[0]["available"] == 1
    assert ok_samples(out)[0]["memory_mb"] == 3.0


def test_memory_query_rate_limited(drv):
    out = drv.run("open", "sample:20", "close", devices=2, procs="0:self:1",
                  SCALENE_GPU_MEMORY_INTERVAL_MS=60000)
    assert len(ok_samples(out)) == 20
    # 2 probes at open + one refresh of 2 devices; utilisation every sample
    assert drv.calls()["procs"] == 4
    assert drv.calls()["util"] == 2 + 40
    drv.log.unlink()
    out = drv.run("open", "sample:20", "close", devices=2, procs="0:self:1",
                  SCALENE_GPU_MEMORY_INTERVAL_MS=0)
    assert drv.calls()["procs"] == 2 + 40
    # a change of pid forces a refresh
    drv.log.unlink()
    out = drv.run("open", "sample", "pid:4242", "sample", "close", devices=1,
                  procs="0:self:1,0:4242:5", SCALENE_GPU_MEMORY_INTERVAL_MS=60000)
    assert [r["memory_mb"] for r in ok_samples(out)] == [1.0, 5.0]


def test_open_twice_close_twice(drv):
    out = drv.run("sample", "open", "open", "sample", "close", "close", "sample",
                  "open", "sample", "close", devices=1, util=20)
    assert out[0]["rc"] == -4 and out[0]["available"] == 0
    assert out[1]["rc"] == 0 and out[2]["rc"] == 0 and out[2]["available"] == 1
    assert out[3]["rc"] == 0
    assert out[6]["rc"] == -4 and "not open" in out[6]["why"]
    assert out[7]["rc"] == 0 and out[8]["rc"] == 0
    assert sum(1 for l in drv.log_lines() if l.startswith("init rc=0")) == 2
    assert_balanced(drv)


def test_null_arguments(drv):
    out = drv.run("open-null", "sample-null", "sample", "close", devices=1, util=20)
    assert out[0]["rc"] == 0
    assert out[1]["rc1"] == -6 and out[1]["rc2"] == -6
    assert out[2]["rc"] == 0  # a bad call does not disable the layer


def test_fork_child_reopens(drv):
    out = drv.run("open", "fork", "sample", "close", devices=1, util=20, procs="0:self:3")
    child = [r for r in out if r.get("child") == 1]
    assert child[0]["op"] == "open" and child[0]["rc"] == 0
    assert child[1]["op"] == "sample" and child[1]["rc"] == 0
    # "self" in the fake is the child's pid after its own nvmlInit
    assert child[1]["memory_mb"] == 3.0
    assert [r for r in out if r["op"] == "fork"][0]["child_status"] == 0
    assert ok_samples([r for r in out if r.get("child") == 0])[0]["utilization"] == pytest.approx(0.2)


# ------------------------------------------------------------ failure modes


def test_library_missing(drv):
    missing = drv.tmp / "nowhere" / "libnvidia-ml.so.1"
    out = drv.run("open", "sample", "close", "sample", lib=missing)
    o = out[0]
    assert (o["rc"], o["available"], o["ndevices"], o["per_process"]) == (-1, 0, 0, 0)
    assert "not loaded" in o["why"] and "nowhere" in o["why"]
    assert out[1]["rc"] == -4 and out[1]["why"] == o["why"]
    assert out[3]["rc"] == -4


def test_library_is_not_nvml(drv):
    out = drv.run("open", "sample", lib="libm.so.6")
    assert out[0]["rc"] == -1 and "lacks symbol nvmlInit_v2" in out[0]["why"]
    assert out[1]["rc"] == -4


def test_init_fails(drv):
    out = drv.run("open", "sample", "close", err="init=9")
    assert out[0]["rc"] == -2 and out[0]["available"] == 0
    assert "nvmlInit_v2" in out[0]["why"] and "Driver Not Loaded" in out[0]["why"]
    assert out[1]["rc"] == -4
    # no nvmlShutdown after a failed nvmlInit
    assert not any(l.startswith("shutdown") for l in drv.log_lines())


def test_no_devices(drv):
    out = drv.run("open", "sample", devices=0)
    assert out[0]["rc"] == -3 and out[0]["available"] == 0 and out[0]["ndevices"] == 0
    assert "no NVIDIA GPU" in out[0]["why"]
    assert out[1]["rc"] == -4
    assert_balanced(drv)  # nvmlShutdown called when giving up


def test_count_fails(drv):
    out = drv.run("open", err="count=999")
    assert out[0]["rc"] == -3 and "nvmlDeviceGetCount_v2" in out[0]["why"]
    assert_balanced(drv)


def test_one_handle_fails(drv):
    out = drv.run("open", "sample", devices=2, util="10,50", err="handle@0=4")
    assert out[0]["rc"] == 0 and out[0]["ndevices"] == 1
    assert "device 0 skipped" in out[0]["why"]
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.5)


def test_utilization_not_supported(drv):
    out = drv.run("open", "sample", "close", devices=2, util=50, err="util=3",
                  procs="0:self:8")
    o = out[0]
    assert o["rc"] == 0 and o["available"] == 1
    assert "device 0: utilisation Not Supported" in o["why"]
    s = ok_samples(out)[0]
    assert s["utilization"] == 0.0 and s["memory_mb"] == 8.0
    assert drv.calls()["util"] == 2  # probed once per device, never again


def test_utilization_not_supported_on_one_device(drv):
    out = drv.run("open", "sample", devices=2, util="40,80", err="util@1=3")
    assert "device 1: utilisation Not Supported" in out[0]["why"]
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.4)


def test_accounting_mode_not_supported(drv):
    out = drv.run("open", "sample", devices=2, util=60, accounting=1,
                  acct="0:self:10", err="acctmode=3")
    o = out[0]
    assert (o["rc"], o["available"], o["per_process"]) == (0, 1, 0)
    assert "device 0: accounting mode Not Supported" in o["why"]
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.6)


def test_accounting_stats_not_supported(drv):
    out = drv.run("open", "sample", devices=1, util=60, accounting=1, err="acctstats=3")
    o = out[0]
    assert (o["rc"], o["per_process"]) == (0, 0)
    assert "device 0: accounting stats Not Supported" in o["why"]
    assert ok_samples(out)[0]["utilization"] == pytest.approx(0.6)


def test_process_list_not_supported(drv):
    out = drv.run("open", "sample", devices=1, util=60, err="procs=3", procs="0:self:5")
    assert out[0]["rc"] == 0 and "device 0: process memory Not Supported" in out[0]["why"]
    s = ok_samples(out)[0]
    assert s["utilization"] == pytest.approx(0.6) and s["memory_mb"] == 0.0


def test_nothing_supported(drv):
    out = drv.run("open", "sample", devices=1, err="util=3,procs=3")
    assert out[0]["rc"] == -3 and out[0]["available"] == 0
    assert "no GPU metric" in out[0]["why"]
    assert out[1]["rc"] == -4
    assert_balanced(drv)


def test_mid_run_failure_utilization(drv):
    # 2 probes at open + 2 per sample: sample 1 ok, sample 2 hits call 5
    out = drv.run("open", "sample:4", "close", "open", "sample", "close",
                  devices=2, util=50, fail_after="util:4:15")
    s = [r for r in out if r["op"] == "sample"]
    assert s[0]["rc"] == 0 and s[0]["utilization"] == pytest.approx(0.5)
    assert s[1]["rc"] == -5 and s[1]["available"] == 0
    assert "GPU is lost" in s[1]["why"] and "nvmlDeviceGetUtilizationRates" in s[1]["why"]
    assert s[2]["rc"] == -4 and s[3]["rc"] == -4 and s[3]["why"] == s[1]["why"]
    assert s[2]["utilization"] == -1.0  # outputs untouched on failure
    # a reopen starts afresh (the fake resets its counters at init)
    reopened = [r for r in out if r["op"] == "open"][1]
    assert reopened["rc"] == 0 and s[4]["rc"] == 0
    assert_balanced(drv)


def test_mid_run_failure_fast_path_makes_no_nvml_call(drv):
    out = drv.run("open", "sample:50", "close", devices=1, util=50,
                  fail_after="util:3:999", SCALENE_GPU_MEMORY_INTERVAL_MS=0,
                  procs="0:self:1")
    rcs = [r["rc"] for r in out if r["op"] == "sample"]
    assert rcs[:2] == [0, 0] and rcs[2] == -5 and set(rcs[3:]) == {-4}
    c = drv.calls()
    assert c["util"] == 4 and c["procs"] == 1 + 2


def test_mid_run_failure_process_list(drv):
    out = drv.run("open", "sample:3", devices=1, util=50, procs="0:self:1",
                  fail_after="procs:2:999", SCALENE_GPU_MEMORY_INTERVAL_MS=0)
    rcs = [r["rc"] for r in out if r["op"] == "sample"]
    assert rcs == [0, -5, -4]
    assert "nvmlDeviceGetComputeRunningProcesses_v3" in out[2]["why"]


def test_mid_run_failure_accounting_stats(drv):
    out = drv.run("open", "sample:3", devices=1, accounting=1, acct="0:self:30",
                  fail_after="acctstats:2:15")
    rcs = [r["rc"] for r in out if r["op"] == "sample"]
    assert rcs == [0, -5, -4]
    assert "nvmlDeviceGetAccountingStats" in out[2]["why"]


# ------------------------------------------------------------------ threads


def test_threads_sample_concurrently(drv):
    # the fake aborts if two NVML calls overlap: the layer must serialise
    out = drv.run("open", "threads:4:300", "sample", "close", devices=2, util="30,70",
                  procs="0:self:100,1:self:50,0:9:1", check_serial=1, delay_us=20,
                  SCALENE_GPU_MEMORY_INTERVAL_MS=0)
    t = [r for r in out if r["op"] == "threads"][0]
    assert (t["ok"], t["fail"]) == (1200, 0)
    assert t["umin"] == pytest.approx(0.5) and t["umax"] == pytest.approx(0.5)
    assert t["mmin"] == 150.0 and t["mmax"] == 150.0
    assert drv.calls()["util"] == 2 + 2 * 1201
    assert_balanced(drv)


def test_threads_with_mid_run_failure(drv):
    out = drv.run("open", "threads:4:200", "sample", "close", devices=1, util=30,
                  check_serial=1, fail_after="util:101:999")
    t = [r for r in out if r["op"] == "threads"][0]
    assert t["ok"] == 100 and t["fail"] == 700
    assert out[2]["rc"] == -4
    assert drv.calls()["util"] == 102
    assert_balanced(drv)


def test_threads_while_closing_and_reopening(drv):
    # close/open race with 4 sampling threads: no crash, every result 0 or -4
    out = drv.run("open", "churn:4:200", "sample", "close", devices=2, util=30,
                  procs="0:self:4", check_serial=1, SCALENE_GPU_MEMORY_INTERVAL_MS=0)
    c = [r for r in out if r["op"] == "churn"][0]
    assert c["other"] == 0 and c["open_fail"] == 0
    assert c["ok"] + c["unavail"] > 0
    s = ok_samples(out)[0]
    assert s["utilization"] == pytest.approx(0.3) and s["memory_mb"] == 4.0
    assert_balanced(drv)


# --------------------------------------------------------------------- cost


def test_sample_cost(drv):
    if drv.variant != "plain":
        pytest.skip("timing only for the optimised build")
    out = drv.run("open", "bench:20000", "close", devices=2, util=50,
                  procs="0:self:1,1:self:2")
    b = [r for r in out if r["op"] == "bench"][0]
    assert b["fail"] == 0
    # the layer's own cost (fake NVML calls are nearly free); generous bound
    assert b["ns_per_sample"] < 20000, b
