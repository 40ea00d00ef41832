"""Child processes: every Python process the program starts is profiled too,
and its totals are merged into the parent's profile.

- Forked children (os.fork, multiprocessing's fork, ProcessPoolExecutor on
  Linux, the forkserver's workers) continue the parent's session: the engine
  resets itself in the child (pthread_atfork), and an at-fork hook here starts
  sampling again as a child session.
- New interpreters (multiprocessing's spawn and forkserver, subprocess running
  `python ...`) find SCALENE_CHILD_DIR in their environment and a
  sitecustomize.py that starts a child session before the program's code.

A child session dumps its tables (the engine's own format) to
`$SCALENE_CHILD_DIR/child-<pid>.bin` when it exits, including on SIGTERM
(the way multiprocessing pools stop their workers) and os._exit; the parent
merges every dump before it writes the profile.  A child killed by SIGKILL
loses only its own data.  The program's start method is never changed.

`python3 -m scalene.profile --on/--off --pid PARENT` reaches the children
too: each live child session leaves `live-<pid>` in the directory, and the
parent passes the signal on to every one of them (grandchildren included:
they share the directory).  Switched off, a child dumps what it has so far as
`child-<pid>-part<n>.bin` and starts its tables afresh; the parent's next
merge waits for those parts (briefly) and merges them into the profile, so the
profile written at "off" includes the children's work.  (Starting afresh
forgets the child's live blocks: memory a child holds across an off/on
switch is not credited back when it is freed later.)
"""

from __future__ import annotations

import atexit
import marshal
import os
import signal
import sys
import time

ENV_DIR = "SCALENE_CHILD_DIR"
ENV_OPTIONS = "SCALENE_CHILD_OPTIONS"

_SITECUSTOMIZE = '''"""Started by scalene in a child Python process: profile it as a child."""
import os as _os
import sys as _sys


def _scalene_child_start():
    options = _os.environ.get("SCALENE_CHILD_OPTIONS")
    if not options or not _os.environ.get("SCALENE_CHILD_DIR"):
        return
    import marshal
    try:
        opts = marshal.loads(bytes.fromhex(options))
    except Exception:
        return
    if not isinstance(opts, dict):
        return
    if opts.get("python") != list(_sys.version_info[:2]):
        return  # the engine was built for the parent's interpreter
    here = _os.path.dirname(_os.path.abspath(__file__))
    added = opts.get("package_parent")
    if added and added not in _sys.path:
        _sys.path.append(added)
    try:
        from scalene import children
        children.start_spawned_child(opts)
    except Exception as exc:  # never break the child program
        _sys.stderr.write("scalene: this child process is not profiled: %s\\n" % (exc,))
    # chain to the program's own sitecustomize, if it has one
    rest = [p for p in _sys.path if p and _os.path.abspath(p) != here]
    import importlib.machinery
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        import importlib.util
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_scalene_child_start()
'''

_state: Dict[str, Any] = {"parent": None, "dir": None, "hooked": False, "env": None}


def prepare_parent(profiler) -> None:  # type: ignore[no-untyped-def]
    """In the profiled program's own process, before sampling starts: the
    directory children dump into, and what they need to find it (in the
    environment only while profiling runs: see parent_stopped)."""
    if profiler.is_child:
        return
    if _state["dir"] is not None:
        _state["parent"] = _state["parent"] or profiler
        _set_env()
        return
    directory = _private_dir()
    site = os.path.join(directory, "site")
    os.mkdir(site)
    with open(os.path.join(site, "sitecustomize.py"), "w") as f:
        f.write(_SITECUSTOMIZE)
    options = dict(vars(profiler.options))
    options.update(
        python=list(sys.version_info[:2]),
        package_parent=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        program=profiler.program,
        program_path=profiler.program_path,
        entrypoint_dir=profiler.entrypoint_dir,
        decorated={k: v for k, v in profiler.decorated.items()},
    )
    # marshal (built in) rather than json: importing json is a noticeable
    # part of start-up, in the parent and in every child
    _state["env"] = {ENV_DIR: directory, ENV_OPTIONS: _encode_options(options), "site": site}
    _state["parent"] = profiler
    _state["dir"] = directory
    _set_env()
    profiler.child_dir = directory
    if not _state["hooked"]:
        _state["hooked"] = True
        os.register_at_fork(after_in_child=_after_fork_in_child)
        atexit.register(_cleanup_parent, os.getpid())


def _encode_options(options: Dict[str, Any]) -> str:
    """The options as text for the environment; a value marshal cannot
    carry (something an API caller put there) is left out."""
    plain = {}
    for key, value in options.items():
        try:
            marshal.dumps(value, 4)
        except ValueError:
            continue
        plain[key] = value
    return marshal.dumps(plain, 4).hex()


def _set_env() -> None:
    env = _state.get("env")
    if not env or os.environ.get(ENV_DIR) == env[ENV_DIR]:
        return
    _state["saved_pythonpath"] = os.environ.get("PYTHONPATH")
    os.environ[ENV_DIR] = env[ENV_DIR]
    os.environ[ENV_OPTIONS] = env[ENV_OPTIONS]
    pythonpath = _state["saved_pythonpath"]
    os.environ["PYTHONPATH"] = env["site"] + (os.pathsep + pythonpath if pythonpath else "")


def parent_stopped(profiler) -> None:  # type: ignore[no-untyped-def]
    """Profiling stopped in the parent: processes started from now on are
    not profiled (an API or Jupyter session goes on without the profiler)."""
    env = _state.get("env")
    if profiler.is_child or not env or os.environ.get(ENV_DIR) != env[ENV_DIR]:
        return
    os.environ.pop(ENV_DIR, None)
    os.environ.pop(ENV_OPTIONS, None)
    saved = _state.get("saved_pythonpath")
    if saved is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = saved


def _private_dir() -> str:
    """A fresh directory only we can use (tempfile.mkdtemp without importing
    tempfile, which costs start-up time)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    for _ in range(100):
        path = os.path.join(base, "scalene-children-%d-%s" % (os.getpid(), os.urandom(6).hex()))
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise OSError("cannot create a private directory in %s" % base)


def _cleanup_parent(pid: int) -> None:
    if os.getpid() != pid or not _state["dir"]:
        return
    # os.walk rather than shutil.rmtree: shutil (and the compression modules
    # it imports) would cost more than the whole clean-up
    for root, dirs, files in os.walk(_state["dir"], topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass
    try:
        os.rmdir(_state["dir"])
    except OSError:
        pass


def merge_children(profiler) -> int:  # type: ignore[no-untyped-def]
    """Merge every complete child dump into the parent's tables (once each)."""
    directory = profiler.child_dir
    if not directory or not os.path.isdir(directory):
        return 0
    _wait_for_parts(_state.pop("awaiting", None) or {})
    merged = 0
    for name in sorted(os.listdir(directory)):
        if not (name.startswith("child-") and name.endswith(".bin")):
            continue
        path = os.path.join(directory, name)
        try:
            profiler.engine.merge(path)
            merged += 1
        except (OSError, ValueError) as exc:
            sys.stderr.write("scalene: skipped a child's profile: %s\n" % exc)
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
    return merged


# ------------------------------------------------------- switching on/off

PART_WAIT_SECONDS = 2.0  # how long "off" waits for the children's parts


def _live_children(directory: str) -> List[int]:
    pids = []
    try:
        names = os.listdir(directory)
    except OSError:
        return pids
    for name in names:
        if name.startswith("live-"):
            try:
                pid = int(name[5:])
            except ValueError:
                continue
            if pid != os.getpid():
                pids.append(pid)
    return pids


def _dumps_of(directory: str, pid: int) -> Set[str]:
    prefix = "child-%d" % pid
    try:
        return {n for n in os.listdir(directory) if n.startswith(prefix) and n.endswith(".bin")
                and n[len(prefix)] in ".-"}
    except OSError:
        return set()


def forward_switch(on: bool) -> None:
    """In the parent: pass "on" or "off" to every live child session.  After
    "off", the next merge_children() first waits for their parts."""
    from .api import off_signal, on_signal

    directory = _state["dir"]
    sent: Dict[int, Set[str]] = {}
    if not directory:
        return
    signo = on_signal() if on else off_signal()
    for pid in _live_children(directory):
        before = set() if on else _dumps_of(directory, pid)
        try:
            os.kill(pid, signo)
        except ProcessLookupError:  # gone without saying so (SIGKILL)
            try:
                os.unlink(os.path.join(directory, "live-%d" % pid))
            except OSError:
                pass
            continue
        except OSError:
            continue
        sent[pid] = before
    if not on:
        _state["awaiting"] = sent


def _wait_for_parts(sent: Dict[int, Set[str]], timeout: float = PART_WAIT_SECONDS) -> None:
    """Wait until every child signalled "off" has left a new dump, has
    exited, or `timeout` passes (a child stuck in native code saves its part
    when it can; the final profile has it)."""
    directory = _state["dir"]
    deadline = time.monotonic() + timeout
    waiting = dict(sent)
    while waiting and directory:
        for pid, before in list(waiting.items()):
            if _dumps_of(directory, pid) - before or not os.path.exists(os.path.join(directory, "live-%d" % pid)):
                del waiting[pid]
        if not waiting or time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def child_switched_off(profiler) -> None:  # type: ignore[no-untyped-def]
    """In a child: "off" from the parent.  Hand over what was sampled so far
    as a part dump and start afresh, so that nothing is merged twice."""
    profiler.stop()
    if profiler.dumped or not profiler.child_dir:
        return
    profiler.parts += 1
    path = os.path.join(profiler.child_dir, "child-%d-part%d.bin" % (os.getpid(), profiler.parts))
    try:
        profiler.engine.dump(path)
        profiler.engine.reset()
    except Exception as exc:
        if os.path.isdir(profiler.child_dir):
            sys.stderr.write("scalene: could not save this child's profile so far: %s\n" % exc)


# ------------------------------------------------------------- child side

def _become_child(profiler, directory: str) -> None:  # type: ignore[no-untyped-def]
    profiler.is_child = True
    profiler.child_dir = directory

    live = os.path.join(directory, "live-%d" % os.getpid())

    def dump() -> None:
        if os.getpid() != pid or profiler.dumped:
            return
        profiler.dumped = True
        try:
            profiler.stop()
            profiler.engine.dump(os.path.join(directory, "child-%d.bin" % os.getpid()))
        except Exception as exc:
            if os.path.isdir(directory):  # else the parent is gone: nobody to tell
                sys.stderr.write("scalene: could not save this child's profile: %s\n" % exc)
        try:
            os.unlink(live)
        except OSError:
            pass

    pid = os.getpid()
    profiler.dumped = False
    profiler.parts = 0
    try:  # so that the parent can pass on/off signals on to this process
        with open(live, "w"):
            pass
    except OSError:
        pass
    profiler.dump_child = dump
    atexit.register(dump)

    real_exit = os._exit

    def _exit(code: int) -> None:
        dump()
        real_exit(code)

    os._exit = _exit  # type: ignore[assignment]

    def on_term(signum, frame):  # type: ignore[no-untyped-def]
        dump()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, on_term)
    except ValueError:
        pass  # not the main thread


def _after_fork_in_child() -> None:
    parent = _state["parent"]
    directory = os.environ.get(ENV_DIR)
    if parent is None or not directory or not parent.running:
        return
    try:
        parent.running = False
        parent.engine.reset()
        parent.elapsed = 0.0
        parent._started_at = None
        _become_child(parent, directory)
        parent.start()
    except Exception as exc:
        sys.stderr.write("scalene: this forked child is not profiled: %s\n" % exc)


def start_spawned_child(opts: Dict[str, Any]) -> None:
    """A new interpreter started by the profiled program (sitecustomize)."""
    from .profiler import Options, Profiler

    directory = os.environ.get(ENV_DIR)
    if not directory:
        return
    known = set(vars(Options()))
    options = Options(**{k: v for k, v in opts.items() if k in known})
    profiler = Profiler(options, program=opts.get("program", ""), args=sys.argv[1:],
                        entrypoint_dir=opts.get("entrypoint_dir", ""))
    profiler.program_path = opts.get("program_path") or profiler.program_path
    profiler._configure()
    for filename, ranges in (opts.get("decorated") or {}).items():
        for first, last in ranges:
            profiler.add_decorated(filename, first, last)
    _become_child(profiler, directory)
    _state["parent"] = profiler
    from . import api

    api.attach_child(profiler)  # @profile must exist in the child's modules too
    if not _state["hooked"]:
        _state["hooked"] = True
        os.register_at_fork(after_in_child=_after_fork_in_child)
    profiler.start()


def current_child_dir() -> Optional[str]:
    return _state["dir"]
