"""Ground truth by construction: does each line get its true share?

Tolerances come from sampling statistics.  A share p estimated from N
independent samples has a standard error of sqrt(p(1-p)/N) <= 0.5/sqrt(N).
These programs run for 2-3 s of CPU at the default 10 ms mean interval, so
N >= ~150 and one standard error is <= 4 points; the 10-point tolerances
below are 2.5 standard errors or more.  CPU shares (Python + native) are
compared rather than wall-clock shares, because other processes on a busy
2-core machine show up as off-CPU ("system") time of a CPU-bound thread.
"""
import json
import os
import sys

import pytest

from scalene_testlib import cpu, line_of, lines_by_number, program, total

# What an out-of-process frame-reading sampler (py-spy 0.4, 500 Hz) measured
# for lines A / B / C of this very program on this machine (2026-11-21), per
# interpreter build (told apart by their full versions): the pyenv builds
# here.  The design brief's in-process C handler measured 56/36/7, 48/46/6
# and 50/44/6.  The truth belongs to a
# build, not to a minor version: on Debian's /usr/bin/python3 3.11.2 the same
# program measures about 57/33/8 (py-spy, 2026-11-22), so that build is not
# held to 3.11.7's numbers.  Builds without a measured truth (3.9, 3.10,
# Debian's) are held only to line B not being starved.
FRAME_READER_TRUTH = {
    (3, 11, 7): (49, 45, 5),
    (3, 12, 1): (48, 47, 3),
    (3, 13, 0): (47, 49, 3),
}


def test_julia_arithmetic_line_is_seen(scalene):
    path = program("julia.py")
    # 3 ms mean interval: 800-900 samples in the ~1.5 s of CPU this takes, so
    # one standard error is under 2 points; the run-to-run spread of the
    # program itself (measured at 2 kHz) is about as large again.
    options = ["--cpu-sampling-rate", "0.003"]
    if os.environ.get("SCALENE_SANITIZE") == "1":
        # The sanitized engine's allocation hooks are several times slower,
        # and line B allocates two complex objects per iteration: that
        # really does shift the program's time towards B (by 3-5 points),
        # which is not what this test measures.
        options.append("--cpu-only")
    run = scalene(["run", *options, path, "---", "500"])
    assert run.returncode == 0, run
    lines, _ = lines_by_number(run.profile, path)
    a = cpu(lines[line_of(path, "while abs(z) < 2")])
    b = cpu(lines[line_of(path, "z = z * z + c")])
    c = cpu(lines[line_of(path, "n += 1")])
    function_total = sum(cpu(ln) for n, ln in lines.items() if 8 <= n <= 18)
    shares = [100 * v / function_total for v in (a, b, c)]
    assert shares[1] >= 25, "z = z * z + c got %.1f%% of calc's CPU time (%s)" % (shares[1], shares)
    truth = FRAME_READER_TRUTH.get(sys.version_info[:3])
    if truth:
        for got, want, name in zip(shares, truth, "ABC"):
            assert abs(got - want) <= 10, "line %s: %.1f%% vs %d%% (all: %s)" % (name, got, want, shares)


def test_python_vs_native_split(scalene):
    path = program("py_native.py")
    run = scalene(["run", path, "---", "1.2"])
    assert run.returncode == 0, run
    truth = json.loads(run.stderr.strip().splitlines()[0])
    true_native = 100 * truth["native"] / (truth["native"] + truth["python"])
    lines, _ = lines_by_number(run.profile, path)
    native = lines[line_of(path, "NATIVE-CALL")]
    loop = [lines[line_of(path, "PY-LOOP-HEADER")], lines[line_of(path, "PY-LOOP-BODY")]]
    assert native["n_cpu_percent_c"] >= 0.8 * cpu(native), native
    loop_py = sum(ln["n_cpu_percent_python"] for ln in loop)
    loop_cpu = sum(cpu(ln) for ln in loop)
    assert loop_py >= 0.8 * loop_cpu, loop
    all_cpu = sum(cpu(ln) for ln in lines.values())
    got_native = 100 * cpu(native) / all_cpu
    got_loop = 100 * loop_cpu / all_cpu
    assert abs(got_native - true_native) <= 10, (got_native, true_native)
    assert abs(got_loop - (100 - true_native)) <= 10, (got_loop, true_native)


def test_sleep_is_system_time(scalene):
    path = program("sleeper.py")
    run = scalene(["run", path, "---", "0.6"])
    assert run.returncode == 0, run
    lines, _ = lines_by_number(run.profile, path)
    sleep = lines[line_of(path, "SLEEP-LINE")]
    busy = lines[line_of(path, "BUSY-LOOP")]
    # The sleep is half the wall time by construction; what a busy thread
    # loses to other processes also counts as off-CPU, so allow 15 points.
    assert sleep["n_sys_percent"] >= 0.95 * total(sleep), sleep
    assert 35 <= total(sleep) <= 65, total(sleep)
    assert cpu(busy) > 0.5 * total(busy), busy


def test_virtual_time_ignores_sleep(scalene):
    path = program("sleeper.py")
    run = scalene(["run", "--use-virtual-time", path, "---", "0.4"])
    assert run.returncode == 0, run
    lines, _ = lines_by_number(run.profile, path)
    assert total(lines.get(line_of(path, "SLEEP-LINE"), {"n_cpu_percent_python": 0, "n_cpu_percent_c": 0,
                                                        "n_sys_percent": 0})) < 3
    assert run.profile["profiler"]["cpu_mode"] == "virtual"


def test_threads_land_on_their_own_lines(scalene):
    path = program("threads.py")
    run = scalene(["run", path, "---", "1.0"])
    assert run.returncode == 0, run
    lines, _ = lines_by_number(run.profile, path)
    py = lines[line_of(path, "PY-WORKER")]
    native = lines[line_of(path, "NATIVE-WORKER")]
    sleepy = lines[line_of(path, "SLEEP-WORKER")]
    join = lines[line_of(path, "MAIN-JOIN")]
    # How much CPU each worker gets depends on the machine's load and on the
    # GIL; what it is doing when it runs does not.
    assert py["n_cpu_percent_python"] >= 0.8 * cpu(py) and cpu(py) > 0.5, py
    assert native["n_cpu_percent_c"] >= 0.8 * cpu(native) and cpu(native) > 0.5, native
    assert sleepy["n_sys_percent"] >= 0.8 * total(sleepy) and total(sleepy) > 5, sleepy
    assert join["n_sys_percent"] >= 0.8 * total(join) and total(join) > 5, join
    # Four threads each spend the whole run on one line: a quarter each in
    # thread time, give or take what CPU contention moves to off-CPU time.
    for ln in (py, native, sleepy, join):
        assert 10 <= total(ln) <= 40, [total(x) for x in (py, native, sleepy, join)]


def test_function_totals_have_qualified_names(scalene, tmp_path):
    src = tmp_path / "classy.py"
    src.write_text(
        "import time\n"
        "class Box:\n"
        "    def spin(self):\n"
        "        end = time.monotonic() + 0.4\n"
        "        while time.monotonic() < end:\n"
        "            pass\n"
        "def outer():\n"
        "    def inner():\n"
        "        Box().spin()\n"
        "    inner()\n"
        "outer()\n"
    )
    run = scalene(["run", str(src)])
    assert run.returncode == 0, run
    _, detail = lines_by_number(run.profile, str(src))
    names = {f["line"]: f for f in detail["functions"]}
    assert "Box.spin" in names, names.keys()
    assert names["Box.spin"]["lineno"] == 3
