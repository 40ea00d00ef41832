"""@profile without an import: only decorated functions' lines are reported."""
from scalene_testlib import program
from ctl_helpers import share_of


def test_only_decorated_functions_are_reported(scalene):
    path = program("ctl_decorated.py")
    run = scalene(["run", path])
    assert run.returncode == 0, run
    profile = run.profile
    assert list(profile["files"]) == [path], profile["files"].keys()
    # Each decorated function runs for about as long: each gets a good part
    # of the reported time (summed over its loop's lines: with a few dozen
    # samples, how they split between the loop header and body is noise).
    lines = {ln["lineno"]: ln for ln in profile["files"][path]["lines"]}

    def function_share(def_marker):
        with open(path) as f:
            start = next(i for i, text in enumerate(f, 1) if def_marker in text)
        return sum(ln["n_cpu_percent_python"] + ln["n_cpu_percent_c"] + ln["n_sys_percent"]
                   for n, ln in lines.items() if start - 1 <= n <= start + 5)

    decorated, late = function_share("def decorated"), function_share("def late")
    assert decorated > 15 and late > 15, (decorated, late, share_of(profile, path, "CHOSEN-LOOP"))
    assert share_of(profile, path, "PLAIN-LOOP") == 0
    lines = {ln["lineno"]: ln for ln in profile["files"][path]["lines"]}
    active = sorted(n for n, ln in lines.items()
                    if ln["n_cpu_percent_python"] + ln["n_cpu_percent_c"] + ln["n_sys_percent"] > 0)
    with open(path) as f:
        source = f.read().splitlines()
    allowed = set()
    for start_marker in ("def decorated", "def late"):
        start = next(i for i, text in enumerate(source, 1) if start_marker in text)
        allowed.update(range(start, start + 5))
    assert set(active) <= allowed, [(n, source[n - 1]) for n in active if n not in allowed]
    names = {fn["line"] for fn in profile["files"][path]["functions"]}
    assert names <= {"decorated", "make_late.<locals>.late", "late"}, names
