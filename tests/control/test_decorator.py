"""@profile without an import: only decorated functions' lines are reported."""
from scalene_testlib import program
from ctl_helpers import share_of


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from _code_objects(const)


def _code_lines(code):
    if hasattr(code, "co_lines"):
        return [line for _, _, line in code.co_lines()]
    import dis
    return [line for _, line in dis.findlinestarts(code)]


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
    # The lines a decorated function owns are those of its code object: its
    # body, and its first line, which for a decorated function is the
    # decorator's (co_firstlineno: the prologue, RESUME on 3.11+, is there).
    # A thread stopped at entry (a GC pass or a GIL hand-off scheduled at
    # RESUME) is reported on that line, as frame.f_lineno reports it.
    allowed = set()
    for code in _code_objects(compile("\n".join(source) + "\n", path, "exec")):
        if code.co_name in ("decorated", "late"):
            allowed.add(code.co_firstlineno)
            allowed.update(n for n in _code_lines(code) if n is not None)
    loops = {n for n, text in enumerate(source, 1) if "CHOSEN-" in text or "LATE" in text}
    assert len(loops) == 4 and allowed >= loops, (allowed, loops)
    assert set(active) <= allowed, [(n, source[n - 1]) for n in active if n not in allowed]
    names = {fn["line"] for fn in profile["files"][path]["functions"]}
    assert names <= {"decorated", "make_late.<locals>.late", "late"}, names
