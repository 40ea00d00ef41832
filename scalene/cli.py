"""The command line: ``scalene run``, ``scalene view`` and the older verb-less form.

    scalene run [options] prog.py [--- args]     profile a script
    scalene run [options] -m module [--- args]   profile a module
    scalene view [--cli|--html|--standalone] [profile.json]
    scalene [options] prog.py [args]             older form: profile, then print the report
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # kept off the start-up path
    from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from . import __version__

SEPARATOR = "---"
DEFAULT_OUTFILE = "scalene-profile.json"
DEFAULT_ALLOCATION_WINDOW = 1048576

# Python's own flags, accepted before the program as `python` would
# (`scalene run -u prog.py`): -u, -B and -W are honoured, the rest ignored.
PYTHON_FLAGS = ("-b", "-B", "-d", "-E", "-i", "-I", "-O", "-OO", "-q", "-R", "-s", "-S", "-u", "-v", "-x")
PYTHON_FLAGS_WITH_VALUE = ("-W", "-X")


class UsageError(Exception):
    """Bad command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError("%s (see `%s --help`)" % (message, self.prog))


# ------------------------------------------------------------ value checks
# Each raises argparse.ArgumentTypeError, which argparse turns into
# "argument --name: <message>"; YAML values go through the same checks.

def _number(text: Any, what: str = "a number") -> float:
    if isinstance(text, bool):
        raise argparse.ArgumentTypeError("expected %s, got %r" % (what, text))
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError("expected %s, got %r" % (what, text)) from None
    if value != value:
        raise argparse.ArgumentTypeError("expected %s, got %r" % (what, text))
    return value


def _positive_float(text: Any) -> float:
    value = _number(text, "a number of seconds")
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0, got %r" % text)
    return value


def _positive_finite_float(text: Any) -> float:
    value = _positive_float(text)
    if math.isinf(value):
        raise argparse.ArgumentTypeError("must be a finite number of seconds, got %r" % text)
    return value


def _nonneg_float(text: Any) -> float:
    value = _number(text)
    if value < 0 or math.isinf(value):
        raise argparse.ArgumentTypeError("must be a number >= 0, got %r" % text)
    return value


def _percent(text: Any) -> float:
    value = _number(text, "a percentage")
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be a percentage between 0 and 100, got %r" % text)
    return value


def _positive_int(text: Any) -> int:
    if isinstance(text, bool) or isinstance(text, float):
        raise argparse.ArgumentTypeError("expected a whole number, got %r" % text)
    try:
        value = int(str(text).replace("_", ""), 10)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError("expected a whole number, got %r" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0, got %r" % text)
    return value


def _string(text: Any) -> str:
    if isinstance(text, (list, tuple)):  # YAML lists for --profile-only/--profile-exclude
        if not all(isinstance(x, str) for x in text):
            raise argparse.ArgumentTypeError("expected text or a list of text, got %r" % (text,))
        return ",".join(text)
    if not isinstance(text, str):
        raise argparse.ArgumentTypeError("expected text, got %r" % (text,))
    return text


def _directory(text: Any) -> str:
    path = _string(text)
    if not path:
        raise argparse.ArgumentTypeError("expected a directory, got an empty string")
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError("%s is not a directory" % path)
    return path


def _outfile(text: Any) -> str:
    path = _string(text)
    if not path:
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError("%s is a directory, expected a file name" % path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError("the directory %s does not exist" % parent)
    return path


def _existing_file(text: Any) -> str:
    path = _string(text)
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError("no such file: %s" % path)
    return path


# ------------------------------------------------------------ the run parser

BASIC_HELP_EPILOG = """\
examples:
  scalene run prog.py                      profile prog.py, write scalene-profile.json
  scalene run prog.py --- -v input.txt     arguments after --- go to the program
  scalene run -m pytest tests/             profile a module, like python -m
  scalene run --off server.py &            start with profiling off, then switch it:
  python3 -m scalene.profile --on --pid PID      (and --off: writes the profile so far)
  scalene view                             look at the profile (--cli: in the terminal)

More options (--cpu-sampling-rate, --use-virtual-time, --profile-all, --stacks,
--profile-interval, --memory, --gpu, --off, ...): scalene run --help-advanced"""

ADVANCED_HELP_EPILOG = """\
By default CPU time, memory and GPU are profiled. Naming any of --cpu-only,
--gpu or --memory profiles only what is named (CPU time always is).
A YAML file given with -c holds the same options without the leading dashes,
e.g. `cpu-sampling-rate: 0.005` or `profile-only: [mylib, app]`; options given
on the command line win over the file.
Python's own flags may come before the program, as in `scalene run -u prog.py`:
-u, -B and -W ARG are honoured; -b -d -E -i -I -O -OO -q -R -s -S -v -x -X ARG
are accepted and ignored."""


# For the Jupyter magics, which take the same options (see scalene.jupyter).
MAGIC_USAGE = {
    "%scrun": "%%scrun [options] statement    (options as for `scalene run`; --cli: text report only)",
    "%%scalene": "%%%%scalene [options]  (then the cell; options as for `scalene run`; --cli: text report only)",
}


_PARSERS: Dict[Tuple[str, bool, bool], _Parser] = {}


def _run_parser(prog: str, legacy: bool = False, advanced: bool = True) -> _Parser:
    """The option parser of `prog`, built once per process (building it is
    most of the command line's start-up cost)."""
    key = (prog, legacy, advanced)
    parser = _PARSERS.get(key)
    if parser is None:
        parser = _PARSERS[key] = _build_run_parser(prog, legacy, advanced)
    return parser


def _build_run_parser(prog: str, legacy: bool, advanced: bool) -> _Parser:
    def h(text: str) -> str:
        return text if advanced else argparse.SUPPRESS

    def fmt(prog: str) -> argparse.HelpFormatter:
        return argparse.RawDescriptionHelpFormatter(prog, max_help_position=34, width=100)

    usage = MAGIC_USAGE.get(prog) or ("%(prog)s [options] prog.py [--- program arguments]\n"
                                      "       %(prog)s [options] -m module [--- program arguments]")
    p = _Parser(prog=prog, usage=usage, add_help=False, formatter_class=fmt,
                description="Profile a Python program: how much time each line and function takes, "
                "split into Python,\nnative (C code) and system (waiting) time, for every thread. "
                "The profile is written as JSON\n(default scalene-profile.json); look at it with "
                "`scalene view` or `scalene view --cli`.",
                epilog=ADVANCED_HELP_EPILOG if advanced else BASIC_HELP_EPILOG)
    basic = p.add_argument_group("options")
    basic.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    basic.add_argument("-o", "--outfile", type=_outfile, default=None, metavar="FILE",
                       help="where to write the profile (default: %s)" % DEFAULT_OUTFILE)
    basic.add_argument("--cpu-only", action="store_true",
                       help="profile CPU time only: no memory or GPU profiling (lowest overhead)")
    basic.add_argument("-c", "--config", type=_existing_file, default=None, metavar="FILE",
                       help="read options from a YAML file (options on the command line win)")
    basic.add_argument("--help-advanced", action="store_true", help="show every option" if not advanced
                       else "show this help and exit")
    basic.add_argument("-m", dest="module", default=None, metavar="MODULE",
                       help=h("profile a module, like `python -m MODULE`; what follows is its arguments"))

    what = p.add_argument_group("what to measure") if advanced else p
    what.add_argument("--cpu", action="store_true", help=argparse.SUPPRESS)  # older spelling: CPU named
    what.add_argument("--gpu", action="store_true",
                      help=h("profile GPU use (NVIDIA; see the note on defaults below)"))
    what.add_argument("--memory", action="store_true",
                      help=h("profile memory: allocations, peaks, growth and copies per line"))
    what.add_argument("--stacks", dest="stacks", action="store_true", default=True,
                      help=h("collect call stacks, for the flame chart and `scalene view --collapsed/"
                             "--speedscope/--pprof` (default: on)"))
    what.add_argument("--no-stacks", dest="stacks", action="store_false",
                      help=h("do not collect call stacks"))
    what.add_argument("--async", dest="use_async", action="store_true", default=True,
                      help=h("attribute the time asyncio coroutines spend awaiting to their await "
                             "lines (default: on)"))
    what.add_argument("--no-async", dest="use_async", action="store_false", help=h("see --async"))
    what.add_argument("--memory-leak-detector", dest="memory_leak_detector", action="store_true", default=True,
                      help=h("point out lines whose memory keeps growing, likely leaks (default: on; "
                             "needs memory profiling)"))
    what.add_argument("--no-memory-leak-detector", dest="memory_leak_detector", action="store_false",
                      help=h("do not look for leaks"))
    what.add_argument("--allocation-sampling-window", type=_positive_int, default=DEFAULT_ALLOCATION_WINDOW,
                      metavar="BYTES", help=h("take a memory sample about every BYTES allocated (default: "
                                              "%d); smaller is more detailed and slower" % DEFAULT_ALLOCATION_WINDOW))

    which = p.add_argument_group("which code is reported") if advanced else p
    which.add_argument("--program-path", type=_directory, default=None, metavar="DIR",
                       help=h("report the code in files under DIR (default: the program's directory; "
                              "for -m, the current directory)"))
    which.add_argument("--profile-all", action="store_true",
                       help=h("report all code, including the standard library and installed packages"))
    which.add_argument("--profile-only", type=_string, default="", metavar="S1,S2",
                       help=h("report only files whose path contains one of these substrings"))
    which.add_argument("--profile-exclude", type=_string, default="", metavar="S1,S2",
                       help=h("never report files whose path contains one of these substrings"))
    which.add_argument("--profile-system-libraries", action="store_true",
                       help=h("also report the standard library and installed packages"))
    which.add_argument("--cpu-percent-threshold", type=_percent, default=1.0, metavar="PCT",
                       help=h("report only files with at least PCT %% of the time (default: 1)"))
    which.add_argument("--malloc-threshold", type=_nonneg_float, default=100.0, metavar="N",
                       help=h("also report files that allocated at least N allocation samples' worth "
                              "(N x the sampling window: ~N MiB by default; default: 100)"))

    how = p.add_argument_group("sampling") if advanced else p
    how.add_argument("--cpu-sampling-rate", type=_positive_finite_float, default=0.01, metavar="SECONDS",
                     help=h("mean time between CPU samples, randomised (default: 0.01); smaller is more "
                            "detailed and slower"))
    how.add_argument("--use-virtual-time", action="store_true",
                     help=h("count only time on the CPU: leave out time spent sleeping, waiting for I/O "
                            "or locks (\"system\" time)"))

    when = p.add_argument_group("when to profile") if advanced else p
    when.add_argument("--on", dest="off", action="store_false", default=False,
                      help=h("profile from the start (the default)"))
    when.add_argument("--off", dest="off", action="store_true",
                      help=h("start with profiling off; switch it on and off with `python3 -m "
                             "scalene.profile --on|--off --pid PID`, or with scalene_profiler.start()/"
                             "stop() in the program"))
    when.add_argument("--profile-interval", type=_positive_float, default=float("inf"), metavar="SECONDS",
                      help=h("also rewrite the profile every SECONDS while the program runs, to look at a "
                             "long-running program (default: only at the end)"))

    out = p.add_argument_group("output") if advanced else p
    out.add_argument("--reduced-profile", action="store_true",
                     help=h("only lines with activity in the profile (smaller file)"))
    if legacy:
        out.add_argument("--cli", action="store_true", help=h("print the report in the terminal (the default)"))
        out.add_argument("--html", action="store_true", help=h("write the report as scalene-profile.html"))
        out.add_argument("--json", action="store_true", help=h("only write the JSON profile"))
        out.add_argument("--web", action="store_true", help=h("open the report in a browser"))
        out.add_argument("--column-width", type=_positive_int, default=None, metavar="N",
                         help=h("width of the terminal report"))

    compat = p.add_argument_group("compatibility") if advanced else p
    compat.add_argument("--disable-jit", action="store_true",
                        help=h("turn off PyTorch's and JAX's JIT compilers (PYTORCH_JIT=0, JAX_DISABLE_JIT=1) "
                               "so their work shows up on Python lines"))
    compat.add_argument("--use-legacy-tracer", action="store_true",
                        help=h("accepted for compatibility with Scalene; no effect (this engine does not "
                               "trace lines)"))
    compat.add_argument("--use-python-callback", action="store_true",
                        help=h("accepted for compatibility with Scalene; no effect"))
    for flag in PYTHON_FLAGS:
        compat.add_argument(flag, dest="pyflag" + flag.replace("-", "_"), action="store_true",
                            help=argparse.SUPPRESS)
    for flag in PYTHON_FLAGS_WITH_VALUE:
        compat.add_argument(flag, dest="pyflag" + flag.replace("-", "_"), action="append", default=[],
                            help=argparse.SUPPRESS)
    # hidden: a child process's parent (issue 6), IPython mode
    p.add_argument("--pid", type=_positive_int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--ipython", action="store_true", help=argparse.SUPPRESS)
    return p


def _value_options(parser: argparse.ArgumentParser) -> Tuple[Set[str], List[str]]:
    takes_value: Set[str] = set()
    long_options: List[str] = []
    for action in parser._actions:
        for s in action.option_strings:
            if action.nargs != 0:
                takes_value.add(s)
            if s.startswith("--"):
                long_options.append(s)
    return takes_value, long_options


def split_program(argv: List[str], parser: Optional[argparse.ArgumentParser] = None) -> Tuple[List[str], List[str]]:
    """(options, [program, args...]): the first bare word that is not an
    option's value starts the program; `---` separates the program's args.
    With -m, the module name ends the options."""
    parser = parser or _run_parser("scalene run", legacy=True)
    takes_value, long_options = _value_options(parser)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == SEPARATOR:
            return argv[:i], argv[i + 1:]
        if arg == "-m":
            # the module name, then everything after it belongs to the program
            if i + 1 < len(argv):
                rest = argv[i + 2:]
                if rest and rest[0] == SEPARATOR:
                    rest = rest[1:]
                return argv[:i + 2], list(rest)
            return argv, []
        if arg.startswith("-") and arg != "-":
            name = arg.split("=", 1)[0]
            if "=" not in arg:
                if name not in takes_value and name.startswith("--"):
                    # argparse accepts unique prefixes of long options
                    matches = [s for s in long_options if s.startswith(name)]
                    if len(matches) == 1:
                        name = matches[0]
                if name in takes_value:
                    i += 2
                    continue
            i += 1
            continue
        rest = argv[i + 1:]
        if rest and rest[0] == SEPARATOR:
            rest = rest[1:]
        return argv[:i], [arg] + list(rest)
    return argv, []


# Kept for callers of the earlier name.
_split_program = split_program


def _given_dests(prog: str, legacy: bool, options: List[str]) -> Set[str]:
    """The option destinations named on the command line (not defaults)."""
    p = _run_parser(prog, legacy)
    defaults = [(action, action.default) for action in p._actions]
    try:
        for action, _ in defaults:
            action.default = argparse.SUPPRESS
        return set(vars(p.parse_args(options)))
    finally:
        for action, default in defaults:
            action.default = default


def resolve_kinds(ns: argparse.Namespace, given: Iterable[str]) -> None:
    """CPU, memory and GPU are all on by default; naming any of --cpu-only,
    --gpu, --memory (or the older --cpu) profiles only what is named."""
    given = set(given)
    named = [k for k in ("cpu_only", "cpu", "gpu", "memory") if k in given and getattr(ns, k, False)]
    if named:
        ns.gpu = bool(getattr(ns, "gpu", False))
        ns.memory = bool(getattr(ns, "memory", False))
    else:
        ns.gpu = bool(ns.gpu) if "gpu" in given else True
        ns.memory = bool(ns.memory) if "memory" in given else True


def parse_options(options: List[str], prog: str = "scalene run", legacy: bool = False) -> argparse.Namespace:
    """Parse the options part (no program); applies -c/--config and the
    CPU/memory/GPU defaults.  Raises UsageError or SystemExit(0) for help."""
    if "--help-advanced" in options:
        _run_parser(prog, legacy, advanced=True).print_help()
        raise SystemExit(0)
    if "-h" in options or "--help" in options:
        _run_parser(prog, legacy, advanced=False).print_help()
        raise SystemExit(0)
    parser = _run_parser(prog, legacy)
    ns = parser.parse_args(options)
    given = _given_dests(prog, legacy, options)
    if ns.config:
        from . import config

        try:
            given |= config.apply(ns, ns.config, given)
        except config.ConfigError as exc:
            raise UsageError(str(exc)) from None
    resolve_kinds(ns, given)
    ns.given = given
    return ns


def parse_run(argv: List[str], prog: str = "scalene run", legacy: bool = False) -> argparse.Namespace:
    options, program = split_program(argv, _run_parser(prog, legacy))
    ns = parse_options(options, prog, legacy)
    if ns.module:
        ns.program, ns.program_args = None, program
    else:
        if not program:
            raise UsageError("no program to profile: give a Python file (`%s prog.py`) or a module "
                             "(`%s -m module`)" % (prog, prog))
        ns.program, ns.program_args = program[0], program[1:]
    return ns


def options_from(ns: argparse.Namespace) -> "Options":  # type: ignore[name-defined]  # noqa: F821
    from .profiler import Options

    return Options(
        outfile=ns.outfile or DEFAULT_OUTFILE,
        cpu_sampling_rate=ns.cpu_sampling_rate,
        use_virtual_time=ns.use_virtual_time,
        profile_all=ns.profile_all,
        profile_only=ns.profile_only,
        profile_exclude=ns.profile_exclude,
        profile_system_libraries=ns.profile_system_libraries,
        program_path=ns.program_path or "",
        stacks=ns.stacks,
        reduced_profile=ns.reduced_profile,
        cpu_percent_threshold=ns.cpu_percent_threshold,
        malloc_threshold=ns.malloc_threshold,
        memory=bool(ns.memory),
        gpu=bool(ns.gpu),
        allocation_sampling_window=ns.allocation_sampling_window,
        memory_leak_detector=ns.memory_leak_detector,
        use_async=ns.use_async,
        off=ns.off,
        profile_interval=ns.profile_interval,
    )


def _apply_python_flags(ns: argparse.Namespace) -> None:
    """Honour -u, -B and -W given before the program, as python would."""
    if getattr(ns, "pyflag_u", False):
        os.environ["PYTHONUNBUFFERED"] = "1"
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(write_through=True)  # type: ignore[union-attr]
            except (AttributeError, ValueError):
                pass
    if getattr(ns, "pyflag_B", False):
        sys.dont_write_bytecode = True
    warn = getattr(ns, "pyflag_W", None) or []
    if warn:
        import warnings

        sys.warnoptions.extend(warn)
        process = getattr(warnings, "_processoptions", None)
        if process is not None:
            try:
                process(warn)
            except Exception:
                pass
    if getattr(ns, "disable_jit", False):
        os.environ.setdefault("PYTORCH_JIT", "0")
        os.environ.setdefault("JAX_DISABLE_JIT", "1")


def cmd_run(ns, report: Optional[str] = None) -> int:
    """Profile the program; report = None (just say where the profile is),
    "cli" (print it) or "html"/"web"."""
    from . import api, launcher
    from .profiler import Profiler

    options = options_from(ns)
    outfile = options.outfile
    _apply_python_flags(ns)
    if ns.module:
        try:
            module, origin = launcher.prepare_module(ns.module, ns.program_args)
        except launcher.LaunchError as exc:
            print("scalene: error: %s" % exc, file=sys.stderr)
            return 1
        profiler = Profiler(options, program=ns.module, args=ns.program_args, entrypoint_dir="")
        import runpy

        main = launcher._fresh_main(None)
        saved_main = sys.modules.get("__main__")
        sys.modules["__main__"] = main

        def run_program() -> None:
            runpy._run_module_as_main(module, alter_argv=False)  # type: ignore[attr-defined]
    else:
        try:
            code, main, path = launcher.prepare_script(ns.program, ns.program_args)
        except launcher.LaunchError as exc:
            if str(exc):
                print("scalene: error: %s" % exc, file=sys.stderr)
            return 1
        profiler = Profiler(options, program=path, args=ns.program_args, entrypoint_dir=os.path.dirname(path))
        saved_main = sys.modules.get("__main__")
        sys.modules["__main__"] = main

        def run_program() -> None:
            exec(code, main.__dict__)

    # The session: the API (scalene_profiler.start/stop), @profile, the
    # on/off signals of `python3 -m scalene.profile` and the periodic writer
    # all reach this profiler through it.
    session = api.Session(profiler, outfile, kind="run")
    session.install_builtins_profile(force=True)
    session.install_signal_handlers()
    if options.off:
        print("scalene: profiling is off; turn it on with `python3 -m scalene.profile --on --pid %d` "
              "(and off again with --off)" % os.getpid(), file=sys.stderr)
    session.start_periodic_writer(options.profile_interval)

    def target() -> None:
        if not options.off:
            session.start()
        run_program()

    summary = {}

    def on_exit() -> None:
        result = session.close()
        if result:
            summary.update(result)

    status, die_by = launcher.run(target, on_exit)
    del saved_main
    if summary:
        _report(summary, report, ns)
    sys.stdout.flush()
    sys.stderr.flush()
    if die_by is not None:
        signal.signal(die_by, signal.SIG_DFL)
        os.kill(os.getpid(), die_by)
    return status


def _report(summary, report: Optional[str], ns) -> None:
    path = summary["path"]
    if summary.get("why_empty"):
        print("scalene: nothing to report: %s. (The profile was still written to %s.)"
              % (summary["why_empty"], path), file=sys.stderr)
        return
    if report == "cli":
        from .report import view_file

        view_file(path, reduced=ns.reduced_profile, column_width=getattr(ns, "column_width", None))
        return
    if report in ("html", "web"):
        _write_html(path, open_browser=(report == "web"))
        return
    print("scalene: profile saved to %s\n  to view it in a browser:  scalene view %s\n"
          "  to view it in the terminal: scalene view --cli %s" % (path, path, path), file=sys.stderr)


def _write_html(path: str, open_browser: bool, out: Optional[str] = None) -> int:
    from .profile_io import ProfileError, load_profile

    try:
        profile = load_profile(path)
    except ProfileError as exc:
        print("scalene: error: %s" % exc, file=sys.stderr)
        return 1
    from . import viewer

    html_path = out or os.path.join(os.path.dirname(os.path.abspath(path)), "scalene-profile.html")
    viewer.write_html(profile, html_path, standalone=True)
    if open_browser and viewer.open_in_browser(html_path):
        print("scalene: opened %s in the browser" % html_path, file=sys.stderr)
    else:
        print("scalene: wrote %s" % html_path, file=sys.stderr)
    return 0


def cmd_view(argv: List[str]) -> int:
    p = _Parser(prog="scalene view", description="Show a profile: in the browser (default), as an HTML file, "
                "in the terminal, or exported for flame-graph tools.")
    p.add_argument("profile", nargs="?", default="scalene-profile.json", help="the JSON profile")
    p.add_argument("--cli", action="store_true", help="print the report in the terminal")
    p.add_argument("--html", action="store_true", help="write scalene-profile.html without opening it")
    p.add_argument("--standalone", action="store_true", help="write one self-contained offline HTML file")
    p.add_argument("-r", "--reduced", action="store_true", help="only lines with activity")
    p.add_argument("-o", "--output", default=None, help="where to write the HTML or export")
    p.add_argument("--collapsed", action="store_true", help="export stacks in the folded flame-graph format")
    p.add_argument("--speedscope", action="store_true", help="export stacks for speedscope")
    p.add_argument("--pprof", action="store_true", help="export stacks as a gzipped pprof profile")
    p.add_argument("--column-width", type=_positive_int, default=None, help="terminal report width")
    ns = p.parse_args(argv)
    if ns.cli:
        from .report import view_file

        return view_file(ns.profile, reduced=ns.reduced, column_width=ns.column_width)
    kinds = [k for k in ("collapsed", "speedscope", "pprof") if getattr(ns, k)]
    if kinds:
        from .export import ExportError, write_export
        from .profile_io import ProfileError, load_profile

        try:
            profile = load_profile(ns.profile)
        except ProfileError as exc:
            print("scalene: error: %s" % exc, file=sys.stderr)
            return 1
        default_names = {"collapsed": "scalene-profile.folded", "speedscope": "scalene-profile.speedscope.json",
                         "pprof": "scalene-profile.pb.gz"}
        for kind in kinds:
            out = ns.output if (ns.output and len(kinds) == 1) else default_names[kind]
            try:
                write_export(profile, kind, out)
            except ExportError as exc:
                print("scalene: error: %s" % exc, file=sys.stderr)
                return 1
            print("scalene: wrote %s" % out, file=sys.stderr)
        return 0
    return _write_html(ns.profile, open_browser=not (ns.html or ns.standalone), out=ns.output)


HELP = """usage: scalene [--version] {run,view} ...

A CPU profiler for Python with a C engine: which lines burn time, split into
Python, native and system, for every thread.

commands:
  run    profile a program:   scalene run prog.py [--- args]   or   scalene run -m module
  view   show a profile:      scalene view [profile.json]  (--cli: in the terminal)

`scalene run --help` shows the main options, `scalene run --help-advanced` all.
The older form `scalene [options] prog.py [args]` profiles and prints the
terminal report.

Other ways in:
  python3 -m scalene.profile --on|--off --pid PID   switch profiling in a running
                          `scalene run --off prog.py` (off writes the profile so far)
  @profile                on functions (no import, under scalene run): report only them
  from scalene import scalene_profiler              scalene_profiler.start() / stop()
  %load_ext scalene       in IPython/Jupyter: %scrun statement, %%scalene cell"""


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(HELP)
            return 0 if argv else 2
        if argv[0] in ("--version", "-V"):
            print("scalene %s (C engine; Python %s)" % (__version__, sys.version.split()[0]))
            return 0
        if argv[0] == "run":
            return cmd_run(parse_run(argv[1:]))
        if argv[0] == "view":
            return cmd_view(argv[1:])
        # the older verb-less form: profile, then show the report
        ns = parse_run(argv, prog="scalene", legacy=True)
        report = "html" if ns.html else "web" if ns.web else None if ns.json else "cli"
        return cmd_run(ns, report=report)
    except UsageError as exc:
        print("scalene: error: %s" % exc, file=sys.stderr)
        return 2
