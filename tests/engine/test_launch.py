"""The program runs as it would without the profiler."""
import json
import os

from scalene_testlib import PROGRAMS, lines_by_number, program


def test_script_sees_its_own_launch(scalene):
    path = program("argv_check.py")
    run = scalene(["run", path, "---", "0", "--flag", "x y"])
    assert run.returncode == 0, run
    seen = json.loads(run.stdout)
    assert seen["argv"] == [path, "0", "--flag", "x y"]
    assert seen["file"] == path
    assert seen["name"] == "__main__"
    assert seen["path0"] == os.path.dirname(path)
    assert seen["spec"] == "None"
    assert seen["main_is_me"]


def test_exit_status_is_passed_through(scalene):
    run = scalene(["run", program("argv_check.py"), "---", "3"])
    assert run.returncode == 3, run
    run = scalene(["run", program("exits3.py")])
    assert run.returncode == 3, run
    lines, _ = lines_by_number(run.profile, program("exits3.py"))
    assert any(ln["n_cpu_percent_python"] > 0 for ln in lines.values())


def test_uncaught_exception_prints_traceback_and_exits_1(scalene):
    path = program("raises.py")
    run = scalene(["run", path])
    assert run.returncode == 1, run
    assert "Traceback (most recent call last)" in run.stderr
    assert "ValueError: the program's own error" in run.stderr
    assert "scalene/" not in run.stderr.split("ValueError")[0].replace(path, ""), run.stderr
    lines, _ = lines_by_number(run.profile, path)
    assert sum(ln["n_cpu_percent_python"] + ln["n_cpu_percent_c"] + ln["n_sys_percent"]
               for ln in lines.values()) > 50


def test_module_mode(scalene):
    run = scalene(["run", "-m", "pkgmod", "---", "a", "b"], cwd=PROGRAMS)
    assert run.returncode == 0, run
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["name"] == "__main__"
    assert seen["spec"] == "pkgmod.__main__"
    assert seen["argv"][1:] == ["a", "b"]
    assert seen["argv"][0].endswith(os.path.join("pkgmod", "__main__.py"))
    profile = run.profile
    assert any(f.endswith(os.path.join("pkgmod", "__main__.py")) for f in profile["files"]), profile["files"].keys()


def test_verbless_form_prints_the_report(scalene, tmp_path):
    out = tmp_path / "legacy.json"
    run = scalene(["--outfile", str(out), program("sleeper.py"), "0.3"], outfile=False)
    assert run.returncode == 0, run
    assert "sleeper.py" in run.stdout and "SLEEP-LINE" in run.stdout, run
    assert json.loads(out.read_text())["files"]


def test_run_says_where_the_profile_is(scalene):
    run = scalene(["run", program("exits3.py")])
    assert "profile saved to" in run.stderr and "scalene view" in run.stderr, run


def test_python_dash_m_scalene_help_and_version(scalene):
    run = scalene(["--version"], outfile=False)
    assert run.returncode == 0 and "scalene" in run.stdout
    run = scalene(["run", "--help"], outfile=False)
    assert run.returncode == 0 and "--cpu-sampling-rate" in run.stdout


def test_profile_has_reference_keys(scalene):
    path = program("sleeper.py")
    run = scalene(["run", path, "---", "0.2"])
    profile = run.profile
    for key in ("program", "entrypoint_dir", "filename", "args", "alloc_samples", "elapsed_time_sec",
                "start_time_absolute", "start_time_perf", "growth_rate", "max_footprint_mb",
                "max_footprint_python_fraction", "max_footprint_fname", "max_footprint_lineno",
                "native_allocations_mb", "files", "gpu", "gpu_device", "memory", "async_profile", "samples",
                "stacks", "main_thread_id", "memory_stacks"):
        assert key in profile, key
    lines, detail = lines_by_number(profile, path)
    assert set(detail) >= {"functions", "imports", "leaks", "lines", "percent_cpu_time"}
    with open(path) as f:
        source = f.readlines()
    assert len(lines) == len(source)
    for n, text in enumerate(source, 1):
        assert lines[n]["line"] == text
        for key in ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent", "n_core_utilization",
                    "cpu_samples_list", "n_gpu_percent", "n_gpu_avg_memory_mb", "n_gpu_peak_memory_mb",
                    "n_malloc_mb", "n_mallocs", "n_avg_mb", "n_peak_mb", "n_growth_mb", "n_usage_fraction",
                    "n_python_fraction", "n_copy_mb_s", "memory_samples", "start_region_line",
                    "end_region_line", "start_outermost_loop", "end_outermost_loop", "start_function_line",
                    "end_function_line"):
            assert key in lines[n], key
    busy = [ln for ln in lines.values() if "BUSY-LOOP" in ln["line"]][0]
    assert busy["start_region_line"] <= busy["lineno"] <= busy["end_region_line"]
    assert busy["start_function_line"] > 0
    assert busy["cpu_samples_list"] == sorted(busy["cpu_samples_list"])
