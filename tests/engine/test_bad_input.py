"""Bad input: one clear line and a non-zero exit, never our traceback."""
import os
import signal
import subprocess
import sys
import time

from scalene_testlib import ROOT, child_env, lines_by_number, program


def one_line_error(run):
    err = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(err) == 1, run
    assert "Traceback" not in run.stderr
    return err[0]


def test_missing_file(scalene):
    run = scalene(["run", "/nonexistent/prog.py"])
    assert run.returncode != 0
    assert "No such file" in one_line_error(run)


def test_directory(scalene, tmp_path):
    run = scalene(["run", str(tmp_path)])
    assert run.returncode != 0
    assert "directory" in one_line_error(run)


def test_unknown_option(scalene):
    run = scalene(["run", "--no-such-option", program("exits3.py")])
    assert run.returncode == 2
    assert "unrecognized" in one_line_error(run)


def test_bad_option_value(scalene):
    run = scalene(["run", "--cpu-sampling-rate", "-1", program("exits3.py")])
    assert run.returncode == 2
    assert "cpu-sampling-rate" in one_line_error(run)


def test_no_program(scalene):
    run = scalene(["run"])
    assert run.returncode == 2
    assert "no program" in one_line_error(run)


def test_syntax_error_in_target(scalene, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\ndef f(:\n    pass\n")
    run = scalene(["run", str(bad)])
    assert run.returncode == 1
    assert "SyntaxError" in run.stderr and "scalene/" not in run.stderr


def test_view_bad_files(scalene, tmp_path):
    (tmp_path / "trunc.json").write_text('{"files": {')
    (tmp_path / "foreign.json").write_text('[1, 2, 3]')
    for name in ("missing.json", "trunc.json", "foreign.json"):
        run = scalene(["view", "--cli", str(tmp_path / name)], outfile=False)
        assert run.returncode != 0
        one_line_error(run)


def test_too_short_program_says_why(scalene, tmp_path):
    quick = tmp_path / "quick.py"
    quick.write_text("import sys\nsys.exit(5)\n")
    run = scalene(["run", str(quick)])
    assert run.returncode == 5
    assert "nothing to report" in run.stderr and "sampling interval" in run.stderr, run
    assert run.profile["profiler"]["why_empty"]


def test_time_outside_selected_files_says_why(scalene, tmp_path):
    prog = tmp_path / "lib_only.py"
    prog.write_text("import json\nx = [list(range(50))] * 2000\nfor _ in range(60):\n    json.loads(json.dumps(x))\n")
    run = scalene(["run", "--profile-exclude", "lib_only", str(prog)])
    assert run.returncode == 0
    assert "outside the selected files" in run.stderr and "--profile-all" in run.stderr, run


def _run_until_ready_then(sig, tmp_path):
    out = str(tmp_path / "sig.json")
    proc = subprocess.Popen([sys.executable, "-m", "scalene", "run", "-o", out, program("forever.py")],
                            cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr, out


def test_sigint_still_writes_the_profile(tmp_path):
    rc, stderr, out = _run_until_ready_then(signal.SIGINT, tmp_path)
    assert rc == -signal.SIGINT, stderr
    assert "KeyboardInterrupt" in stderr
    import json

    lines, _ = lines_by_number(json.load(open(out)), program("forever.py"))
    assert any(ln["n_cpu_percent_python"] > 0 for ln in lines.values())


def test_sigterm_still_writes_the_profile(tmp_path):
    rc, stderr, out = _run_until_ready_then(signal.SIGTERM, tmp_path)
    assert rc == -signal.SIGTERM, stderr
    assert os.path.getsize(out) > 0
    import json

    assert json.load(open(out))["files"]


def test_program_with_its_own_timers_and_blocking_io(scalene):
    path = program("own_timer.py")
    run = scalene(["run", path])
    assert run.returncode == 0, run
    lines, _ = lines_by_number(run.profile, path)
    busy = [ln for ln in lines.values() if "# BUSY" in ln["line"]][0]
    assert busy["n_cpu_percent_python"] + busy["n_cpu_percent_c"] > 0, busy


def test_os_exit_still_writes_the_profile(scalene, tmp_path):
    prog = tmp_path / "hard_exit.py"
    prog.write_text("import os, time\nend = time.monotonic() + 0.3\nwhile time.monotonic() < end:\n    pass\n"
                    "os._exit(7)\n")
    run = scalene(["run", str(prog)])
    assert run.returncode == 7
    assert run.profile["files"]
