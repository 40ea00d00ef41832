"""Helpers for the control-surface tests (command line, on/off, API,
@profile, Jupyter, periodic profile).  Everything runs in child processes
through the shared helpers of tests/scalene_testlib.py."""
import json
import os
import subprocess
import sys
import time

from scalene_testlib import ROOT, child_env, line_of, lines_by_number, program, total


def share_of(profile, path, marker):
    """Total % (Python + native + system) on the line of `path` with `marker`;
    0 when the file or line is not in the profile."""
    files = [k for k in profile["files"] if os.path.realpath(k) == os.path.realpath(path)]
    if not files:
        return 0.0
    lines, _ = lines_by_number(profile, path)
    line = lines.get(line_of(path, marker))
    return total(line) if line else 0.0


def text_share(profile, filename, marker):
    """Total % on the profile's line of `filename` whose text has `marker`
    (for files that no longer exist, such as a notebook cell's)."""
    for line in profile["files"][filename]["lines"]:
        if marker in line["line"]:
            return total(line)
    raise AssertionError("marker %r not in %s" % (marker, filename))


def region_share(profile, path, def_marker, nlines):
    """Total % on the `nlines` lines starting at the line with `def_marker`."""
    files = [k for k in profile["files"] if os.path.realpath(k) == os.path.realpath(path)]
    if not files:
        return 0.0
    lines, _ = lines_by_number(profile, path)
    start = line_of(path, def_marker)
    return sum(total(lines[n]) for n in range(start, start + nlines) if n in lines)


def one_line_error(proc_stderr):
    err = [ln for ln in proc_stderr.splitlines() if ln.strip()]
    assert len(err) == 1, proc_stderr
    assert "Traceback" not in proc_stderr, proc_stderr
    return err[0]


def spawn(argv, cwd=None, env=None):
    """Start `python <argv>` in the background (stdout/stderr piped)."""
    return subprocess.Popen([sys.executable] + list(argv), cwd=cwd or ROOT, env=child_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def wait_for_line(proc, expected, timeout=60):
    """Read proc's stdout until a line equals `expected`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("process ended before printing %r (rc=%s): %s"
                                 % (expected, proc.poll(), proc.stderr.read()))
        if line.strip() == expected:
            return
    raise AssertionError("timed out waiting for %r" % expected)


def wait_for(predicate, timeout=60, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def run_python(argv, cwd=None, env=None, timeout=180):
    return subprocess.run([sys.executable] + list(argv), cwd=cwd or ROOT, env=child_env(env),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True, timeout=timeout)


def finish(proc, timeout=120):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("process did not end: %s" % err)
    return proc.returncode, out, err


def load_json(path):
    with open(path) as f:
        return json.load(f)


__all__ = ["text_share", "share_of", "region_share", "one_line_error", "spawn", "wait_for_line", "wait_for", "run_python", "finish",
           "load_json", "program", "ROOT"]
