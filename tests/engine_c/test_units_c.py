"""The engine's plain-C units (ring, tables, JSON writer, symbols), built plain and
with AddressSanitizer + UndefinedBehaviorSanitizer, each test in its own
process so a crash is a failed test with its output."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = ["ring_mpsc", "ring_full_drops", "map_and_strings", "json_escaping", "symbols"]


@pytest.fixture(scope="module", params=["plain", "sanitize"])
def binary(request):
    out = os.path.join(ROOT, "build", "ctests", "units", request.param)
    cmd = ["make", "-s", "-C", os.path.join(ROOT, "engine", "tests", "units"), "OUT=" + out]
    if request.param == "sanitize":
        cmd.append("SAN=1")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout
    return os.path.join(out, "test_units")


@pytest.mark.parametrize("name", TESTS)
def test_unit(binary, name):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="halt_on_error=1")
    env.pop("LD_PRELOAD", None)
    proc = subprocess.run([binary, name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout
