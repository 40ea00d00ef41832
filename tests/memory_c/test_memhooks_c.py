"""C tests of the memory interposition layer (engine/memory/).

Builds the test programs of engine/tests/memory/ with their Makefile into
build/ctests/memory/{plain,asan}/ and runs every test case in its own child
process, so that a crash or a hang is one failed test carrying the program's
output.  The "asan" variant is the same code built with
-fsanitize=address,undefined (see docs/memory-layer.md for what it covers).

The selected cases run two at a time in the background (the machines have 2
cores); each pytest item waits for its own case.  Also checks that every
engine/memory/*.c compiles with the extension's flags against the headers of
every CPython installed.
"""
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "engine", "tests", "memory")
LAYER = os.path.join(ROOT, "engine", "memory")
BUILD = os.path.join(ROOT, "build", "ctests", "memory")
VARIANTS = ("plain", "asan")
CASE_TIMEOUT = 60

# Kept in step with the TESTS[] tables of the C programs (checked below).
CASES = {
    "test_units": [
        "weight_function", "draw_distribution", "sampler_unbiased_direct", "table_basic",
        "table_concurrent", "hooks_direct", "threads_direct", "bootstrap_arena", "fork_direct",
    ],
    "test_memhooks": [
        "family_all_libs", "unbiased_tiny", "unbiased_huge", "unbiased_mixed", "free_credit",
        "realloc_growth", "threads", "fork_child", "dlopen_late", "dlopen_runpath",
        "callback_mallocs", "uninstall_restores", "null_callback", "disabled_switch",
        "memcpy_volume", "not_self_not_loader", "concurrent_install",
    ],
    "test_nopie": ["canonical_plt_unbound", "canonical_plt_bound"],
    "test_pymem": [
        "python_domain_large", "python_domain_small", "python_frees_credited",
        "python_threads", "python_uninstall", "python_requires_gil",
    ],
}

PARAMS = [
    pytest.param(v, prog, case, id=f"{v}-{prog}-{case}")
    for v in VARIANTS
    for prog, cases in CASES.items()
    for case in cases
]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("gcc") is None or shutil.which("make") is None,
    reason="the memory layer and its tests need Linux, gcc and make",
)


# Cases are started from worker threads while pytest's main thread goes on
# with other items, and pytest sets PYTEST_CURRENT_TEST in the environment at
# every phase of every item.  Without env=, subprocess execs the child with
# the C `environ` as it is at exec time: CPython vfork()s, so the child reads
# the parent's memory, and a setenv() on the main thread that moves `environ`
# in between makes execve fail with EFAULT ("Bad address"; seen in about 1
# run in 30 of this module).  Each start therefore gets its own copy of the
# environment, made under the GIL before the fork.


def _spawn(cmd, timeout, **kw):
    """subprocess.run(cmd, capture_output=True, text=True, timeout=...) with
    a private copy of the environment (see above)."""
    kw.setdefault("env", dict(os.environ))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


class _Runner:
    """Builds each variant once and runs cases on a small pool, on demand."""

    def __init__(self):
        self.lock = threading.Lock()
        self.build_locks = {v: threading.Lock() for v in VARIANTS}
        self.builds = {}
        self.futures = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))

    def build(self, variant):
        with self.build_locks[variant]:
            if variant not in self.builds:
                r = _spawn(["make", "-s", "-C", SRC, f"VARIANT={variant}", f"-j{os.cpu_count() or 2}", "all"],
                           timeout=300)
                self.builds[variant] = (r.returncode, r.stdout + r.stderr)
            return self.builds[variant]

    def _run(self, variant, prog, case):
        if variant == "smoke":
            return self._smoke(prog, case)
        rc, out = self.build(variant)
        if rc != 0:
            return ("build", rc, out)
        exe = os.path.join(BUILD, variant, prog)
        try:
            r = _spawn([exe, case], timeout=CASE_TIMEOUT, errors="replace")
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
            return ("timeout", None, out + err)
        return ("ran", r.returncode, r.stdout + r.stderr)

    def _smoke(self, python, include):
        """Builds the layer + smoke_ext.c for one CPython and runs the live-
        interpreter workload with it."""
        tag = os.path.basename(include)
        out_dir = os.path.join(BUILD, "smoke-" + tag)
        os.makedirs(out_dir, exist_ok=True)
        so = os.path.join(out_dir, "libscalene_mem_smoke.so")
        sources = [os.path.join(SRC, "smoke_ext.c"), *sorted(glob.glob(os.path.join(LAYER, "*.c")))]
        deps = sources + glob.glob(os.path.join(LAYER, "*.h")) + [os.path.join(include, "Python.h")]
        if not os.path.exists(so) or os.path.getmtime(so) < max(os.path.getmtime(d) for d in deps):
            cmd = ["gcc", *EXT_FLAGS, f"-I{include}", f"-I{os.path.join(ROOT, 'engine')}", "-shared",
                   "-o", so + ".tmp", *sources, "-lm", "-lpthread", "-ldl"]
            r = _spawn(cmd, timeout=300)
            if r.returncode != 0:
                return ("build", r.returncode, " ".join(cmd) + "\n" + r.stdout + r.stderr)
            os.replace(so + ".tmp", so)
        try:
            r = _spawn([python, os.path.join(SRC, "smoke_workload.py"), so], timeout=CASE_TIMEOUT, errors="replace")
        except subprocess.TimeoutExpired as e:
            return ("timeout", None, str(e.stdout or "") + str(e.stderr or ""))
        return ("ran", r.returncode, r.stdout + r.stderr)

    def submit(self, key):
        with self.lock:
            if key not in self.futures:
                self.futures[key] = self.pool.submit(self._run, *key)
            return self.futures[key]


@pytest.fixture(scope="module")
def runner(request):
    r = _Runner()
    # Queue every selected case of this module now, so they run while the
    # earlier ones are being checked: first one case per variant (which builds
    # it), then the smoke jobs (they build themselves), then the rest.
    keys = []
    for item in request.session.items:
        cs = getattr(item, "callspec", None)
        if item.module is not request.module or not cs:
            continue
        if "case" in cs.params:
            keys.append((cs.params["variant"], cs.params["prog"], cs.params["case"]))
        elif "python" in cs.params:
            keys.append(("smoke", cs.params["python"], cs.params["include"]))
    firsts = [next(k for k in keys if k[0] == v) for v in VARIANTS if any(k[0] == v for k in keys)]
    smokes = [k for k in keys if k[0] == "smoke"]
    for k in firsts + smokes + keys:
        r.submit(k)
    yield r
    r.pool.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("variant,prog,case", PARAMS)
def test_case(runner, variant, prog, case):
    kind, rc, out = runner.submit((variant, prog, case)).result()
    if kind == "build":
        pytest.fail(f"building the {variant} tests failed (rc {rc}):\n{out}", pytrace=False)
    if kind == "timeout":
        pytest.fail(f"{prog} {case} ({variant}) hung for {CASE_TIMEOUT}s:\n{out}", pytrace=False)
    if rc == 77:
        pytest.skip(out.strip().splitlines()[-1] if out.strip() else "skipped")
    if rc != 0:
        how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        pytest.fail(f"{prog} {case} ({variant}): {how}\n{out}", pytrace=False)


@pytest.mark.parametrize("variant", VARIANTS)
def test_case_lists_match(runner, variant):
    rc, out = runner.build(variant)
    if rc != 0:
        pytest.fail(f"building the {variant} tests failed:\n{out}", pytrace=False)
    for prog, cases in CASES.items():
        r = _spawn([os.path.join(BUILD, variant, prog), "--list"], timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == cases, f"{prog}: update CASES in {__file__}"


def _python_include_dirs():
    """Headers of every supported CPython (>= 3.9) found on the machine."""
    import re
    import sysconfig
    dirs = sorted(glob.glob("/root/.pyenv/versions/3.*/include/python3.*"))
    dirs += sorted(glob.glob("/usr/include/python3.*"))
    dirs.append(sysconfig.get_paths()["include"])
    seen, out = set(), []
    for d in dirs:
        m = re.search(r"python3\.(\d+)", os.path.basename(d))
        real = os.path.realpath(d)
        if m and int(m.group(1)) >= 9 and os.path.isfile(os.path.join(d, "Python.h")) and real not in seen:
            seen.add(real)
            out.append(d)
    return sorted(out, key=lambda d: (d.startswith("/usr"), d))


EXT_FLAGS = ["-std=gnu11", "-fPIC", "-fvisibility=hidden", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O2"]


def test_only_contract_symbols_global(tmp_path):
    """Naming discipline: every global symbol the layer defines is either one
    of the contract's four functions or a _scalene_mem_* internal (all of
    them hidden by -fvisibility=hidden: the extension exports nothing)."""
    inc = _python_include_dirs()[0]
    contract = {"scalene_memhooks_install", "scalene_memhooks_set_enabled",
                "scalene_memhooks_uninstall", "scalene_memhooks_stats"}
    seen = set()
    for src in sorted(glob.glob(os.path.join(LAYER, "*.c"))):
        obj = tmp_path / (os.path.basename(src) + ".o")
        cmd = ["gcc", *EXT_FLAGS, f"-I{inc}", f"-I{os.path.join(ROOT, 'engine')}", "-c", src, "-o", str(obj)]
        r = _spawn(cmd, timeout=120)
        assert r.returncode == 0, r.stderr
        nm = _spawn(["nm", "--defined-only", "-g", str(obj)], timeout=30)
        for line in nm.stdout.split("\n"):
            parts = line.split()
            if len(parts) == 3:
                seen.add(parts[2])
    stray = sorted(n for n in seen if n not in contract and not n.startswith("_scalene_mem_"))
    assert not stray, f"globals outside the naming scheme: {stray}"
    assert contract <= seen
    so = tmp_path / "layer.so"
    objs = sorted(str(p) for p in tmp_path.glob("*.o"))
    r = _spawn(["gcc", "-shared", "-o", str(so), *objs, "-lm", "-lpthread", "-ldl"], timeout=120)
    assert r.returncode == 0, r.stderr
    nm = _spawn(["nm", "-D", "--defined-only", str(so)], timeout=30)
    exported = [line.split()[-1] for line in nm.stdout.splitlines() if line.split()]
    assert not [n for n in exported if "scalene" in n], exported


def _pythons():
    """(interpreter, its include dir) for every supported CPython found."""
    out = []
    for exe in sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python3.*")):
        base = os.path.basename(exe)
        parts = base[len("python"):].split(".")
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 9 or not os.access(exe, os.X_OK):
            continue
        inc = os.path.join(os.path.dirname(os.path.dirname(exe)), "include", base)
        if os.path.isfile(os.path.join(inc, "Python.h")):
            out.append(pytest.param(exe, inc, id=base))
    if not out:
        import sysconfig
        out.append(pytest.param(sys.executable, sysconfig.get_paths()["include"], id="current"))
    return out


@pytest.mark.parametrize("python,include", _pythons())
def test_live_interpreter(runner, python, include):
    """Install into a running interpreter (ctypes.PyDLL), as start() or a
    Jupyter cell would; imports, threads, fork, uninstall (smoke_workload.py)."""
    kind, rc, out = runner.submit(("smoke", python, include)).result()
    if kind == "build":
        pytest.fail(f"building the smoke library failed:\n{out}", pytrace=False)
    if kind == "timeout":
        pytest.fail(f"live-interpreter workload hung:\n{out}", pytrace=False)
    if rc != 0:
        how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        pytest.fail(f"live-interpreter workload failed ({how}):\n{out}", pytrace=False)


def _headers_without_interpreter():
    """Header dirs that test_live_interpreter does not already compile against
    (it builds every engine/memory/*.c with the extension's flags)."""
    covered = {os.path.realpath(p.values[1]) for p in _pythons()}
    return [d for d in _python_include_dirs() if os.path.realpath(d) not in covered]


@pytest.mark.parametrize("include", _headers_without_interpreter())
def test_layer_compiles_against(include, tmp_path):
    """Every engine/memory/*.c with the extension's flags, for CPython headers
    that have no interpreter here (e.g. /usr/include/python3.11)."""
    sources = sorted(glob.glob(os.path.join(LAYER, "*.c")))
    for src in sources:
        cmd = ["gcc", *EXT_FLAGS, f"-I{include}", f"-I{os.path.join(ROOT, 'engine')}", "-c", src,
               "-o", str(tmp_path / "x.o")]
        r = _spawn(cmd, timeout=120)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
