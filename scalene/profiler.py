"""The Python glue around the C engine: start, stop, and write the profile.

Everything that needs the interpreter's own knowledge lives here: which
directories are the standard library, which opcodes are calls, the threads
that exist, source text and syntax trees for the report.  Sampling,
aggregation and serialisation are the engine's (``scalene._engine``).
"""

from __future__ import annotations

import opcode
import os
import site
import sys
import threading
import time

from . import __version__

# Annotations are strings here (no `typing` import at start-up): this module
# is on the path of every profiled run, and start-up time is part of the
# overhead users wait for.  json, linecache, ast (regions) load at write time.

OWN_DIR = os.path.dirname(os.path.realpath(__file__))


def load_engine():
    """The compiled engine, or a clear error saying how to build it."""
    override = os.environ.get("SCALENE_ENGINE_PATH")
    if override:  # a special build (e.g. with sanitizers), for the test suite
        import importlib.machinery
        import importlib.util

        loader = importlib.machinery.ExtensionFileLoader("scalene._engine", override)
        spec = importlib.util.spec_from_file_location("scalene._engine", override, loader=loader)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        loader.exec_module(module)
        sys.modules["scalene._engine"] = module
        return module
    try:
        from . import _engine  # noqa: F401

        return _engine
    except ImportError as exc:
        raise SystemExit(
            "scalene: error: the C engine is not built for this Python (%s): run `make PYTHON=%s` "
            "in the source tree or `pip install .` (%s)" % (sys.version.split()[0], sys.executable, exc)
        ) from None


def _specialized_opmap() -> Dict[str, int]:
    """Names and numbers of the specialised instructions (3.11+), as dis
    computes them, without importing dis (start-up time): 3.13 publishes the
    table; 3.11 and 3.12 put the specialised instructions, in order, into
    the opcode numbers that have no name."""
    table = getattr(opcode, "_specialized_opmap", None)
    if table is not None:
        return dict(table)
    specialized = getattr(opcode, "_specialized_instructions", None) or []
    free = [op for op, name in enumerate(opcode.opname) if name.startswith("<")]
    return dict(zip(specialized, free))


def call_opcode_flags() -> bytes:
    """One byte per opcode value: 1 where the instruction calls a callable."""
    names: Dict[str, int] = dict(opcode.opmap)
    names.update(_specialized_opmap())
    flags = bytearray(256)
    for name, op in names.items():
        if 0 <= op < 256 and name.startswith(("CALL", "PRECALL", "INSTRUMENTED_CALL")) and "INTRINSIC" not in name:
            flags[op] = 1
    return bytes(flags)


def system_dirs() -> List[str]:
    """Where the standard library and installed packages live: what
    sysconfig's stdlib/platstdlib/purelib/platlib say for this environment and
    the base installation, worked out without importing sysconfig (its data
    module is a noticeable part of start-up)."""
    version = "python%d.%d" % sys.version_info[:2]
    prefixes = list(dict.fromkeys((sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)))
    dirs = {os.path.dirname(os.__file__)}
    dirs.update(os.path.dirname(p) for p in sys.path if p.endswith("lib-dynload"))
    dirs.update(os.path.join(prefix, "lib", version) for prefix in prefixes)
    try:
        dirs.update(site.getsitepackages(prefixes))
    except Exception:
        pass
    try:
        dirs.add(site.getusersitepackages())
    except Exception:
        pass
    out = set()
    for d in dirs:
        if d:
            out.add(os.path.realpath(d))
            out.add(os.path.abspath(d))
    return sorted(out)


_JSON_ESCAPES: Dict[int, str] = {}


def json_text(value: Any) -> str:
    """JSON for the profile's metadata values (None, bool, int, float, str
    and lists of them), without importing json, which is a noticeable part
    of start-up.  Non-finite floats become null (strict JSON has no NaN)."""
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(value) if value - value == 0 else "null"
    if isinstance(value, str):
        if not _JSON_ESCAPES:
            _JSON_ESCAPES.update({c: "\\u%04x" % c for c in range(0x20)})
            _JSON_ESCAPES.update({c: "\\u%04x" % c for c in range(0xD800, 0xE000)})  # lone surrogates
            _JSON_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})
        return '"' + value.translate(_JSON_ESCAPES) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    raise TypeError("no JSON for %r" % (value,))


class Options:
    """The profiler's settings (filled by the command line, the API or YAML)."""

    def __init__(self, **kw: Any) -> None:
        self.outfile: str = "scalene-profile.json"
        self.cpu_sampling_rate: float = 0.01
        self.use_virtual_time: bool = False
        self.profile_all: bool = False
        self.profile_only: str = ""
        self.profile_exclude: str = ""
        self.profile_system_libraries: bool = False
        self.program_path: str = ""
        self.stacks: bool = True
        self.reduced_profile: bool = False
        self.cpu_percent_threshold: float = 1.0
        self.malloc_threshold: float = 100.0
        self.memory: bool = False
        self.memory_leak_detector: bool = True
        self.allocation_sampling_window: int = 1048576  # bytes between memory samples (mean)
        self.gpu: bool = False
        self.off: bool = False
        self.profile_interval: float = float("inf")
        self.use_async: bool = True
        for key, value in kw.items():
            setattr(self, key, value)


class Profiler:
    """One profiling session of this process."""

    def __init__(self, options: Options, program: str = "", args: Optional[List[str]] = None,
                 entrypoint_dir: str = "") -> None:
        self.engine = load_engine()
        self.options = options
        self.program = program
        self.args = list(args or [])
        self.entrypoint_dir = entrypoint_dir
        self.program_path = os.path.realpath(options.program_path or entrypoint_dir or os.getcwd())
        self.decorated: Dict[str, List[tuple]] = {}
        self.elapsed = 0.0
        self.start_wall: Optional[float] = None
        self.start_perf: Optional[float] = None
        self._started_at: Optional[float] = None
        self.running = False
        self.is_child = False  # a child process's session (children.py)
        self.child_dir: Optional[str] = None
        self.engine.set_call_opcodes(call_opcode_flags())
        self.engine.set_async_callback(suspended_tasks if getattr(options, "use_async", True) else None)
        self._configure()
        self.engine.reset()
        _install_thread_hooks(self.engine)

    def _configure(self) -> None:
        o = self.options
        self.engine.configure(
            virtual_time=bool(o.use_virtual_time),
            interval=float(o.cpu_sampling_rate),
            program_path=self.program_path,
            own_dir=OWN_DIR,
            profile_all=bool(o.profile_all),
            profile_system_libraries=bool(o.profile_system_libraries),
            only=[s for s in (o.profile_only or "").split(",") if s],
            exclude=[s for s in (o.profile_exclude or "").split(",") if s],
            system_dirs=system_dirs(),
            decorated_files=sorted(self.decorated),
            stacks=bool(o.stacks),
            gpu=bool(o.gpu),
            memory=bool(o.memory),
            window=int(getattr(o, "allocation_sampling_window", None) or 0),
        )

    def add_decorated(self, filename: str, first: int, last: int) -> None:
        """@profile: report only decorated functions' lines."""
        self.decorated.setdefault(filename, []).append((first, last))
        was_running = self.running
        if was_running:
            self.engine.stop()
        self._configure()
        self.engine.add_profiled_range(filename, first, last)
        if was_running:
            self.engine.start()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self.running:
            return
        if self.start_wall is None:
            self.start_wall = time.time()
            self.start_perf = time.perf_counter()
        self._started_at = time.perf_counter()
        if not self.is_child:
            from . import children

            children.prepare_parent(self)
        for t in threading.enumerate():
            native = getattr(t, "native_id", None)
            if native and t.ident and t.ident != threading.get_ident() and t.is_alive():
                self.engine.register_thread(native, t.ident)
        self.engine.start()
        self.running = True

    def stop(self) -> None:
        if not self.running:
            return
        self.engine.stop()
        self.running = False
        if not self.is_child:
            from . import children

            children.parent_stopped(self)
        if self._started_at is not None:
            self.elapsed += time.perf_counter() - self._started_at
            self._started_at = None

    # --------------------------------------------------------------- output

    def elapsed_now(self) -> float:
        extra = time.perf_counter() - self._started_at if self._started_at is not None else 0.0
        return self.elapsed + extra

    def why_empty(self, counters: Dict[str, Any]) -> Optional[str]:
        if counters["attributed_samples"] > 0:
            return None
        rate = self.options.cpu_sampling_rate
        elapsed = self.elapsed_now()
        taken = counters["cpu_samples"] + counters["idle_samples"]
        if taken == 0 or elapsed < 10 * rate:
            # Samples come every ~interval of a thread's CPU time (or of
            # wall time when it waits): none at all, or a run of a handful
            # of intervals (whose few samples fell in the interpreter's and
            # our own start-up and exit), means a very short run.
            return ("the program ran for %.3f s, too short for the sampling interval (%g s): make it run "
                    "longer, or sample more often with --cpu-sampling-rate %g" % (elapsed, rate, rate / 10))
        where = self.program_path
        return ("all %d samples were outside the selected files (only code under %s is reported by default): "
                "try --profile-all, --profile-only SUBSTRING or --program-path DIR"
                % (counters["cpu_samples"] + counters["idle_samples"], where))

    def _file_entry(self, name: str) -> Optional[Dict[str, Any]]:
        import linecache

        from . import regions

        lines = linecache.getlines(name)
        if not lines:
            try:
                with open(name, "rb") as f:
                    import io
                    import tokenize

                    data = f.read()
                    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
                    lines = data.decode(encoding, "replace").splitlines(True)
            except (OSError, SyntaxError, LookupError):
                return None
        lines = [ln if ln.endswith("\n") else ln + "\n" for ln in lines]
        source = "".join(lines)
        regs, quals = regions.analyse(source, len(lines))
        return {
            "name": name,
            "lines": lines,
            "regions": regs,
            "qualnames": quals if sys.version_info < (3, 11) else None,
            "imports": [],
        }

    def write(self, path: Optional[str] = None) -> Dict[str, Any]:
        """Write the profile; returns a summary for the messages."""
        if self.is_child:
            self.dump_child()  # type: ignore[attr-defined]
            return {}
        path = path or self.options.outfile
        from . import children

        children.merge_children(self)
        self.engine.drain()
        counters = self.engine.counters()
        total = counters["total_sec"]
        threshold = float(self.options.cpu_percent_threshold or 0)
        chosen = []
        malloc_threshold = float(getattr(self.options, "malloc_threshold", 100) or 0)
        window = float(getattr(self.options, "allocation_sampling_window", None) or 1048576)
        for name, seconds, traced, samples, malloc_mb, mallocs in self.engine.files():
            if not traced:
                continue
            share = 100.0 * seconds / total if total > 0 else 0.0
            # A file is reported for its time (--cpu-percent-threshold) or for
            # its allocations: at least --malloc-threshold allocation samples'
            # worth of bytes (bytes / sampling window: about that many MiB at
            # the default window; a single huge allocation counts in full).
            samples_worth = malloc_mb * 1048576.0 / window
            if share >= threshold or (mallocs > 0 and samples_worth >= malloc_threshold) or name in self.decorated:
                chosen.append((-seconds, -malloc_mb, name))
        chosen.sort()
        files = []
        for _, _, name in chosen:
            entry = self._file_entry(name)
            if entry is not None:
                files.append(entry)
        why = self.why_empty(counters)
        if why is None and not files:
            why = ("no file reached --cpu-percent-threshold %g%% or --malloc-threshold %g: lower them to see "
                   "the files that were sampled" % (threshold, malloc_threshold))
        o = self.options
        gpu = self.engine.gpu_info() if o.gpu else {"available": 0, "per_process": 0, "why": "GPU profiling is off"}
        meta = {
            "program": self.program,
            "entrypoint_dir": self.entrypoint_dir,
            "filename": self.program_path,
            "args": self.args,
            "elapsed_time_sec": self.elapsed_now(),
            "start_time_absolute": self.start_wall or time.time(),
            "start_time_perf": self.start_perf or time.perf_counter(),
            "gpu": bool(gpu["available"]),
            "gpu_device": "GPU" if gpu["available"] else "",
            "memory": bool(o.memory),
            "async_profile": bool(getattr(o, "use_async", True)),
            "main_thread_id": threading.main_thread().ident,
        }
        profiler = {
            "name": "scalene-c",
            "version": __version__,
            "python": sys.version.split()[0],
            "cpu_mode": "virtual" if o.use_virtual_time else "wall",
            "cpu_sampling_rate": o.cpu_sampling_rate,
            "why_empty": why,
            "gpu_utilization": ("per-process" if gpu["per_process"] else "device-wide") if gpu["available"] else None,
            "gpu_why": gpu["why"] or None,
        }
        self.engine.write_profile(
            path,
            {k: json_text(v) for k, v in meta.items()},
            {k: json_text(v) for k, v in profiler.items()},
            files,
            bool(o.reduced_profile),
            self.elapsed_now(),
            bool(getattr(o, "memory_leak_detector", True)),
        )
        return {"path": path, "files": len(files), "why_empty": why, "counters": counters}


# ------------------------------------------------------------------ asyncio

def suspended_tasks(ident: int) -> List[List[tuple]]:
    """The await chains (innermost frame first) of the tasks suspended in the
    event loop running in thread `ident`.  Called by the engine's drain, with
    the GIL, while that thread is blocked in the loop's select."""
    tasks_module = sys.modules.get("asyncio.tasks")
    if tasks_module is None:
        return []
    candidates: list = []
    for name in ("_scheduled_tasks", "_all_tasks", "_eager_tasks"):
        registry = getattr(tasks_module, name, None)
        if registry:
            candidates.extend(list(registry))
    chains = []
    for task in candidates:
        try:
            if task.done() or getattr(task.get_loop(), "_thread_id", None) != ident:
                continue
            chain = []
            coro = task.get_coro()
            while coro is not None and len(chain) < 8:
                frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
                if frame is None:
                    break
                chain.append((frame.f_code.co_filename, frame.f_lineno))
                coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
            if chain:
                chains.append(chain[::-1])
        except Exception:
            continue
    return chains


# ------------------------------------------------------------- thread hooks

_hooks_installed = False


def _install_thread_hooks(engine) -> None:
    """Every thread the program starts registers itself with the sampler
    (its own CPU timer needs its kernel id, known only inside it)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    original = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def _bootstrap_inner(self):  # type: ignore[no-untyped-def]
        engine.register_thread()
        try:
            original(self)
        finally:
            engine.unregister_thread()

    threading.Thread._bootstrap_inner = _bootstrap_inner  # type: ignore[attr-defined]

    import _thread

    original_start = _thread.start_new_thread

    def start_new_thread(function, args, kwargs=None):  # type: ignore[no-untyped-def]
        def run(*a, **k):  # type: ignore[no-untyped-def]
            engine.register_thread()
            try:
                return function(*a, **k)
            finally:
                engine.unregister_thread()

        return original_start(run, args, kwargs or {})

    _thread.start_new_thread = start_new_thread  # type: ignore[assignment]
