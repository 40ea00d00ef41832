"""scalene run's options, help, YAML config, the --- separator, the older
verb-less form and -m pytest, end to end through `python -m scalene`."""
import json
import os
import re

import pytest
from scalene_testlib import PROGRAMS, program
from ctl_helpers import load_json, one_line_error, run_python, share_of

REFERENCE_OPTIONS = [
    "--outfile", "--cpu-only", "--config", "--help-advanced", "--profile-all", "--profile-only",
    "--profile-exclude", "--profile-system-libraries", "--gpu", "--memory", "--stacks", "--no-stacks",
    "--async", "--no-async", "--profile-interval", "--use-virtual-time", "--cpu-percent-threshold",
    "--cpu-sampling-rate", "--allocation-sampling-window", "--malloc-threshold", "--program-path",
    "--memory-leak-detector", "--use-legacy-tracer", "--use-python-callback", "--disable-jit", "--on", "--off",
    "--reduced-profile",
]


def options_of(run):
    """The JSON line ctl_options.py printed: the session's Options."""
    assert run.returncode == 0, run
    return json.loads([ln for ln in run.stdout.splitlines() if ln.startswith("{")][-1])


def test_basic_help_is_short_and_advanced_lists_everything(scalene):
    run = scalene(["run", "--help"], outfile=False)
    assert run.returncode == 0, run
    listed = set(re.findall(r"^\s+(-\w|--[\w-]+)", run.stdout, re.M))
    assert listed == {"-h", "-o", "--cpu-only", "-c", "--help-advanced"}, listed
    assert "--help-advanced" in run.stdout and "scalene run prog.py" in run.stdout
    adv = scalene(["run", "--help-advanced"], outfile=False)
    assert adv.returncode == 0, adv
    documented = set()
    for line in adv.stdout.splitlines():
        if re.match(r"^\s+-", line):
            documented.update(re.findall(r"(?<![\w-])(--?[\w-]+)", line.strip().split("  ")[0]))
    for option in REFERENCE_OPTIONS:
        assert option in documented, option
    assert len(adv.stdout.splitlines()) > 3 * len(run.stdout.splitlines()) // 2


def test_version_and_top_level_help(scalene):
    run = scalene(["--version"], outfile=False)
    assert run.returncode == 0 and run.stdout.startswith("scalene "), run
    run = scalene(["--help"], outfile=False)
    assert run.returncode == 0, run
    for door in ("scalene run", "scalene view", "scalene.profile --on", "@profile", "scalene_profiler",
                 "%load_ext scalene"):
        assert door in run.stdout, door


@pytest.mark.parametrize("args, names", [
    (["--cpu-sampling-rate", "0"], "--cpu-sampling-rate"),
    (["--cpu-sampling-rate", "fast"], "--cpu-sampling-rate"),
    (["--profile-interval", "-2"], "--profile-interval"),
    (["--profile-interval", "soon"], "--profile-interval"),
    (["--cpu-percent-threshold", "150"], "--cpu-percent-threshold"),
    (["--cpu-percent-threshold", "x"], "--cpu-percent-threshold"),
    (["--malloc-threshold", "-1"], "--malloc-threshold"),
    (["--allocation-sampling-window", "0"], "--allocation-sampling-window"),
    (["--allocation-sampling-window", "1.5"], "--allocation-sampling-window"),
    (["--program-path", "/nonexistent/dir"], "--program-path"),
    (["-o", "/nonexistent/dir/p.json"], "--outfile"),
    (["-o", "/"], "--outfile"),
    (["-c", "/nonexistent.yaml"], "--config"),
    (["--pid", "abc"], "--pid"),
    (["--no-such-option"], "--no-such-option"),
])
def test_bad_values_are_one_line_exit_2(scalene, args, names):
    run = scalene(["run"] + args + [program("exits3.py")], outfile=False)
    assert run.returncode == 2, run
    assert names in one_line_error(run.stderr)


def test_bad_value_in_the_verbless_form(scalene):
    run = scalene(["--column-width", "0", program("exits3.py")], outfile=False)
    assert run.returncode == 2, run
    assert "--column-width" in one_line_error(run.stderr)


@pytest.mark.parametrize("option", ["--profile-only", "--profile-exclude", "--cpu-sampling-rate", "-o", "-m"])
def test_missing_value_is_one_line_exit_2(scalene, option):
    run = scalene(["run", option], outfile=False)
    assert run.returncode == 2, run
    one_line_error(run.stderr)


def test_program_arguments_pass_through_untouched(scalene):
    path = program("argv_check.py")
    run = scalene(["run", "--cpu-only", path, "---", "0", "--cpu-only", "-o", "x", "---", "--off"])
    assert run.returncode == 0, run
    assert json.loads(run.stdout)["argv"] == [path, "0", "--cpu-only", "-o", "x", "---", "--off"]
    run = scalene(["run", path, "0", "-m", "--help"])  # without ---: everything after the program
    assert run.returncode == 0, run
    assert json.loads(run.stdout)["argv"] == [path, "0", "-m", "--help"]


def test_cpu_gpu_memory_naming_and_option_flow(scalene):
    path = program("ctl_options.py")
    opts = options_of(scalene(["run", path]))
    assert (opts["memory"], opts["gpu"]) == (True, True)  # all on by default
    assert opts["_kind"] == "run" and opts["_profile_is_builtin"]
    opts = options_of(scalene(["run", "--cpu-only", path]))
    assert (opts["memory"], opts["gpu"]) == (False, False)
    opts = options_of(scalene(["run", "--memory", path]))
    assert (opts["memory"], opts["gpu"]) == (True, False)
    opts = options_of(scalene(["run", "--gpu", path]))
    assert (opts["memory"], opts["gpu"]) == (False, True)
    opts = options_of(scalene(["run", "--cpu-percent-threshold", "7.5", "--malloc-threshold", "3",
                               "--allocation-sampling-window", "4096", "--cpu-sampling-rate", "0.002",
                               "--profile-interval", "30", "--use-virtual-time", "--stacks", "--reduced-profile",
                               "--no-memory-leak-detector", "--profile-only", "a,b", "--program-path", PROGRAMS,
                               path]))
    assert opts["cpu_percent_threshold"] == 7.5 and opts["malloc_threshold"] == 3
    assert opts["allocation_sampling_window"] == 4096 and opts["cpu_sampling_rate"] == 0.002
    assert opts["profile_interval"] == 30 and opts["use_virtual_time"] and opts["stacks"]
    assert opts["reduced_profile"] and not opts["memory_leak_detector"]
    assert opts["profile_only"] == "a,b" and opts["program_path"] == PROGRAMS


def test_cpu_percent_threshold_is_honoured(scalene, tmp_path):
    path, helper = program("ctl_two_files.py"), program("ctl_two_files_helper.py")
    # the helper has about a tenth of the time, the main file the rest (--cpu-only: with memory
    # profiling a file allocating 1 MB is reported whatever its time)
    run = scalene(["run", "--cpu-sampling-rate", "0.002", "--cpu-percent-threshold", "0", path])
    assert run.returncode == 0, run
    assert share_of(run.profile, helper, "HELPER-WORK") > 0, run.profile["files"].keys()
    run = scalene(["run", "--cpu-only", "--cpu-sampling-rate", "0.002", "--cpu-percent-threshold", "50", path])
    assert run.returncode == 0, run
    assert list(run.profile["files"]) == [path]


def test_yaml_config(scalene, tmp_path):
    path = program("ctl_options.py")
    cfg = tmp_path / "scalene.yaml"
    cfg.write_text("cpu-sampling-rate: 0.003\nprofile_only: [alpha, beta]\nstacks: true\noff: true\n"
                   "memory: true\ncpu-percent-threshold: 5\n")
    opts = options_of(scalene(["run", "-c", str(cfg), path]))
    assert opts["cpu_sampling_rate"] == 0.003 and opts["profile_only"] == "alpha,beta"
    assert opts["stacks"] and opts["off"] and opts["cpu_percent_threshold"] == 5
    assert (opts["memory"], opts["gpu"]) == (True, False)  # the file named memory only
    # the command line wins
    opts = options_of(scalene(["run", "--cpu-sampling-rate", "0.02", "--on", "--no-stacks", "-c", str(cfg), path]))
    assert opts["cpu_sampling_rate"] == 0.02 and not opts["off"] and not opts["stacks"]
    assert opts["profile_only"] == "alpha,beta"
    # YAML reads a bare `on:` key as a boolean; it still means --on
    cfg.write_text("on: false\noutput: %s\n" % (tmp_path / "y.json"))
    opts = options_of(scalene(["run", "-c", str(cfg), path], outfile=False))
    assert opts["off"] and opts["outfile"] == str(tmp_path / "y.json")


@pytest.mark.parametrize("text, names", [
    ("cpu-samplng-rate: 0.01\n", "cpu-samplng-rate"),
    ("cpu-sampling-rate: fast\n", "cpu-sampling-rate"),
    ("stacks: maybe\n", "stacks"),
    ("profile-interval: -1\n", "profile-interval"),
    ("allocation_sampling_window: 2.5\n", "allocation_sampling_window"),
    ("- just\n- a list\n", "mapping"),
    ("a: [\n", "YAML"),
])
def test_yaml_errors_are_one_line_exit_2(scalene, tmp_path, text, names):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    run = scalene(["run", "-c", str(cfg), program("exits3.py")], outfile=False)
    assert run.returncode == 2, run
    assert names in one_line_error(run.stderr)


def test_yaml_without_pyyaml_says_so(scalene, tmp_path):
    fake = tmp_path / "noyaml" / "yaml"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named yaml')\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("stacks: true\n")
    from scalene_testlib import ROOT

    run = scalene(["run", "-c", str(cfg), program("exits3.py")], outfile=False,
                  env={"PYTHONPATH": str(tmp_path / "noyaml") + os.pathsep + ROOT})
    assert run.returncode == 2, run
    assert "PyYAML" in one_line_error(run.stderr)


def test_verbless_form_with_older_options(scalene, tmp_path):
    out = tmp_path / "legacy.json"
    path = program("ctl_two_files.py")
    run = scalene(["--cli", "--cpu", "--reduced-profile", "--column-width", "120", "--outfile", str(out), path],
                  outfile=False)
    assert run.returncode == 0, run
    assert "MAIN-WORK" in run.stdout, run
    assert share_of(load_json(out), path, "MAIN-WORK") > 0
    run = scalene(["--json", "--outfile", str(out), path], outfile=False)
    assert run.returncode == 0 and "MAIN-WORK" not in run.stdout, run
    html = tmp_path / "scalene-profile.html"
    run = scalene(["--html", "--outfile", str(out), path], outfile=False)
    assert run.returncode == 0 and html.exists(), run
    assert "<html" in html.read_text()[:2000].lower()


def test_module_mode_profiles_a_pytest_suite(scalene, tmp_path):
    tests = tmp_path / "suite"
    tests.mkdir()
    (tests / "test_busy.py").write_text(
        "def busy(n):\n"
        "    x = 0\n"
        "    for i in range(n):  # SUITE-LOOP\n"
        "        x += i * i  # SUITE-BUSY\n"
        "    return x\n\n\n"
        "def test_busy():\n"
        "    assert busy(1_500_000) > 0\n\n\n"
        "def test_fails_when_asked():\n"
        "    import os\n"
        "    assert not os.environ.get('CTL_FAIL')\n")
    out = tmp_path / "p.json"
    run = scalene(["run", "-o", str(out), "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite"],
                  outfile=False, cwd=str(tmp_path))
    assert run.returncode == 0, run
    assert "2 passed" in run.stdout, run
    # the loop's lines together (how samples split between header and body
    # is noise at this run length)
    profile = load_json(out)
    assert sum(share_of(profile, str(tests / "test_busy.py"), m) for m in ("SUITE-LOOP", "SUITE-BUSY")) > 30
    run = scalene(["run", "-o", str(out), "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite"],
                  outfile=False, cwd=str(tmp_path), env={"CTL_FAIL": "1"})
    assert run.returncode == 1 and "1 failed" in run.stdout, run


def test_python_flags_before_the_program(scalene):
    run = scalene(["run", "-u", "-B", "-W", "ignore", program("argv_check.py"), "---", "0"])
    assert run.returncode == 0, run
    assert json.loads(run.stdout)["argv"][1:] == ["0"]


def test_decorator_guard_runs_without_scalene():
    run = run_python([program("ctl_decorated_guard.py")])
    assert run.returncode == 0 and run.stdout.strip() == str(sum(i * i for i in range(10000))), run.stderr
