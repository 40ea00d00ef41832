"""Helpers for the end-to-end tests: run the profiler in a child process.

Every test that runs the engine does so in a child process (python -m scalene
...), so a crash of the C code is a failed test with its output, never a
crashed test run.  The interpreter is the one running pytest; the suite is
run once per CPython by tools/check.sh.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = os.path.join(ROOT, "tests", "programs")

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def _sanitizer_env():
    """With SCALENE_SANITIZE=1, children load the ASan+UBSan build of the
    engine (make sanitize) with the sanitizer runtime preloaded."""
    import glob
    import sysconfig

    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    soabi = sysconfig.get_config_var("SOABI")
    version = "%d.%d.%d" % sys.version_info[:3]
    path = os.path.join(ROOT, "build", "sanitize-%s-%s" % (soabi, version), "scalene", "_engine" + suffix)
    if not os.path.exists(path):
        pytest.exit("SCALENE_SANITIZE=1 but %s is missing: run make sanitize PYTHON=%s" % (path, sys.executable))
    libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {
        "SCALENE_ENGINE_PATH": path,
        "LD_PRELOAD": libasan,
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99:handle_segv=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=98",
    }


def skip_fork_under_sanitizer():
    """GCC 12's ASan allocator is not fork-safe: a fork while another thread
    holds its allocator lock (our drain thread allocates) leaves the child
    hanging in malloc.  glibc's allocator is fork-safe, so these run in the
    normal build on every interpreter; only the sanitized run skips them."""
    if os.environ.get("SCALENE_SANITIZE") == "1":
        pytest.skip("fork under the ASan runtime can deadlock in ASan's own allocator (GCC 12)")


def child_env(extra=None):
    env = dict(os.environ)
    if os.environ.get("SCALENE_SANITIZE") == "1":
        env.update(_sanitizer_env())
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONSTARTUP", None)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    env.setdefault("SCALENE_CRASH_REPORT", "1")  # C stack of a crash, then faulthandler's
    if extra:
        env.update(extra)
    return env


class Run:
    def __init__(self, proc, profile_path):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.profile_path = profile_path

    @property
    def profile(self):
        with open(self.profile_path) as f:
            return json.load(f)

    def __repr__(self):
        return "<Run rc=%s\nstdout=%s\nstderr=%s>" % (self.returncode, self.stdout[-3000:], self.stderr[-3000:])


def run_scalene(args, tmp_path, timeout=180, env=None, outfile=True, cwd=None, stdin=None):
    """python -m scalene <args>; with outfile=True, `-o <tmp>/profile.json` is
    added after the verb `run`."""
    profile = str(tmp_path / "profile.json")
    argv = list(args)
    if outfile and argv and argv[0] == "run":
        argv = ["run", "-o", profile] + argv[1:]
    proc = subprocess.run(
        [sys.executable, "-m", "scalene"] + argv,
        cwd=cwd or ROOT,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        text=True,
        timeout=timeout,
    )
    if proc.returncode < 0 or "Fatal Python error" in proc.stderr or "scalene: fatal signal" in proc.stderr:
        # a crash, of the profiler or of a child process: keep the whole
        # report (pytest shows captured output; its assertion message is cut)
        print("scalene %s exited %d after a crash; its stderr:\n%s" % (" ".join(argv), proc.returncode, proc.stderr))
    return Run(proc, profile)


def program(name):
    return os.path.join(PROGRAMS, name)


def line_of(path, marker):
    """The 1-based number of the line containing `marker` in a test program."""
    with open(path) as f:
        for i, text in enumerate(f, 1):
            if marker in text:
                return i
    raise AssertionError("marker %r not in %s" % (marker, path))


def lines_by_number(profile, path):
    files = profile["files"]
    key = [k for k in files if os.path.realpath(k) == os.path.realpath(path)]
    assert key, "file %s not in profile (files: %s)" % (path, list(files))
    return {ln["lineno"]: ln for ln in files[key[0]]["lines"]}, files[key[0]]


def cpu(line):
    return line["n_cpu_percent_python"] + line["n_cpu_percent_c"]


def total(line):
    return line["n_cpu_percent_python"] + line["n_cpu_percent_c"] + line["n_sys_percent"]


