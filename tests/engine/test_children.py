"""Child processes are profiled with the parent's options and merged into its
profile: multiprocessing (fork, spawn, forkserver), ProcessPoolExecutor,
subprocess running python, os.fork."""
import pytest

from scalene_testlib import line_of, lines_by_number, program, skip_fork_under_sanitizer, total


def seconds_on(profile, lines, numbers):
    return sum(total(lines[n]) for n in numbers) * profile["profiler"]["total_sampled_sec"] / 100


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_pool_workers_get_their_true_share(scalene, method):
    """4 tasks of 0.3 s of square work and 4 of 0.15 s of cube work, each
    spinning on the wall clock: 1.2 s and 0.6 s of worker time whatever the
    machine's load.  A sample's weight is measured time, so the tolerance is
    what sampling granularity (10 ms) and task start-up jitter allow."""
    if method != "spawn":
        skip_fork_under_sanitizer()
    path = program("mp_pool.py")
    run = scalene(["run", path, "---", method], timeout=120)
    assert run.returncode == 0, run
    profile = run.profile
    assert profile["profiler"]["processes"] >= 5, profile["profiler"]
    lines, _ = lines_by_number(profile, path)
    square = seconds_on(profile, lines, [line_of(path, "SQUARE-WORK") - 1, line_of(path, "SQUARE-WORK")])
    cube = seconds_on(profile, lines, [line_of(path, "CUBE-WORK") - 1, line_of(path, "CUBE-WORK")])
    assert 0.9 <= square <= 1.5, (square, cube)
    assert 0.45 <= cube <= 0.75, (square, cube)


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_executor_with_the_programs_own_start_method(scalene, method):
    if method != "spawn":
        skip_fork_under_sanitizer()
    path = program("mp_executor.py")
    run = scalene(["run", path, "---", method], timeout=120)
    assert run.returncode == 0, run
    assert "exitcode -9" in run.stdout  # the killed child lost only its own data
    profile = run.profile
    lines, _ = lines_by_number(profile, path)
    work = seconds_on(profile, lines, [line_of(path, "EXECUTOR-WORK") - 1, line_of(path, "EXECUTOR-WORK")])
    assert 0.4 <= work <= 0.8, work


def test_subprocess_python_and_os_fork(scalene):
    skip_fork_under_sanitizer()
    path = program("mp_subprocess.py")
    child = program("mp_child_script.py")
    run = scalene(["run", path], timeout=120)
    assert run.returncode == 0, run
    profile = run.profile
    assert profile["profiler"]["processes"] == 3, profile["profiler"]
    lines, _ = lines_by_number(profile, path)
    assert total(lines[line_of(path, "FORK-WORK")]) > 0
    child_lines, _ = lines_by_number(profile, child)
    spent = seconds_on(profile, child_lines, [line_of(child, "CHILD-WORK") - 1, line_of(child, "CHILD-WORK")])
    assert 0.25 <= spent <= 0.55, spent
