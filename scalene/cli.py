"""The command line: ``scalene run``, ``scalene view`` and the older verb-less form.

    scalene run [options] prog.py [--- args]     profile a script
    scalene run [options] -m module [--- args]   profile a module
    scalene view [--cli|--html|--standalone] [profile.json]
    scalene [options] prog.py [args]             older form: profile, then print the report
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import List, Optional, Tuple

from . import __version__

SEPARATOR = "---"


class UsageError(Exception):
    """Bad command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError("%s (see `%s --help`)" % (message, self.prog))


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds, got %r" % text) from None
    if not value > 0 or value != value:
        raise argparse.ArgumentTypeError("must be greater than 0, got %r" % text)
    return value


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number, got %r" % text) from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError("must not be negative, got %r" % text)
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number, got %r" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0, got %r" % text)
    return value


def _add_run_options(p: argparse.ArgumentParser, legacy: bool = False) -> None:
    p.add_argument("-o", "--outfile", default=None, metavar="FILE",
                   help="where to write the JSON profile (default: scalene-profile.json)")
    p.add_argument("--cpu-only", action="store_true", help="profile CPU time only (no memory, no GPU)")
    p.add_argument("--cpu", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--gpu", action="store_true", help="profile GPU time and memory")
    p.add_argument("--memory", action="store_true", help="profile memory")
    p.add_argument("--stacks", dest="stacks", action="store_true", default=False,
                   help="collect call stacks (for flame graphs and exports)")
    p.add_argument("--no-stacks", dest="stacks", action="store_false", help="do not collect call stacks")
    p.add_argument("--profile-all", action="store_true",
                   help="report all code, including libraries and the standard library")
    p.add_argument("--profile-only", default="", metavar="S1,S2",
                   help="report only files whose path contains one of these substrings")
    p.add_argument("--profile-exclude", default="", metavar="S1,S2",
                   help="never report files whose path contains one of these substrings")
    p.add_argument("--profile-system-libraries", action="store_true",
                   help="also report the standard library and installed packages")
    p.add_argument("--program-path", default="", metavar="DIR",
                   help="report files under DIR (default: the program's directory)")
    p.add_argument("--use-virtual-time", action="store_true",
                   help="count CPU time only (no time spent blocked or sleeping)")
    p.add_argument("--cpu-sampling-rate", type=_positive_float, default=0.01, metavar="SECONDS",
                   help="mean interval between CPU samples (default: 0.01)")
    p.add_argument("--cpu-percent-threshold", type=_nonneg_float, default=1.0, metavar="PCT",
                   help="report files with at least this share of the time (default: 1)")
    p.add_argument("--malloc-threshold", type=_nonneg_float, default=100.0, metavar="N",
                   help="report memory lines with at least this many allocation samples (default: 100)")
    p.add_argument("--allocation-sampling-window", type=_positive_int, default=None, metavar="BYTES",
                   help="mean bytes between allocation samples")
    p.add_argument("--profile-interval", type=_positive_float, default=float("inf"), metavar="SECONDS",
                   help="rewrite the profile every SECONDS while the program runs")
    p.add_argument("--memory-leak-detector", dest="memory_leak_detector", action="store_true", default=True,
                   help=argparse.SUPPRESS)
    p.add_argument("--no-memory-leak-detector", dest="memory_leak_detector", action="store_false",
                   help=argparse.SUPPRESS)
    p.add_argument("--reduced-profile", action="store_true", help="only lines with activity in the profile")
    p.add_argument("--on", dest="off", action="store_false", default=False, help="start profiling at once (default)")
    p.add_argument("--off", dest="off", action="store_true", help="start with profiling off")
    p.add_argument("--async", dest="use_async", action="store_true", default=False, help=argparse.SUPPRESS)
    p.add_argument("--no-async", dest="use_async", action="store_false", help=argparse.SUPPRESS)
    p.add_argument("--pid", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("-c", "--config", default=None, metavar="FILE", help="read options from a YAML file")
    p.add_argument("-m", dest="module", default=None, metavar="MODULE", help="profile a module, like python -m")
    if legacy:
        p.add_argument("--cli", action="store_true", help="print the report in the terminal (default)")
        p.add_argument("--html", action="store_true", help="write the report as HTML")
        p.add_argument("--json", action="store_true", help="only write the JSON profile")
        p.add_argument("--web", action="store_true", help="open the report in a browser")
        p.add_argument("--column-width", type=_positive_int, default=None, help="terminal report width")


def _split_program(argv: List[str]) -> Tuple[List[str], List[str]]:
    """(options, [program, args...]): the first bare word that is not an
    option's value starts the program; `---` separates the program's args."""
    takes_value = {"-o", "--outfile", "--profile-only", "--profile-exclude", "--program-path",
                   "--cpu-sampling-rate", "--cpu-percent-threshold", "--malloc-threshold",
                   "--allocation-sampling-window", "--profile-interval", "--pid", "-c", "--config", "-m",
                   "--column-width"}
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
                return argv[:i + 2], [x for x in rest]
            return argv, []
        if arg.startswith("-"):
            if arg in takes_value:
                i += 2
                continue
            i += 1
            continue
        rest = argv[i + 1:]
        if rest and rest[0] == SEPARATOR:
            rest = rest[1:]
        return argv[:i], [arg] + [x for x in rest]
    return argv, []


def _run_parser(prog: str, legacy: bool = False) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="Profile a Python program: CPU (Python, native, system), "
                "per line and per function, for every thread.",
                usage="%(prog)s [options] prog.py [--- args]  |  %(prog)s [options] -m module [--- args]")
    _add_run_options(p, legacy)
    p.add_argument("--help-advanced", action="store_true", help="same as --help (every option is listed)")
    return p


def parse_run(argv: List[str], prog: str = "scalene run", legacy: bool = False):
    options, program = _split_program(argv)
    parser = _run_parser(prog, legacy)
    if "--help-advanced" in options:
        parser.print_help()
        raise SystemExit(0)
    ns = parser.parse_args(options)
    if ns.config:
        from . import config

        config.apply(ns, ns.config, given=options)
    if ns.module:
        ns.program, ns.program_args = None, program
    else:
        if not program:
            raise UsageError("no program to profile: give a Python file (`%s prog.py`) or a module "
                             "(`%s -m module`)" % (prog, prog))
        ns.program, ns.program_args = program[0], program[1:]
    return ns


def options_from(ns) -> "Options":  # type: ignore[name-defined]
    from .profiler import Options

    return Options(
        outfile=ns.outfile or "scalene-profile.json",
        cpu_sampling_rate=ns.cpu_sampling_rate,
        use_virtual_time=ns.use_virtual_time,
        profile_all=ns.profile_all,
        profile_only=ns.profile_only,
        profile_exclude=ns.profile_exclude,
        profile_system_libraries=ns.profile_system_libraries,
        program_path=ns.program_path,
        stacks=ns.stacks,
        reduced_profile=ns.reduced_profile,
        cpu_percent_threshold=ns.cpu_percent_threshold,
        malloc_threshold=ns.malloc_threshold,
        off=ns.off,
        profile_interval=ns.profile_interval,
    )


def cmd_run(ns, report: Optional[str] = None) -> int:
    """Profile the program; report = None (just say where the profile is),
    "cli" (print it) or "html"/"web"."""
    from . import launcher
    from .profiler import Profiler

    options = options_from(ns)
    outfile = options.outfile
    if os.path.isdir(outfile):
        raise UsageError("--outfile %s is a directory" % outfile)
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

        def target() -> None:
            if not options.off:
                profiler.start()
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

        def target() -> None:
            if not options.off:
                profiler.start()
            exec(code, main.__dict__)

    from . import api

    api._attach(profiler)
    summary = {}

    def on_exit() -> None:
        profiler.stop()
        try:
            summary.update(profiler.write(outfile))
        except OSError as exc:
            print("scalene: error: could not write the profile: %s" % exc, file=sys.stderr)

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

The older form `scalene [options] prog.py [args]` profiles and prints the
terminal report.  `scalene run --help` lists every option."""


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
