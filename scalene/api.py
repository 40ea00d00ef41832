"""The profiling session of this process, and the ways to reach it.

One ``Session`` drives the process's ``Profiler``; everything that switches
profiling on or off, or writes the profile, goes through it:

* ``scalene run`` creates it (kind ``"run"``) and closes it at exit;
* ``scalene_profiler.start()/stop()`` use it, or create one in a plain
  ``python3`` process (kind ``"inprocess"``: the profile is written at
  ``stop()`` and at exit);
* the Jupyter magics create one per cell (kind ``"jupyter"``);
* ``python3 -m scalene.profile --on|--off --pid N`` sends ``on_signal()`` /
  ``off_signal()`` (real-time signals), handled at Python level by the
  main thread: on starts, off stops and writes the profile so far;
* ``@profile`` (put in builtins) restricts the report to decorated functions;
* ``--profile-interval`` runs a daemon thread that rewrites the profile.

Start, stop and write are serialised by one lock, so the periodic writer,
the API and the signal handlers never interleave.  A signal that arrives
while the main thread itself holds the lock is acted on when it lets go.
"""

from __future__ import annotations

import atexit
import builtins
import math
import os
import signal
import sys
import threading
import types

# Kept light: this module is imported on the way to the program's first line
# (inspect, dis, typing and contextlib are not).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional

ON_SIGNAL_OFFSET = 4   # SIGRTMIN + 4: start profiling
OFF_SIGNAL_OFFSET = 5  # SIGRTMIN + 5: stop profiling and write the profile so far

_current = None  # the Profiler of this process, if any
_session: Optional["Session"] = None


def on_signal() -> int:
    return signal.SIGRTMIN + ON_SIGNAL_OFFSET  # type: ignore[attr-defined,no-any-return]


def off_signal() -> int:
    return signal.SIGRTMIN + OFF_SIGNAL_OFFSET  # type: ignore[attr-defined,no-any-return]


def _attach(profiler) -> None:  # type: ignore[no-untyped-def]
    global _current
    _current = profiler


def current():  # type: ignore[no-untyped-def]
    return _current


def session() -> Optional["Session"]:
    return _session


def _say(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except Exception:
        pass


def code_line_range(code: types.CodeType) -> tuple:
    """(first, last) source lines of a function's code, nested code included."""
    first = code.co_firstlineno
    last = first
    stack = [code]
    while stack:
        c = stack.pop()
        if hasattr(c, "co_lines"):
            lines = [ln for _, _, ln in c.co_lines() if ln is not None]
        else:
            import dis

            lines = [ln for _, ln in dis.findlinestarts(c)]
        if lines:
            last = max(last, max(lines))
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return first, last


class Session:
    def __init__(self, profiler, outfile: str, kind: str = "run",  # type: ignore[no-untyped-def]
                 write_on_stop: bool = False, announce: bool = False) -> None:
        global _session
        self.profiler = profiler
        self.outfile = outfile
        self.kind = kind
        self.write_on_stop = write_on_stop
        self.announce = announce
        self.closed = False
        self.written_since_stop = True
        self._announced = False
        self._lock = threading.RLock()
        self._owner: Optional[int] = None
        self._depth = 0
        self._pending: List[Callable[[], None]] = []
        self._writer: Optional[threading.Thread] = None
        self._writer_stop = threading.Event()
        self._previous_handlers: Dict[int, Any] = {}
        self._previous_profile: Any = None
        self._installed_profile = False
        _attach(profiler)
        _session = self

    # ------------------------------------------------------------ locking

    def _guard(self) -> "_Guard":
        return _Guard(self)

    def _run_pending(self) -> None:
        # Only the main thread queues (its signal handlers), so only it runs them.
        if threading.current_thread() is not threading.main_thread():
            return
        while self._pending and self._owner is None:
            action = self._pending.pop(0)
            action()

    def _from_signal(self, action: Callable[[], None]) -> None:
        if self._owner == threading.get_ident():
            self._pending.append(action)  # the main thread is inside start/stop/write: later
        else:
            action()

    # --------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return bool(self.profiler.running)

    def start(self) -> None:
        with self._guard():
            if self.closed or self.profiler.running:
                return
            self.profiler.start()
            self.written_since_stop = False
            self._hide_own_threads()

    def stop(self, write: Optional[bool] = None) -> Optional[Dict[str, Any]]:
        with self._guard():
            if self.closed:
                return None
            was_running = self.profiler.running
            self.profiler.stop()
            if (self.write_on_stop if write is None else write) and (was_running or not self.written_since_stop):
                return self.write()
        return None

    def write(self, path: Optional[str] = None, quiet: bool = False) -> Optional[Dict[str, Any]]:
        with self._guard():
            try:
                summary = self.profiler.write(path or self.outfile)
            except OSError as exc:
                if not quiet:
                    _say("scalene: error: could not write the profile: %s" % exc)
                return None
            if not self.profiler.running:
                self.written_since_stop = True
            if self.announce and not quiet and not self._announced and summary:
                self._announced = True
                self._announce(summary)
            return summary  # type: ignore[no-any-return]

    def _announce(self, summary: Dict[str, Any]) -> None:
        path = summary.get("path") if summary else None
        if not path:  # a child process: its profile goes to the parent
            return
        if summary.get("why_empty"):
            _say("scalene: nothing to report yet: %s. (The profile was written to %s.)"
                 % (summary["why_empty"], path))
        else:
            _say("scalene: profile saved to %s (view it with `scalene view %s`, or `scalene view --cli %s` "
                 "in the terminal)" % (path, path, path))

    def close(self) -> Optional[Dict[str, Any]]:
        """Stop everything and write the final profile (once)."""
        self._stop_periodic_writer()
        with self._guard():
            if self.closed:
                return None
            self.profiler.stop()
            summary = self.write(quiet=True)
            self.closed = True
        self._uninstall()
        return summary

    def _uninstall(self) -> None:
        global _session
        if _session is self:
            _session = None
        if self.kind != "run":
            for signo, previous in self._previous_handlers.items():
                try:
                    if signal.getsignal(signo) in (self._on_signal, self._off_signal):
                        signal.signal(signo, previous)
                except (ValueError, OSError, TypeError):
                    pass
            if self._installed_profile and getattr(builtins, "profile", None) is self.profile:
                if self._previous_profile is None:
                    try:
                        del builtins.profile  # type: ignore[attr-defined]
                    except AttributeError:
                        pass
                else:
                    builtins.profile = self._previous_profile  # type: ignore[attr-defined]

    # ------------------------------------------------------------ signals

    def install_signal_handlers(self) -> bool:
        """Handle the on/off signals of ``python3 -m scalene.profile``."""
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGRTMIN"):
            return False
        ok = True
        for signo, handler in ((on_signal(), self._on_signal), (off_signal(), self._off_signal)):
            try:
                previous = signal.getsignal(signo)
                if self.kind != "run" and previous not in (signal.SIG_DFL, None) and not (
                        _session_handler(previous)):
                    ok = False  # the program handles it: leave it alone
                    continue
                signal.signal(signo, handler)
                self._previous_handlers[signo] = previous
            except (ValueError, OSError):
                ok = False
        return ok

    def _on_signal(self, signo, frame) -> None:  # type: ignore[no-untyped-def]
        self._from_signal(self._switch_on)

    def _off_signal(self, signo, frame) -> None:  # type: ignore[no-untyped-def]
        self._from_signal(self._switch_off)

    def _switch_on(self) -> None:
        self.start()
        if not self.profiler.is_child:  # every descendant is registered with the parent
            from . import children

            children.forward_switch(on=True)

    def _switch_off(self) -> None:
        from . import children

        if self.profiler.is_child:
            with self._guard():
                if not self.closed:
                    children.child_switched_off(self.profiler)
            return
        children.forward_switch(on=False)
        self.stop(write=True)  # the write's merge waits for the children's parts

    # ----------------------------------------------------- periodic writer

    def start_periodic_writer(self, interval: float) -> None:
        """Rewrite the profile every ``interval`` seconds (daemon thread)."""
        if not interval or math.isinf(interval) or interval <= 0 or self._writer is not None:
            return

        def loop() -> None:
            try:  # our own thread is not part of the program: never sample it
                self.profiler.engine.unregister_thread()
            except Exception:
                pass
            while not self._writer_stop.wait(interval):
                if self.closed:
                    return
                self.write(quiet=True)

        self._writer = threading.Thread(target=loop, name="scalene-profile-writer", daemon=True)
        self._writer.start()

    def _stop_periodic_writer(self) -> None:
        writer = self._writer
        if writer is None:
            return
        self._writer_stop.set()
        if writer is not threading.current_thread():
            writer.join(timeout=30)
        self._writer = None

    def _hide_own_threads(self) -> None:
        writer = self._writer
        native = getattr(writer, "native_id", None) if writer is not None else None
        if native:
            try:
                self.profiler.engine.unregister_thread(native)
            except Exception:
                pass

    # ------------------------------------------------------------ @profile

    def install_builtins_profile(self, force: bool = False) -> None:
        """Put the ``@profile`` decorator in builtins (``force``: even if the
        program or another tool already put one there)."""
        previous = getattr(builtins, "profile", None)
        if previous is not None and not force and not _session_handler(previous):
            return
        self._previous_profile = previous
        builtins.profile = self.profile  # type: ignore[attr-defined]
        self._installed_profile = True

    def profile(self, func: Any) -> Any:
        """``@profile``: only decorated functions' lines are reported.
        Returns the function itself (no wrapper, no overhead)."""
        import inspect

        target = func
        if isinstance(target, (staticmethod, classmethod)):
            target = target.__func__
        if isinstance(target, type):
            for value in vars(target).values():
                inner = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
                if inspect.isfunction(inner):
                    self._decorate_code(inspect.unwrap(inner).__code__)
            return func
        try:
            target = inspect.unwrap(target)
        except ValueError:
            pass
        code = getattr(target, "__code__", None)
        if isinstance(code, types.CodeType):
            self._decorate_code(code)
        return func

    def _decorate_code(self, code: types.CodeType) -> None:
        first, last = code_line_range(code)
        with self._guard():
            p = self.profiler
            if p.decorated:
                p.add_decorated(code.co_filename, first, last)
                return
            # The first decorated function: what was sampled so far ran
            # outside any decorated function (none existed), so it is not
            # part of the report; start the totals afresh.
            was_running = p.running
            if was_running:
                p.stop()
            try:
                p.engine.reset()
            except Exception:
                pass
            p.add_decorated(code.co_filename, first, last)
            if was_running:
                p.start()
                self._hide_own_threads()


class _Guard:
    """``with session._guard():`` holds the session's lock and records its
    owner; on leaving, runs what the main thread's signal handlers queued."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        s = self.session
        s._lock.acquire()
        s._depth += 1
        if s._depth == 1:
            s._owner = threading.get_ident()

    def __exit__(self, *exc: object) -> None:
        s = self.session
        s._depth -= 1
        if s._depth == 0:
            s._owner = None
        s._lock.release()
        s._run_pending()


def _after_fork_in_child() -> None:
    """A forked child inherits the session, not the threads: a lock held by
    another thread at fork time would never be released, the writer thread
    is gone."""
    s = _session
    if s is None:
        return
    s._lock = threading.RLock()
    s._owner, s._depth, s._pending = None, 0, []
    s._writer, s._writer_stop = None, threading.Event()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _session_handler(obj: Any) -> bool:
    """Is obj a bound method of some Session (ours, from an earlier session)?"""
    return isinstance(getattr(obj, "__self__", None), Session)


# ------------------------------------------------------- in-process sessions

def in_process_session() -> Session:
    """A session for a plain ``python3`` process using the API (no ``scalene
    run``): profiles this process, writes the profile at stop() and at exit."""
    global _session
    if _session is not None:
        return _session
    from .cli import DEFAULT_OUTFILE
    from .profiler import Options, Profiler

    children = sys.modules.get("scalene.children")
    child = getattr(children, "_state", {}).get("parent") if children is not None else None
    if child is not None and getattr(child, "is_child", False):
        # a child process of a profiled program: its profile goes to the parent
        return attach_child(child)

    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and os.path.basename(script).startswith("ipykernel_launcher"):
        script = None  # a Jupyter kernel: its cells are the program (see also the magics)
    if script and os.path.isfile(script):
        program = os.path.abspath(script)
        entrypoint_dir = os.path.dirname(program)
    else:
        program, entrypoint_dir = "<interactive>", ""
    options = Options(outfile=DEFAULT_OUTFILE, program_path=entrypoint_dir or os.getcwd(),
                      memory=True, gpu=True)
    profiler = Profiler(options, program=program, args=sys.argv[1:], entrypoint_dir=entrypoint_dir)
    s = Session(profiler, os.path.abspath(DEFAULT_OUTFILE), kind="inprocess", write_on_stop=True, announce=True)
    s.install_signal_handlers()
    s.install_builtins_profile(force=False)
    atexit.register(_at_exit, s)
    return s


def attach_child(profiler) -> Session:  # type: ignore[no-untyped-def]
    """For a child process's profiler (children.py): the session that the API
    and ``@profile`` reach.  A spawned child runs the program's modules again,
    so ``@profile`` must exist there too."""
    s = Session(profiler, profiler.options.outfile, kind="child")
    s.install_builtins_profile(force=True)
    s.install_signal_handlers()  # on/off, passed on by the parent
    return s


def _at_exit(s: Session) -> None:
    if s.closed:
        return
    with s._guard():
        if s.profiler.running or not s.written_since_stop:
            s.profiler.stop()
            s.write()
        s.closed = True
