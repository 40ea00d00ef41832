"""Running the profiled program as ``python prog.py`` or ``python -m mod`` would.

The program runs as ``__main__`` with the ``sys.argv``, ``sys.path[0]``,
``__file__`` and ``__spec__`` it would have without the profiler; its exit
status is passed through; an uncaught exception prints its traceback (minus
our frames) and exits 1; SIGINT and SIGTERM still end it, and whichever way
it ends, the profile is written first.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import io
import os
import signal
import sys
import threading
import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # kept off the start-up path
    from typing import Callable, List, Optional, Tuple

from .profiler import OWN_DIR


class LaunchError(Exception):
    """A problem with the target itself (one-line message)."""


class _Terminated(BaseException):
    """Raised in the main thread by our SIGTERM handler."""


def _fresh_main(filename: Optional[str]) -> types.ModuleType:
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    if filename is not None:
        main.__file__ = filename
        main.__loader__ = importlib.machinery.SourceFileLoader("__main__", filename)  # type: ignore[attr-defined]
        main.__spec__ = None
        main.__cached__ = None  # type: ignore[attr-defined]
    return main


def prepare_script(program: str, args: List[str]) -> Tuple[types.CodeType, types.ModuleType, str]:
    """Compile the script and set up sys.argv/sys.path; raises LaunchError."""
    if not os.path.exists(program):
        raise LaunchError("can't open file %r: No such file or directory" % program)
    if os.path.isdir(program):
        main_py = os.path.join(program, "__main__.py")
        if not os.path.exists(main_py):
            raise LaunchError("%r is a directory without a __main__.py: pass a Python file" % program)
        script = main_py
    else:
        script = program
    path = os.path.abspath(script)
    try:
        with io.open_code(path) as f:
            source = f.read()
    except OSError as exc:
        raise LaunchError("can't open file %r: %s" % (program, exc.strerror or exc)) from None
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        # Show it as Python does, then fail with its status.
        import traceback

        traceback.print_exception(type(exc), exc, None)
        raise LaunchError("") from None
    main = _fresh_main(path)
    sys.argv = [program] + list(args)
    sys.path[0] = os.path.dirname(os.path.realpath(path)) if os.path.isfile(program) else os.path.realpath(program)
    return code, main, path


def prepare_module(module: str, args: List[str]) -> Tuple[str, str]:
    """Locate a module for -m; returns (module name, file). Raises LaunchError."""
    import importlib.util

    sys.path[0] = os.getcwd()
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise LaunchError("No module named %s (%s)" % (module, exc)) from None
    if spec is None:
        raise LaunchError("No module named %s" % module)
    if spec.submodule_search_locations is not None:
        main_spec = importlib.util.find_spec(module + ".__main__")
        if main_spec is None:
            raise LaunchError("No module named %s.__main__; '%s' is a package and cannot be directly executed"
                              % (module, module))
        spec = main_spec
    origin = spec.origin or module
    sys.argv = [origin] + list(args)
    return module, origin


def _strip_own_frames(tb):  # type: ignore[no-untyped-def]
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(OWN_DIR + os.sep):
        tb = tb.tb_next
    return tb


def print_exception(exc: BaseException) -> None:
    import traceback

    traceback.print_exception(type(exc), exc, _strip_own_frames(exc.__traceback__))


def exit_status_of(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def run(target: Callable[[], None], on_exit: Callable[[], None]) -> Tuple[int, Optional[int]]:
    """Run target() as the program.  Returns (exit status, signal to die by
    or None).  on_exit() (stop and write the profile) runs exactly once,
    however the program ends."""
    status = 0
    die_by: Optional[int] = None
    done = [False]

    def finish() -> None:
        if not done[0]:
            done[0] = True
            on_exit()

    previous_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # type: ignore[no-untyped-def]
        raise _Terminated()

    if previous_term in (signal.SIG_DFL, None):
        try:
            signal.signal(signal.SIGTERM, on_term)
        except ValueError:
            pass

    real_exit = os._exit

    def _exit(code: int) -> None:  # the program's os._exit skips finally blocks
        try:
            finish()
        finally:
            real_exit(code)

    os._exit = _exit  # type: ignore[assignment]
    try:
        target()
        _join_non_daemon_threads()
    except SystemExit as exc:
        status = exit_status_of(exc)
    except KeyboardInterrupt as exc:
        print_exception(exc)
        status, die_by = 130, signal.SIGINT
    except _Terminated:
        status, die_by = 143, signal.SIGTERM
    except BaseException as exc:  # the program's own uncaught exception
        print_exception(exc)
        status = 1
    finally:
        os._exit = real_exit  # type: ignore[assignment]
        try:
            finish()
        except KeyboardInterrupt:
            pass
    return status, die_by


def _join_non_daemon_threads() -> None:
    """The interpreter waits for non-daemon threads before exiting: so do we,
    while still profiling, so their time is in the profile."""
    main = threading.main_thread()
    for t in threading.enumerate():
        if t is not main and not t.daemon and t.is_alive() and t is not threading.current_thread():
            t.join()
