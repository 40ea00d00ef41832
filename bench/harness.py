"""Shared machinery of the benchmark harness (overhead.py, peers.py).

Protocol
--------
* Every measurement is the wall time of the WHOLE process tree, from spawn to
  exit, as a user waits for it (interpreter start-up, profiler start-up,
  the program, writing the profile).  Parsing the profile afterwards is not
  timed.
* For each program, the configurations are run in rounds: plain, A, B, ...,
  plain, A, B, ... (``--runs`` rounds), so that slow drifts of the machine's
  load hit every configuration alike.
* The slowdown of a configuration on a program is median(its wall times) /
  median(plain wall times); the summary is the median (and geometric mean)
  of those ratios over the programs.  Start-up cost is measured on a nearly empty (0.2 s sleep)
  program as median(config) - median(plain), in milliseconds.
* Accuracy (ground-truth programs only): each profile is reduced to per-line
  CPU shares inside the program file (line-level profilers) or to per-function
  shares (function-level profilers); the error of one run is the largest
  |reported - true| share, in percentage points, over the lines that are
  >= 5 % in the truth or in the report; the table shows the median over runs.
"""
from __future__ import annotations

import atexit
import datetime as _dt
import glob
import json
import math
import os
import re
import resource
import signal
import shutil
import statistics
import threading
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import venvs  # noqa: E402
import pyperf_driver  # noqa: E402

BENCH = venvs.BENCH
REPO = venvs.REPO
PROGRAMS_DIR = BENCH / "programs"
WRAPPERS = BENCH / "wrappers"
RESULTS_DIR = BENCH / "results"
GT_THRESHOLD = 0.05  # lines at or above 5 % are scored


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- programs

@dataclass
class Program:
    name: str
    script: Path           # the file given to the interpreter / profiler
    args: list[str]
    kind: str              # "cpu" | "gt" | "pyperf" | "startup"
    gt_source: Optional[Path] = None   # file whose lines the truth is about

    @property
    def is_gt(self) -> bool:
        return self.kind == "gt"


CPU_PROGRAMS = ["loops", "objects", "recursion", "numpy_mix", "threads"]
GT_PROGRAMS = ["gt_julia", "gt_py_native", "gt_threads", "gt_alloc"]
# Ground truth for CPU shares / for allocated MB per line.
GT_CPU = {"gt_julia", "gt_py_native", "gt_threads"}
GT_MEM = {"gt_alloc"}
# Truth at function level exists for these (one hot line per function).
GT_FUNCTION_LEVEL = {"gt_py_native", "gt_threads"}


def discover_programs(pyperformance: bool = False, only: Optional[list[str]] = None,
                      startup: bool = True) -> list[Program]:
    progs: list[Program] = []
    for n in CPU_PROGRAMS:
        progs.append(Program(n, PROGRAMS_DIR / f"{n}.py", [], "cpu"))
    for n in GT_PROGRAMS:
        p = PROGRAMS_DIR / f"{n}.py"
        progs.append(Program(n, p, [], "gt", gt_source=p))
    if pyperformance:
        for n, loops in pyperf_driver.LOOPS.items():
            progs.append(Program(f"pyperf_{n}", BENCH / "pyperf_driver.py", [n, str(loops)], "pyperf"))
    if startup:
        progs.append(Program("empty", PROGRAMS_DIR / "empty.py", [], "startup"))
    if only:
        progs = [p for p in progs if p.name in only or p.kind in only]
    return progs


# --------------------------------------------------------------------------- profiles

@dataclass
class Shares:
    """A profile reduced to shares (0..1) within the ground-truth file."""
    level: str                       # "line" or "function"
    shares: dict                     # lineno(int) or function name -> share
    note: str = ""


def _normalise(d: dict) -> dict:
    tot = sum(d.values())
    return {k: v / tot for k, v in d.items()} if tot > 0 else {}


def _same_file(reported: str, target: Path) -> bool:
    if not reported:
        return False
    return reported == str(target) or os.path.basename(reported) == target.name


def _scalene_lines(path: Path, target: Path) -> Optional[list]:
    """The line entries of `target` in a Scalene-format JSON profile (ours or
    Scalene's); [] when the file is not in it, None when there is no profile."""
    if not path.exists():
        return None
    d = json.loads(path.read_text())
    for fname, fd in d.get("files", {}).items():
        if _same_file(fname, target):
            return fd.get("lines", [])
    return []


def parse_scalene_json(path: Path, target: Path) -> Optional[Shares]:
    """Scalene's JSON (and ours: same format): per-line Python + native CPU %."""
    entries = _scalene_lines(path, target)
    if entries is None:
        return None
    if not entries:
        return Shares("line", {}, note="program file not in profile")
    lines = {}
    for ln in entries:
        v = float(ln.get("n_cpu_percent_python", 0)) + float(ln.get("n_cpu_percent_c", 0))
        if v > 0:
            lines[int(ln["lineno"])] = v
    return Shares("line", _normalise(lines))


def parse_scalene_mem(path: Path, target: Path) -> Optional[dict]:
    """Scalene's JSON (and ours): allocated MB per line (``n_malloc_mb``)."""
    entries = _scalene_lines(path, target)
    if entries is None:
        return None
    return {str(ln["lineno"]): float(ln.get("n_malloc_mb", 0)) for ln in entries
            if float(ln.get("n_malloc_mb", 0)) > 0}


_PYSPY_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?):(?P<line>\d+)\)$")


def parse_pyspy_raw(path: Path, target: Path) -> Optional[Shares]:
    """py-spy ``--format raw``: collapsed stacks; each sample goes to the innermost
    frame that lies in the program file (native callees have no frame)."""
    if not path.exists():
        return None
    lines: dict = {}
    for row in path.read_text().splitlines():
        row = row.strip()
        if not row or " " not in row:
            continue
        stack, _, count = row.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        for frame in reversed(stack.split(";")):
            m = _PYSPY_FRAME.match(frame.strip())
            if m and _same_file(m.group("file"), target):
                ln = int(m.group("line"))
                lines[ln] = lines.get(ln, 0) + n
                break
    return Shares("line", _normalise(lines))


def parse_cprofile(path: Path, target: Path, functions: set) -> Optional[Shares]:
    import pstats
    if not path.exists():
        return None
    st = pstats.Stats(str(path)).stats
    res: dict = {}
    for (fname, _line, func), (_cc, _nc, _tt, ct, _callers) in st.items():
        if func in functions and _same_file(fname, target):
            res[func] = res.get(func, 0.0) + ct
    return Shares("function", _normalise(res), note="" if res else "no data (main thread only)")


def parse_pyinstrument(path: Path, target: Path, functions: set) -> Optional[Shares]:
    if not path.exists():
        return None
    d = json.loads(path.read_text())
    res: dict = {}

    def walk(fr):
        if fr.get("function") in functions and _same_file(fr.get("file_path", ""), target):
            res[fr["function"]] = res.get(fr["function"], 0.0) + float(fr.get("time", 0))
            return  # inclusive time; do not count nested calls again
        for c in fr.get("children", []):
            walk(c)

    walk(d["root_frame"])
    return Shares("function", _normalise(res), note="" if res else "no data (main thread only)")


def parse_yappi(path: Path, target: Path, functions: set) -> Optional[Shares]:
    if not path.exists():
        return None
    d = json.loads(path.read_text())
    res: dict = {}
    for r in d["functions"]:
        if r["name"] in functions and _same_file(r["module"], target):
            res[r["name"]] = res.get(r["name"], 0.0) + float(r["ttot"])
    return Shares("function", _normalise(res), note="" if res else "no data")


def parse_line_profiler(path: Path, target: Path) -> Optional[Shares]:
    if not path.exists():
        return None
    d = json.loads(path.read_text())
    lines: dict = {}
    for f in d["functions"]:
        if _same_file(f["file"], target):
            for ln, _hits, secs in f["lines"]:
                lines[int(ln)] = lines.get(int(ln), 0.0) + secs
    return Shares("line", _normalise(lines))


# --------------------------------------------------------------------------- configurations

@dataclass
class RunSpec:
    argv: list[str]
    cwd: str
    env: dict = field(default_factory=dict)


@dataclass
class Config:
    name: str
    label: str
    level: Optional[str]              # accuracy level: "line", "function" or None
    venv: Optional[str]               # bench venv it needs (created on demand)
    build: Callable[[Program, Path], RunSpec]
    parse: Optional[Callable[[Program, Path], Optional[Shares]]] = None
    applies: Callable[[Program], bool] = lambda p: True
    overhead: bool = True             # shown in the slowdown table
    group: str = "peer"               # "plain" | "ours" | "peer" | "reference"
    dist: Optional[str] = None        # PyPI distribution, for the version column
    mem_parse: Optional[Callable[[Program, Path], Optional[dict]]] = None  # allocated MB per line

    def python(self) -> str:
        return str(venvs.venv_python(self.venv or "plain"))


def _prog_argv(p: Program, script: Optional[Path] = None) -> list[str]:
    return [str(script or p.script), *p.args]


def _truth_functions(p: Program) -> set:
    if p.name == "gt_py_native":
        return {"python_part", "native_part"}
    if p.name == "gt_threads":
        return {"worker_small", "worker_large", "worker_hash"}
    return set()


def _decorated_copy(p: Program, tmp: Path) -> Path:
    """Copy of a ground-truth program with its ``# @profile`` marker lines turned
    into ``@profile`` (same line count, so line numbers are unchanged)."""
    src = p.script.read_text()
    out = tmp / p.script.name
    out.write_text(re.sub(r"^# @profile$", "@profile", src, flags=re.M))
    return out


# Where our profiler is run from (cwd of `python -m scalene`): the repo root, or
# a frozen copy of its `scalene` package (--snapshot), so that other engineers
# rebuilding the engine or editing the package in the shared checkout during a
# long run cannot change what is measured half-way.
OURS_ROOT = REPO


def snapshot_ours() -> Path:
    """Copy the repo's `scalene` package (with the built engine) to a temporary
    directory and run our profiler from there from now on."""
    global OURS_ROOT
    dst = Path(tempfile.mkdtemp(prefix="bench-ours-snapshot-"))
    shutil.copytree(REPO / "scalene", dst / "scalene", ignore=shutil.ignore_patterns("__pycache__"))
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(REPO), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout.strip()
    (dst / "SNAPSHOT").write_text(f"{REPO} at {rev or '?'} (+ uncommitted changes, built engine)\n")
    OURS_ROOT = dst
    atexit.register(shutil.rmtree, str(dst), True)
    log(f"ours: running from a snapshot of {REPO}/scalene (HEAD {rev}) in {dst}")
    return dst


def precompile_ours() -> None:
    """Byte-compile our package for the benchmark interpreter, as `pip
    install` does.  Every run has PYTHONDONTWRITEBYTECODE=1, so without this
    each run would compile our modules from source (about 20 ms of start-up
    that no installed copy pays; the peers are pip-installed and compiled)."""
    python = venvs.ensure_venv("plain")
    subprocess.run([str(python), "-m", "compileall", "-q", str(OURS_ROOT / "scalene")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ours_revision() -> str:
    rev = subprocess.run(["git", "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"], cwd=str(REPO),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return rev or "?"


def ours_status(python: Optional[str] = None) -> tuple[bool, str]:
    """Can our engine be imported (from the repo root, as `make` builds it in place)?"""
    py = python or str(venvs.venv_python("plain"))
    if not os.path.exists(py):
        py = venvs.BASE_PYTHON
    r = subprocess.run([py, "-c", "import scalene._engine"], cwd=str(OURS_ROOT),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode == 0:
        return True, "engine imports"
    last = (r.stdout.strip().splitlines() or ["?"])[-1]
    return False, f"scalene._engine does not import ({last}); build it with `make PYTHON={py}`"


def make_configs() -> dict[str, Config]:
    def plain(p, tmp):
        return RunSpec([str(venvs.venv_python("plain")), *_prog_argv(p)], str(tmp))

    def ours(full, stacks=True):
        def build(p, tmp):
            argv = [str(venvs.venv_python("plain")), "-m", "scalene", "run"]
            if not full:
                argv.append("--cpu-only")
            if not stacks:
                argv.append("--no-stacks")
            argv += ["-o", str(tmp / "profile.json"), str(p.script)]
            if p.args:
                argv += ["---", *p.args]
            return RunSpec(argv, str(OURS_ROOT))
        return build

    def scalene(full):
        def build(p, tmp):
            argv = [str(venvs.venv_python("scalene")), "-m", "scalene", "run"]
            if not full:
                argv.append("--cpu-only")
            argv += ["-o", str(tmp / "profile.json"), str(p.script)]
            if p.args:
                argv += ["---", *p.args]
            return RunSpec(argv, str(tmp))   # NOT the repo root: ours would shadow it
        return build

    def pyspy(rate):
        def build(p, tmp):
            return RunSpec([str(venvs.venv_bin("pyspy", "py-spy")), "record", "-r", str(rate), "-f", "raw",
                            "-o", str(tmp / "pyspy.txt"), "--", str(venvs.venv_python("pyspy")),
                            *_prog_argv(p)], str(tmp))
        return build

    def cprofile(p, tmp):
        return RunSpec([str(venvs.venv_python("plain")), "-m", "cProfile", "-o", str(tmp / "cprofile.prof"),
                        *_prog_argv(p)], str(tmp))

    def pyinstrument(p, tmp):
        return RunSpec([str(venvs.venv_bin("pyinstrument", "pyinstrument")), "-r", "json",
                        "-o", str(tmp / "pyinstrument.json"), *_prog_argv(p)], str(tmp))

    def yappi(p, tmp):
        return RunSpec([str(venvs.venv_python("yappi")), str(WRAPPERS / "yappi_run.py"), str(tmp / "yappi.json"),
                        *_prog_argv(p)], str(tmp))

    def memray(p, tmp):
        return RunSpec([str(venvs.venv_bin("memray", "memray")), "run", "-q", "-f", "-o", str(tmp / "memray.bin"),
                        *_prog_argv(p)], str(tmp))

    def line_profiler(p, tmp):
        copy = _decorated_copy(p, tmp)
        return RunSpec([str(venvs.venv_bin("line_profiler", "kernprof")), "-l", "-o", str(tmp / "lp.lprof"),
                        *_prog_argv(p, copy)], str(tmp))

    def parse_lp(p, tmp):
        lprof = tmp / "lp.lprof"
        if not lprof.exists():
            return None
        subprocess.run([str(venvs.venv_python("line_profiler")), str(WRAPPERS / "lprof_dump.py"), str(lprof),
                        str(tmp / "lp.json")], check=True)
        return parse_line_profiler(tmp / "lp.json", p.gt_source)

    sc_parse = lambda p, tmp: parse_scalene_json(tmp / "profile.json", p.gt_source)  # noqa: E731
    mem_parse = lambda p, tmp: parse_scalene_mem(tmp / "profile.json", p.gt_source)  # noqa: E731
    ps_parse = lambda p, tmp: parse_pyspy_raw(tmp / "pyspy.txt", p.gt_source)  # noqa: E731
    is_gt = lambda p: p.is_gt  # noqa: E731

    cfgs = [
        Config("plain", "plain", None, "plain", plain, group="plain"),
        Config("ours-cpu", "ours (CPU only)", "line", "plain", ours(False), sc_parse, group="ours"),
        Config("ours-full", "ours (full: CPU+memory)", "line", "plain", ours(True), sc_parse, group="ours",
               mem_parse=mem_parse),
        # What call stacks (on by default) cost: `--peers ours-full-nostacks`.
        Config("ours-full-nostacks", "ours (full, --no-stacks)", "line", "plain", ours(True, stacks=False), sc_parse,
               group="ours", mem_parse=mem_parse),
        Config("cprofile", "cProfile", "function", "plain", cprofile,
               lambda p, tmp: parse_cprofile(tmp / "cprofile.prof", p.gt_source, _truth_functions(p))),
        Config("scalene-cpu", "Scalene (CPU only)", "line", "scalene", scalene(False), sc_parse, dist="scalene"),
        Config("scalene-full", "Scalene (full)", "line", "scalene", scalene(True), sc_parse, dist="scalene",
               mem_parse=mem_parse),
        Config("pyspy", "py-spy (100 Hz)", "line", "pyspy", pyspy(100), ps_parse, dist="py-spy"),
        Config("pyinstrument", "pyinstrument", "function", "pyinstrument", pyinstrument,
               lambda p, tmp: parse_pyinstrument(tmp / "pyinstrument.json", p.gt_source, _truth_functions(p)),
               dist="pyinstrument"),
        Config("yappi", "yappi (CPU clock)", "function", "yappi", yappi,
               lambda p, tmp: parse_yappi(tmp / "yappi.json", p.gt_source, _truth_functions(p)), dist="yappi"),
        Config("memray", "memray (memory only)", None, "memray", memray, dist="memray"),
        Config("line_profiler", "line_profiler (@profile on the hot functions)", "line", "line_profiler",
               line_profiler, parse_lp, applies=lambda p: p.name in GT_CPU, dist="line_profiler"),
        # The reference for gt_julia: a frame-reading sampler at a high rate.
        Config("reference", "py-spy 1 kHz (reference for gt_julia)", "line", "pyspy", pyspy(1000), ps_parse,
               applies=lambda p: p.name == "gt_julia", overhead=False, group="reference", dist="py-spy"),
    ]
    return {c.name: c for c in cfgs}


PEERS = ["cprofile", "scalene-cpu", "scalene-full", "pyspy", "pyinstrument", "yappi", "memray", "line_profiler"]
OURS = ["ours-cpu", "ours-full"]


# --------------------------------------------------------------------------- running

@dataclass
class RunRecord:
    wall: float
    rc: int
    cpu: Optional[float] = None       # user+sys CPU seconds of the process tree
    maxrss_mb: Optional[float] = None  # peak RSS of the largest process in the tree
    profile_kb: Optional[float] = None  # size of what the profiler wrote
    gt: Optional[dict] = None
    shares: Optional[dict] = None     # Shares as dict
    mem: Optional[dict] = None        # allocated MB per line (memory ground truth)
    error: str = ""


def parse_gt_json(stderr: str) -> Optional[dict]:
    for line in stderr.splitlines():
        if line.startswith("GT-JSON: "):
            return json.loads(line[len("GT-JSON: "):])
    return None


def run_once(cfg: Config, prog: Program, timeout: float, keep: bool = False) -> RunRecord:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{cfg.name}-{prog.name}-"))
    try:
        spec = cfg.build(prog, tmp)
        env = dict(os.environ)
        env.update({"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
        env.pop("PYTHONPATH", None)
        env.update(spec.env)
        # Own session, so that a timeout can end the whole tree (py-spy's child, ...);
        # wait4 gives this run's own rusage (CPU, peak RSS).
        errf = open(tmp / "stderr.txt", "w+b")
        timed_out = []

        def kill_tree():
            timed_out.append(True)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        t0 = time.perf_counter()
        proc = subprocess.Popen(spec.argv, cwd=spec.cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
        timer = threading.Timer(timeout, kill_tree)
        timer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        rc = proc.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
        errf.close()
        if timed_out:
            return RunRecord(wall, -999, error=f"timeout after {timeout:.0f} s")
        cpu = ru.ru_utime + ru.ru_stime
        outputs = [f for f in tmp.iterdir() if f.is_file() and f.name != "stderr.txt" and f.suffix != ".py"]
        rec = RunRecord(wall, rc, cpu=cpu, maxrss_mb=ru.ru_maxrss / 1024.0,
                        profile_kb=sum(f.stat().st_size for f in outputs) / 1024.0 if outputs else None)
        if rc != 0:
            rec.error = err.strip()[-800:]
            return rec
        if prog.is_gt:
            rec.gt = parse_gt_json(err)
            if prog.name in GT_MEM:
                if cfg.mem_parse:
                    try:
                        rec.mem = cfg.mem_parse(prog, tmp)
                    except Exception as e:
                        rec.error = f"parse failed: {e!r}"
                return rec
            if cfg.parse and cfg.level:
                try:
                    s = cfg.parse(prog, tmp)
                    if s is not None:
                        rec.shares = {"level": s.level, "shares": {str(k): v for k, v in s.shares.items()},
                                      "note": s.note}
                except Exception as e:  # a parser bug must not kill a long run
                    rec.error = f"parse failed: {e!r}"
        return rec
    finally:
        if keep:
            log(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def prepare_configs(names: list[str], setup: bool = True) -> tuple[list[Config], dict[str, str]]:
    """Resolve config names, create their venvs; returns (usable configs, skipped name -> reason)."""
    all_cfgs = make_configs()
    usable, skipped = [], {}
    ours_ok, ours_msg = None, ""
    for n in names:
        cfg = all_cfgs[n]
        try:
            if setup and cfg.venv:
                venvs.ensure_venv(cfg.venv)
        except Exception as e:
            skipped[n] = f"setup failed: {e}"
            log(f"SKIP {n}: setup failed: {e}")
            continue
        if cfg.group == "ours":
            if ours_ok is None:
                ours_ok, ours_msg = ours_status()
                RUN_STATS["ours"] = (f"repo HEAD {ours_revision()}"
                                     + (", run from a snapshot" if OURS_ROOT != REPO else ", run from the live checkout"))
            if not ours_ok:
                skipped[n] = "pending: engine not built"
                continue
        usable.append(cfg)
    if ours_ok is False:
        log(f"SKIP ours ({', '.join(k for k in skipped if k.startswith('ours'))}): {ours_msg}")
    return usable, skipped


def run_protocol(programs: list[Program], configs: list[Config], runs: int, timeout_factor: float = 30.0,
                 keep: bool = False, max_slowdown: float = 0.0) -> dict:
    """Alternating protocol.  Returns {program: {config: [RunRecord, ...]}}.

    ``max_slowdown`` (0 = off) is a time-budget guard: once a configuration has
    taken more than that many times the fastest plain run on a program, its
    remaining rounds on that program are skipped (the table then says on how
    many runs its median rests).  It never applies to plain or to our own
    configurations."""
    assert configs and configs[0].name == "plain", "plain must come first"
    results: dict = {}
    t_start = time.perf_counter()
    RUN_STATS["loads"] = []
    for prog in programs:
        cfgs = [c for c in configs if c.applies(prog)]
        results[prog.name] = {c.name: [] for c in cfgs}
        log(f"== {prog.name} ({prog.kind}): {len(cfgs)} configurations x {runs} runs")
        plain_guess = None
        capped: set = set()
        for rnd in range(runs):
            for cfg in cfgs:
                if cfg.name in capped:
                    continue
                timeout = max(120.0, timeout_factor * (plain_guess or 5.0))
                rec = run_once(cfg, prog, timeout, keep=keep)
                results[prog.name][cfg.name].append(rec)
                RUN_STATS["loads"].append(os.getloadavg()[0])
                if cfg.name == "plain" and rec.rc == 0:
                    plain_guess = rec.wall if plain_guess is None else min(plain_guess, rec.wall)
                status = f"{rec.wall:7.3f} s" if rec.rc == 0 else f"FAILED rc={rec.rc}: {rec.error[-200:]}"
                if (max_slowdown and plain_guess and cfg.group not in ("plain", "ours")
                        and rec.wall > max_slowdown * plain_guess and rnd + 1 < runs):
                    capped.add(cfg.name)
                    status += f"  (> {max_slowdown:g}x plain: no more runs of it on this program)"
                log(f"  [{rnd + 1}/{runs}] {cfg.name:14s} {status}")
        log(f"   elapsed so far {time.perf_counter() - t_start:.0f} s")
    RUN_STATS["elapsed_s"] = time.perf_counter() - t_start
    return results


# --------------------------------------------------------------------------- analysis

def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _ok(recs):
    return [r for r in recs if r.rc == 0]


def slowdowns(results: dict, programs: list[Program], configs: list[Config], metric: str = "wall") -> dict:
    """{config: {program: ratio or None}}, plus startup ms under key '__startup_ms__'.
    ``metric`` is "wall" (the headline) or "cpu" (user+sys seconds of the process
    tree: less sensitive to other load on the machine, but blind to waiting)."""
    out: dict = {}
    for cfg in configs:
        if cfg.name == "plain":
            continue
        row: dict = {}
        for prog in programs:
            recs = results.get(prog.name, {})
            if cfg.name not in recs:
                continue
            base = _median([getattr(r, metric) for r in _ok(recs.get("plain", []))])
            mine = _median([getattr(r, metric) for r in _ok(recs[cfg.name])])
            n_ok = len(_ok(recs[cfg.name]))
            if 0 < n_ok < len(_ok(recs.get("plain", []))):
                row.setdefault("__runs__", {})[prog.name] = n_ok
            timeouts = [r.wall for r in recs[cfg.name] if r.rc == -999]
            if mine is None and timeouts and base:
                # only timeouts: report the lower bound
                row.setdefault("__timeout__", {})[prog.name] = True
                mine = min(timeouts) if metric == "wall" else None
            if base is None or mine is None:
                row[prog.name] = None
            elif prog.kind == "startup":
                row["__startup_ms__"] = 1000.0 * (mine - base)
            else:
                row[prog.name] = mine / base
        out[cfg.name] = row
    return out


TRUTH_MODE = os.environ.get("BENCH_TRUTH", "run")


def gt_truth(prog: Program, recs: dict, mode: Optional[str] = None) -> Optional[Callable[[RunRecord], dict]]:
    """Returns a function giving the true line shares {lineno(str): share} for a run.

    mode "run" (default): the CPU seconds each line took in that very run, as
    the program measured them with thread_time().
    mode "plain": the run's work times per-unit costs measured in the plain
    runs, i.e. the split the same work would have had without a profiler
    (penalises profilers that distort what they measure; needs a quiet
    machine: on a shared 2-core box per-unit CPU costs vary 2x between runs)."""
    mode = mode or TRUTH_MODE
    if prog.name == "gt_julia":
        ref = [r.shares["shares"] for r in _ok(recs.get("reference", [])) if r.shares and r.shares["shares"]]
        if not ref:
            return None
        keys = set().union(*ref)
        pooled = _normalise({k: sum(s.get(k, 0.0) for s in ref) / len(ref) for k in keys})
        return lambda rec: pooled
    # Programs that print GT-JSON: unit costs from the plain runs.
    plain = [r.gt for r in _ok(recs.get("plain", [])) if r.gt]
    unit: dict = {}
    if plain:
        for ln in plain[0]["lines"]:
            unit[ln] = statistics.median(g["lines"][ln]["cpu_s"] / g["lines"][ln]["work"] for g in plain)

    def truth(rec: RunRecord) -> dict:
        g = rec.gt
        if not g:
            return {}
        if mode == "plain" and unit and set(unit) == set(g["lines"]):
            return _normalise({ln: v["work"] * unit[ln] for ln, v in g["lines"].items()})
        return _normalise({ln: v["cpu_s"] for ln, v in g["lines"].items()})
    return truth


def _to_function_truth(prog_gt: dict, line_truth: dict) -> dict:
    return {v["function"]: line_truth.get(ln, 0.0) for ln, v in prog_gt["lines"].items()}


def _fill_cell(cell: dict, errs: list, reported: list, truths: list) -> bool:
    """A table cell from its runs: the median error and, per line, the median
    reported and true values.  False when no run counted."""
    if not errs:
        return False
    cell["err"] = statistics.median(errs)
    cell["errors"] = errs
    keys = set().union(*reported, *truths)
    cell["per_line"] = {k: statistics.median(g.get(k, 0.0) for g in reported) for k in keys}
    cell["truth"] = {k: statistics.median(t.get(k, 0.0) for t in truths) for k in keys}
    return True


def accuracy(results: dict, programs: list[Program], configs: list[Config]) -> dict:
    """{config: {program: {"err": median max-error points or None, "note": str,
    "per_line": {key: median reported share}, "truth": {key: share}}}}"""
    out: dict = {}
    for prog in programs:
        if prog.name not in GT_CPU:
            continue
        recs = results.get(prog.name, {})
        truth_of = gt_truth(prog, recs)
        for cfg in configs:
            if cfg.name not in recs or not cfg.level:
                continue
            cell: dict = {"err": None, "note": "", "per_line": {}, "truth": {}, "errors": []}
            out.setdefault(cfg.name, {})[prog.name] = cell
            if cfg.level == "function" and prog.name not in GT_FUNCTION_LEVEL:
                cell["note"] = "n/a (function-level)"
                continue
            if truth_of is None:
                cell["note"] = "no truth (reference failed)"
                continue
            errs, reported, truths = [], [], []
            notes = set()
            for rec in _ok(recs[cfg.name]):
                if not rec.shares:
                    notes.add("no profile")
                    continue
                got = rec.shares["shares"]
                if not got:
                    notes.add(rec.shares.get("note") or "empty profile")
                    continue
                t = truth_of(rec)
                if prog.name == "gt_julia":
                    pass
                elif cfg.level == "function":
                    ref_gt = rec.gt or next((r.gt for r in recs.get("plain", []) if r.gt), None)
                    t = _to_function_truth(ref_gt, t) if ref_gt else {}
                if not t:
                    notes.add("no truth")
                    continue
                keys = {k for k in set(t) | set(got) if t.get(k, 0) >= GT_THRESHOLD or got.get(k, 0) >= GT_THRESHOLD}
                errs.append(100.0 * max(abs(got.get(k, 0.0) - t.get(k, 0.0)) for k in keys))
                reported.append(got)
                truths.append(t)
            if not _fill_cell(cell, errs, reported, truths):
                cell["note"] = "; ".join(sorted(notes)) or "no successful run"
    return out


def mem_accuracy(results: dict, programs: list[Program], configs: list[Config]) -> dict:
    """{config: {program: {"err": median of the largest relative error (%) over the lines holding
    >= 5 % of the true allocations, "per_line": {line: median MB}, "truth": {line: MB}}}}"""
    out: dict = {}
    for prog in programs:
        if prog.name not in GT_MEM:
            continue
        recs = results.get(prog.name, {})
        for cfg in configs:
            if not cfg.mem_parse or cfg.name not in recs:
                continue
            cell: dict = {"err": None, "note": "", "per_line": {}, "truth": {}, "errors": []}
            out.setdefault(cfg.name, {})[prog.name] = cell
            errs, got_all, truths = [], [], []
            for rec in _ok(recs[cfg.name]):
                if rec.mem is None or not rec.gt:
                    continue
                truth = {ln: v["mb"] for ln, v in rec.gt["alloc_lines"].items()}
                tot = sum(truth.values())
                errs.append(max(100.0 * abs(rec.mem.get(ln, 0.0) - mb) / mb
                                for ln, mb in truth.items() if mb >= 0.05 * tot))
                got_all.append(rec.mem)
                truths.append(truth)
            if not _fill_cell(cell, errs, got_all, truths):
                cell["note"] = "no profile"
    return out


def mem_table(macc: dict, programs: list[Program], configs: list[Config], skipped: dict, versions: dict) -> str:
    progs = [p for p in programs if p.name in GT_MEM]
    names = [c.name for c in configs if c.mem_parse] + [k for k in skipped if make_configs()[k].mem_parse]
    if not progs or not names:
        return ""
    all_cfgs = make_configs()
    out = []
    for p in progs:
        cols = [n for n in names if n in skipped or macc.get(n, {}).get(p.name)]
        truth: dict = {}
        for n in cols:
            if n not in skipped:
                for k, v in macc[n][p.name]["truth"].items():
                    truth.setdefault(k, v)
        keys = sorted({k for k, v in truth.items() if v > 0}
                      | {k for n in cols if n not in skipped
                         for k, v in macc[n][p.name]["per_line"].items() if v >= 1.0}, key=int)
        head = ["line", "truth MB", *[all_cfgs[n].label + (f" {versions[n]}" if n in versions else "")
                                      for n in cols]]
        out += [f"**{p.name}**: allocated MB per line (median over runs); last row: largest relative error "
                f"on a line with >= 5 % of the allocations, median over runs", "",
                "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for k in keys:
            cells = [f"{truth.get(k, 0):.0f}"]
            for n in cols:
                cells.append(skipped[n] if n in skipped else f"{macc[n][p.name]['per_line'].get(k, 0):.0f}")
            out.append(f"| {_line_label(p, k)} | " + " | ".join(cells) + " |")
        errs = []
        for n in cols:
            c = None if n in skipped else macc[n][p.name]
            errs.append(skipped[n] if c is None else (c["note"] if c["err"] is None else f"**{c['err']:.0f} %**"))
        out.append("| error | | " + " | ".join(errs) + " |")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- reporting

def _few_runs(row, prog):
    n = row.get("__runs__", {}).get(prog)
    return f" ({n} run{'s' if n != 1 else ''})" if n is not None else ""


def _fmt_ratio(x):
    return "fail" if x is None else f"{x:.2f}x"


def _geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def _versions(configs: list[Config]) -> dict:
    out = {}
    for c in configs:
        if c.dist and c.venv:
            out[c.name] = venvs.installed_version(c.venv, c.dist)
    return out


def slowdown_table(sd: dict, programs: list[Program], configs: list[Config], skipped: dict,
                   versions: dict) -> str:
    """One row per configuration, or (more than 10 programs) one row per program."""
    progs = [p for p in programs if p.kind != "startup"]
    startup = [p for p in programs if p.kind == "startup"]
    rows = [c for c in configs if c.overhead and c.name != "plain"]
    all_cfgs = make_configs()
    order = list(all_cfgs)
    names = sorted({c.name for c in rows} | set(skipped), key=order.index)
    by_name = {c.name: c for c in rows}
    split = any(p.kind == "pyperf" for p in progs) and any(p.kind != "pyperf" for p in progs)
    summary = (["**median**", "geomean"] + (["median, bench/programs", "median, pyperformance"] if split else [])
               + (["start-up (ms)"] if startup else []))
    labels, columns = [], []   # per configuration: label, {key: cell}
    for n in names:
        c = all_cfgs[n]
        label = c.label + (f" {versions[n]}" if n in versions else "")
        if c.group == "ours":
            label = f"**{label}**"
        labels.append(label)
        if n in skipped:
            columns.append({k: skipped[n] for k in [p.name for p in progs] + summary})
            continue
        row = sd.get(n, {})
        c = by_name[n]
        vals = [row.get(p.name) for p in progs if p.name in row]

        def cell(pn):
            if pn not in row:
                return "-"
            if row.get("__timeout__", {}).get(pn):
                return f">{_fmt_ratio(row[pn])} (timeout)" if row[pn] else "timeout"
            return _fmt_ratio(row[pn]) + _few_runs(row, pn)
        col = {p.name: cell(p.name) for p in progs}
        med = _median([v for v in vals if v is not None])
        col["**median**"] = f"**{_fmt_ratio(med)}**" if med else "-"
        col["geomean"] = _fmt_ratio(_geomean(vals)) if vals else "-"
        if split:
            for key, want in (("median, bench/programs", False), ("median, pyperformance", True)):
                m = _median([row.get(p.name) for p in progs if (p.kind == "pyperf") == want and p.name in row])
                col[key] = _fmt_ratio(m) if m else "-"
        if startup:
            su = row.get("__startup_ms__")
            sp = startup[0].name
            col["start-up (ms)"] = (f"{su:.0f}" if su is not None
                                    else "fail" if sp in row and row[sp] is None else "-")
        columns.append(col)
    keys = [p.name for p in progs] + summary
    if len(progs) > 10:   # transpose: programs down, configurations across
        head = ["program", *labels]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for k in keys:
            lines.append(f"| {k} | " + " | ".join(col[k] for col in columns) + " |")
    else:
        head = ["profiler", *keys]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for label, col in zip(labels, columns):
            lines.append(f"| {label} | " + " | ".join(col[k] for k in keys) + " |")
    return "\n".join(lines)


def accuracy_table(acc: dict, programs: list[Program], configs: list[Config], skipped: dict,
                   versions: dict) -> str:
    gts = [p for p in programs if p.name in GT_CPU]
    if not gts:
        return ""
    head = ["profiler", "level", *[p.name for p in gts]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    all_cfgs = make_configs()
    order = list(all_cfgs)
    names = sorted({c.name for c in configs if c.level} | {k for k in skipped if all_cfgs[k].level},
                   key=order.index)
    for n in names:
        c = all_cfgs[n]
        label = c.label + (f" {versions[n]}" if n in versions else "")
        if c.group == "ours":
            label = f"**{label}**"
        if n in skipped:
            lines.append(f"| {label} | {c.level} | " + " | ".join([skipped[n]] * len(gts)) + " |")
            continue
        cells = []
        for p in gts:
            cell = acc.get(n, {}).get(p.name)
            if cell is None:
                cells.append("-")
            elif cell["err"] is None:
                cells.append(cell["note"])
            else:
                cells.append(f"{cell['err']:.1f}")
        lines.append(f"| {label} | {c.level} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _line_label(prog: Program, key: str) -> str:
    if not key.isdigit():
        return key
    src = prog.gt_source.read_text().splitlines()
    i = int(key)
    text = src[i - 1].strip() if 0 < i <= len(src) else ""
    text = re.sub(r"\s*# GT:\S+", "", text)
    if len(text) > 48:
        text = text[:45] + "..."
    return f"{i}: `{text}`"


def detail_tables(acc: dict, programs: list[Program], configs: list[Config]) -> str:
    """Per ground-truth program: the truth and each profiler's median share, per line/function."""
    out = []
    names = [c.name for c in configs if c.level and any(c.name in acc and p.name in acc[c.name] for p in programs)]
    all_cfgs = make_configs()
    for p in programs:
        if p.name not in GT_CPU:
            continue
        for level in ("line", "function"):
            cols = [n for n in names if all_cfgs[n].level == level and acc[n].get(p.name, {}).get("per_line")]
            if not cols:
                continue
            truth: dict = {}
            for n in cols:
                for k, v in acc[n][p.name]["truth"].items():
                    truth.setdefault(k, v)
            keys = set(truth)
            for n in cols:
                keys |= {k for k, v in acc[n][p.name]["per_line"].items() if v >= 0.02}
            keys = sorted(keys, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
            keys = [k for k in keys if truth.get(k, 0) >= 0.01 or any(acc[n][p.name]["per_line"].get(k, 0) >= 0.02 for n in cols)]
            shared = p.name == "gt_julia"   # one truth for every run; else each run has its own
            if shared:
                out.append(f"**{p.name}**, {level} level: median share %, truth = pooled py-spy 1 kHz reference\n")
                head = [level, "truth", *[all_cfgs[n].label for n in cols]]
            else:
                out.append(f"**{p.name}**, {level} level: median reported share % (median true share in the "
                           f"same runs)\n")
                head = [level, *[all_cfgs[n].label for n in cols]]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "---|" * len(head))
            for k in keys:
                if shared:
                    cells = [f"{100 * truth.get(k, 0):.1f}"]
                    cells += [f"{100 * acc[n][p.name]['per_line'].get(k, 0):.1f}" for n in cols]
                else:
                    cells = [f"{100 * acc[n][p.name]['per_line'].get(k, 0):.1f} "
                             f"({100 * acc[n][p.name]['truth'].get(k, 0):.1f})" for n in cols]
                out.append(f"| {_line_label(p, k)} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def resource_table(results: dict, programs: list[Program], configs: list[Config]) -> str:
    """Peak RSS (largest process of the tree) and size of the profile written, per configuration:
    median over programs of the per-program medians, and the largest per-program median."""
    head = ["configuration", "peak RSS MB (median)", "peak RSS MB (max)", "profile KB (median)",
            "profile KB (max)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in configs:
        if not c.overhead:
            continue
        rss, kb = [], []
        for p in programs:
            recs = _ok(results.get(p.name, {}).get(c.name, []))
            r = _median([x.maxrss_mb for x in recs])
            k = _median([x.profile_kb for x in recs])
            if r is not None:
                rss.append(r)
            if k is not None:
                kb.append(k)
        if not rss:
            continue
        f = lambda xs, fn: (f"{fn(xs):.1f}" if fn(xs) < 10 else f"{fn(xs):.0f}") if xs else "-"  # noqa: E731
        label = f"**{c.label}**" if c.group == "ours" else c.label
        lines.append(f"| {label} | {f(rss, statistics.median)} | {f(rss, max)} | {f(kb, statistics.median)} | "
                     f"{f(kb, max)} |")
    return "\n".join(lines) if len(lines) > 2 else ""


RUN_STATS: dict = {}


def environment_note(runs: int) -> str:
    load = os.getloadavg()
    loads = RUN_STATS.get("loads") or []
    during = f"load average (1 min) {min(loads):.1f}-{max(loads):.1f} during the run, " if loads else ""
    total = f", {RUN_STATS['elapsed_s'] / 60:.0f} min in all" if "elapsed_s" in RUN_STATS else ""
    py = subprocess.run([str(venvs.venv_python("plain")), "-c", "import sys;print(sys.version.split()[0])"],
                        stdout=subprocess.PIPE, text=True).stdout.strip()
    ours = RUN_STATS.get("ours")
    ours = f"ours = {ours}; " if ours else ""
    return (f"{ours}CPython {py}, {os.cpu_count()} cores, {during}load average at the end "
            f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}, {runs} runs per configuration{total}")


def save(kind: str, command: str, results: dict, programs, configs, skipped, runs, date: Optional[str] = None,
         versions: Optional[dict] = None, env_note: Optional[str] = None,
         stem: Optional[str] = None) -> tuple[str, Path]:
    versions = versions if versions is not None else _versions(configs)
    sd = slowdowns(results, programs, configs)
    sd_cpu = slowdowns(results, programs, configs, "cpu")
    acc = accuracy(results, programs, configs)
    date = date or _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    env_note = env_note or environment_note(runs)
    md = [f"### {kind}: {date}", "", f"Command: `{command}`", "", env_note, "",
          "Slowdown (whole-process wall time, median of runs / median of plain runs; "
          "start-up = empty program, median minus plain, ms):", "",
          slowdown_table(sd, programs, configs, skipped, versions), ""]
    at = accuracy_table(acc, programs, configs, skipped, versions)
    if at:
        md += ["Per-line CPU share error on the ground-truth programs (percentage points, median over runs "
               "of the largest error on any line with >= 5 % in the truth or the report; "
               "function-level profilers scored per function where the truth is per function):", "", at, "",
               detail_tables(acc, programs, configs)]
    macc = mem_accuracy(results, programs, configs)
    mt = mem_table(macc, programs, configs, skipped, versions)
    if mt:
        md += ["Memory ground truth (allocated MB per line, `n_malloc_mb`; the program reports the sizes "
               "it asked for):", "", mt]
    md += ["Secondary: CPU-time slowdown (user+sys seconds of the whole process tree, including "
           "out-of-process samplers; less sensitive to other load, blind to waiting; "
           "start-up column = extra CPU ms):", "",
           slowdown_table(sd_cpu, programs, configs, skipped, versions), ""]
    rt = resource_table(results, programs, configs)
    if rt:
        md += ["Memory and output: peak RSS of the largest process of the run (ru_maxrss from wait4) and the "
               "size of the profile written:", "", rt, ""]
    fails = []
    for pn, by in results.items():
        for cn, recs in by.items():
            bad = [r for r in recs if r.rc != 0]
            if bad:
                fails.append(f"- {cn} on {pn}: {len(bad)}/{len(recs)} runs failed: "
                             f"`{(bad[0].error.splitlines()[-1][:200] if bad[0].error else str(bad[0].rc)).replace('`', chr(39))}`")
    if fails:
        md += ["Failures:", "", *fails, ""]
    text = "\n".join(md)
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = stem or f"{kind}-latest"
    (RESULTS_DIR / f"{stem}.md").write_text(text + "\n")
    raw = {
        "kind": kind, "date": date, "command": command, "runs": runs, "versions": versions, "environment": env_note,
        "skipped": skipped,
        "programs": [{"name": p.name, "kind": p.kind, "script": str(p.script), "args": p.args} for p in programs],
        "slowdowns": sd, "slowdowns_cpu": sd_cpu, "accuracy": acc, "memory_accuracy": macc,
        "runs_raw": {pn: {cn: [r.__dict__ for r in recs] for cn, recs in by.items()} for pn, by in results.items()},
    }
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(raw, indent=1, sort_keys=True) + "\n")
    return text, RESULTS_DIR / f"{stem}.md"


def render_saved(path: Path) -> tuple[str, Path]:
    """Re-render the tables of a saved results JSON (e.g. after a change to the
    reporting code), keeping its date, command and versions."""
    raw = json.loads(Path(path).read_text())
    all_p = {p.name: p for p in discover_programs(pyperformance=True, startup=True)}
    programs = [all_p[p["name"]] for p in raw["programs"] if p["name"] in all_p]
    results = {pn: {cn: [RunRecord(**r) for r in recs] for cn, recs in by.items()}
               for pn, by in raw["runs_raw"].items()}
    cfgs = make_configs()
    present = {cn for by in results.values() for cn in by}
    configs = [c for n, c in cfgs.items() if n in present]
    return save(raw["kind"], raw["command"], results, programs, configs, raw["skipped"], raw["runs"],
                date=raw["date"], versions=raw.get("versions", {}), env_note=raw.get("environment"),
                stem=Path(path).stem if Path(path).parent.resolve() == RESULTS_DIR.resolve() else None)


def update_readme(kind: str, text: str) -> None:
    """Replace the block between <!-- {kind}:start --> and <!-- {kind}:end --> in bench/README.md."""
    readme = BENCH / "README.md"
    if not readme.exists():
        return
    s = readme.read_text()
    a, b = f"<!-- {kind}:start -->", f"<!-- {kind}:end -->"
    if a in s and b in s:
        i, j = s.index(a) + len(a), s.index(b)
        readme.write_text(s[:i] + "\n" + text.strip() + "\n" + s[j:])
        log(f"updated {readme} ({kind})")


def common_args(ap) -> None:
    ap.add_argument("--runs", type=int, default=5, help="rounds per program (default 5)")
    ap.add_argument("--programs", default="", help="comma-separated program names or kinds (cpu, gt, pyperf, startup)")
    ap.add_argument("--pyperformance", action="store_true",
                    help="add pyperformance workloads (installed into .venvs/bench-pyperf)")
    ap.add_argument("--no-startup", action="store_true", help="skip the empty-program start-up measurement")
    ap.add_argument("--max-slowdown", type=float, default=6.0,
                    help="time-budget guard: stop re-running a PEER on a program once one run took more than "
                         "this many times plain (default 6; 0 = off)")
    ap.add_argument("--snapshot", action="store_true",
                    help="run our profiler from a frozen copy of the repo's scalene package (shared checkout)")
    ap.add_argument("--keep", action="store_true", help="keep each run's temporary directory (debugging)")
    ap.add_argument("--update-readme", action="store_true", help="write the tables into bench/README.md")
    ap.add_argument("--render", metavar="RESULTS_JSON", default=None,
                    help="do not run anything: re-render the tables of a saved results file")


def command_line() -> str:
    args = [a if re.fullmatch(r"[\w./,=:+-]+", a) else repr(a) for a in sys.argv[1:]]
    return " ".join(["python3.11", os.path.relpath(sys.argv[0], REPO)] + args)


def prepare_run(a):
    """What every harness command starts with: --render (prints the saved
    tables and returns None), --snapshot, and the programs to run."""
    if a.render:
        text, path = render_saved(a.render)
        print(text)
        if a.update_readme:
            update_readme(path.stem.replace("-latest", ""), text)
        return None
    if a.snapshot:
        snapshot_ours()
    precompile_ours()
    only = [x for x in a.programs.split(",") if x] or None
    if a.pyperformance:
        venvs.ensure_venv("pyperf")
    return discover_programs(a.pyperformance, only, startup=not a.no_startup)
