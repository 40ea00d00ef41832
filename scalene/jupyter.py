"""IPython / Jupyter magics::

    %load_ext scalene
    %scrun [options] statement          profile one statement
    %%scalene [options]                 profile the cell
    <cell code>

Options are those of ``scalene run`` (a leading ``run`` is accepted and
dropped), plus ``--cli`` to show the report as text only.  The code is
written to a real file (``_ipython-input-<N>-profile.py`` in a temporary
directory) and compiled with that name, so its lines are attributable; it
runs in the notebook's namespace.  The profile is shown as the viewer's page
(in an iframe) with the terminal report as the text alternative for
front-ends that cannot show HTML.  Memory is profiled as with `scalene run`
(unlike the existing tool, which cannot in a notebook); `--cpu-only` turns it
off.
"""

from __future__ import annotations

import atexit
import html
import itertools
import os
import shutil
import sys
import tempfile
from typing import Any, List, Optional, Tuple

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

_counter = itertools.count(1)
_tmpdir: Optional[str] = None


def _workdir() -> str:
    global _tmpdir
    if _tmpdir is None or not os.path.isdir(_tmpdir):
        _tmpdir = os.path.realpath(tempfile.mkdtemp(prefix="scalene-jupyter-"))
        atexit.register(shutil.rmtree, _tmpdir, True)
    return _tmpdir


def split_line(line: str) -> Tuple[List[str], str]:
    """(option tokens, statement) of a %scrun line: options come first; a
    bare word (or `---`) starts the statement, which is kept verbatim."""
    from . import cli

    takes_value, long_options = cli._value_options(cli._run_parser("%scrun"))
    tokens: List[str] = []
    rest = line.strip()
    if rest == "run" or rest.startswith(("run ", "run\t")):
        rest = rest[3:].lstrip()
    expect_value = False
    while rest:
        parts = rest.split(None, 1)
        token = parts[0]
        after = parts[1] if len(parts) > 1 else ""
        if expect_value:
            tokens.append(token)
            expect_value = False
        elif token == cli.SEPARATOR:
            rest = after
            break
        elif token.startswith("-") and len(token) > 1 and not token[1].isdigit():
            tokens.append(token)
            name = token.split("=", 1)[0]
            if "=" not in token:
                if name not in takes_value and name.startswith("--"):
                    matches = [s for s in long_options if s.startswith(name)]
                    if len(matches) == 1:
                        name = matches[0]
                expect_value = name in takes_value
        else:
            break
        rest = after
    return tokens, rest


def _parse(tokens: List[str], prog: str) -> Any:
    from . import cli

    if tokens and tokens[0] == "run":
        tokens = tokens[1:]
    text_only = False
    if "--cli" in tokens:
        text_only = True
        tokens = [t for t in tokens if t != "--cli"]
    try:
        ns = cli.parse_options(tokens, prog=prog)
    except SystemExit:  # --help printed
        return None
    if ns.module:
        raise cli.UsageError("-m is not available in %s: write the code to profile" % prog)
    ns.text_only = text_only
    return ns


def _show(summary: Any, text_only: bool) -> None:
    from IPython.display import display

    from .profile_io import ProfileError, load_profile
    from .report import render_to_string

    path = summary["path"]
    if summary.get("why_empty"):
        print("scalene: nothing to report: %s" % summary["why_empty"])
        return
    try:
        profile = load_profile(path)
    except ProfileError as exc:
        print("scalene: error: %s" % exc, file=sys.stderr)
        return
    bundle = {"text/plain": render_to_string(profile)}
    if not text_only:
        try:
            from .viewer import render_html

            page = render_html(profile)
            bundle["text/html"] = (
                '<iframe srcdoc="%s" style="width:100%%;height:640px;border:1px solid #ddd" '
                'sandbox="allow-scripts allow-popups allow-downloads"></iframe>' % html.escape(page, quote=True))
        except Exception as exc:  # the text report still shows
            print("scalene: the HTML view is not available (%s); showing the text report" % exc, file=sys.stderr)
    display(bundle, raw=True)


def _strip_own_frames(tb: Any) -> Any:
    from .profiler import OWN_DIR

    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(OWN_DIR + os.sep):
        tb = tb.tb_next
    return tb


@magics_class
class ScaleneMagics(Magics):
    @line_magic
    def scrun(self, line: str) -> None:
        """%scrun [options] statement: profile one statement."""
        __tracebackhide__ = True  # noqa: F841
        from . import cli

        tokens, statement = split_line(line)
        try:
            ns = _parse(tokens, "%scrun")
        except cli.UsageError as exc:
            print("scalene: error: %s" % exc, file=sys.stderr)
            return
        if ns is None:
            return
        if not statement.strip():
            print("scalene: error: nothing to profile: %scrun [options] statement", file=sys.stderr)
            return
        self._profile(statement + "\n", ns)

    @cell_magic
    def scalene(self, line: str, cell: str) -> None:
        """%%scalene [options]: profile the cell."""
        __tracebackhide__ = True  # noqa: F841
        import shlex

        from . import cli

        try:
            ns = _parse(shlex.split(line), "%%scalene")
        except (cli.UsageError, ValueError) as exc:
            print("scalene: error: %s" % exc, file=sys.stderr)
            return
        if ns is None:
            return
        self._profile(cell, ns)

    def _profile(self, source: str, ns: Any) -> None:
        __tracebackhide__ = True  # noqa: F841  (IPython hides this frame in tracebacks)
        from . import api, cli
        from .profiler import Profiler

        shell = self.shell
        existing = api.session()
        if existing is not None and existing.running:
            print("scalene: error: this kernel is already being profiled (scalene_profiler.start()); "
                  "stop it first", file=sys.stderr)
            return
        source = shell.transform_cell(source) if shell is not None else source
        workdir = _workdir()
        n = next(_counter)
        path = os.path.join(workdir, "_ipython-input-%d-profile.py" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        try:
            code = compile(source, path, "exec")
        except SyntaxError:
            shell.showsyntaxerror(filename=path)
            return
        options = cli.options_from(ns)
        # Memory profiling works in a running kernel too (the interposition
        # layer patches relocations in place); the existing tool turns it off.
        if not ns.program_path:
            options.program_path = workdir
        outfile = ns.outfile or os.path.join(workdir, "profile-%d.json" % n)
        options.outfile = outfile
        profiler = Profiler(options, program=path, args=[], entrypoint_dir=workdir)
        session = api.Session(profiler, outfile, kind="jupyter")
        session.install_builtins_profile(force=False)
        namespace = shell.user_ns if shell is not None else {}
        error: Optional[BaseException] = None
        try:
            session.start()
            exec(code, namespace)
        except SystemExit as exc:  # the cell's sys.exit() ends the cell, not the kernel
            if exc.code not in (None, 0):
                print("scalene: the code exited with status %r" % (exc.code,), file=sys.stderr)
        except BaseException as exc:  # shown after the profile
            error = exc
        finally:
            summary = session.close()
        if summary:
            _show(summary, ns.text_only)
        if error is not None:
            raise error.with_traceback(_strip_own_frames(error.__traceback__))


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(ScaleneMagics)


def unload_ipython_extension(ipython: Any) -> None:
    pass
