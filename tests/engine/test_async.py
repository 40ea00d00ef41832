"""asyncio: time a coroutine spends awaiting goes to its awaiting line."""
from scalene_testlib import line_of, lines_by_number, program


def test_await_time_known_by_construction(scalene):
    """slow awaits 0.6 s, fast 0.2 s, main awaits the gather 0.6 s: shares of
    all await time 43 / 14 / 43 %.  Await samples come from the wall-clock
    sampler: at a 2 ms mean, ~300 per run, so 8 points is over 4 standard
    errors even for the 14 % line (at the default 10 ms, ~60 samples, it was
    under 3, and CI once saw 5.7 %)."""
    path = program("async_known.py")
    run = scalene(["run", "--cpu-sampling-rate", "0.002", path])
    assert run.returncode == 0, run
    profile = run.profile
    assert profile["async_profile"] is True
    lines, _ = lines_by_number(profile, path)
    slow = lines[line_of(path, "AWAIT-SLOW")]
    fast = lines[line_of(path, "AWAIT-FAST")]
    gather = lines[line_of(path, "AWAIT-GATHER")]
    assert abs(slow["n_async_await_percent"] - 42.9) <= 8, slow
    assert abs(fast["n_async_await_percent"] - 14.3) <= 8, fast
    assert abs(gather["n_async_await_percent"] - 42.9) <= 8, gather
    assert slow["is_coroutine"] and not lines[line_of(path, "asyncio.run(main())")]["is_coroutine"]
    assert fast["n_async_concurrency_peak"] == 3
    assert 2 <= slow["n_async_concurrency_mean"] <= 3


def test_no_async_turns_it_off(scalene):
    path = program("async_known.py")
    run = scalene(["run", "--no-async", path])
    assert run.returncode == 0, run
    profile = run.profile
    assert profile["async_profile"] is False
    lines, _ = lines_by_number(profile, path)
    assert all(ln["n_async_await_percent"] == 0 for ln in lines.values())
