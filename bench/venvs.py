"""Peer venvs for the benchmark harness: one venv per profiler, created on demand.

Each peer is installed from PyPI into its own venv, ``.venvs/bench-<name>``
under the repository root (gitignored), so that no peer's dependencies leak into
another's measurements.  Every venv also gets numpy, because one benchmark
program needs it.  A stamp file records what was installed; a venv is rebuilt
only when its requirement list changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_ROOT = REPO / ".venvs"
DEFAULT_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3.11"
BASE_PYTHON = os.environ.get("BENCH_PYTHON", DEFAULT_PYTHON if os.path.exists(DEFAULT_PYTHON) else sys.executable)

COMMON = ["numpy"]
# name -> PyPI requirements (on top of COMMON)
VENVS: dict[str, list[str]] = {
    # baseline ("plain") runs, cProfile (stdlib) and our own profiler (imported
    # from the repo root; pyyaml/pygments are its runtime dependencies)
    "plain": ["pyyaml", "pygments"],
    "scalene": ["scalene"],
    "pyspy": ["py-spy"],
    "pyinstrument": ["pyinstrument"],
    "yappi": ["yappi"],
    "memray": ["memray"],
    "line_profiler": ["line_profiler"],
    # pyperformance's benchmark files (bm_*/run_benchmark.py) live here
    "pyperf": ["pyperformance", "pyperf"],
}


def venv_dir(name: str) -> Path:
    return VENV_ROOT / f"bench-{name}"


def venv_python(name: str) -> Path:
    return venv_dir(name) / "bin" / "python"


def venv_bin(name: str, exe: str) -> Path:
    return venv_dir(name) / "bin" / exe


def _log(msg: str) -> None:
    print(f"[venvs] {msg}", file=sys.stderr, flush=True)


def ensure_venv(name: str, quiet: bool = False) -> Path:
    """Create ``.venvs/bench-<name>`` if needed and install its requirements.

    Returns the venv's python.  Raises RuntimeError with pip's output on failure.
    """
    reqs = COMMON + VENVS[name]
    d = venv_dir(name)
    py = venv_python(name)
    want = hashlib.sha256(("\n".join([BASE_PYTHON] + reqs)).encode()).hexdigest()
    stamp = d / ".bench-requirements.sha"
    if py.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return py
    if not py.exists():
        _log(f"creating {d} with {BASE_PYTHON}")
        VENV_ROOT.mkdir(parents=True, exist_ok=True)
        subprocess.run([BASE_PYTHON, "-m", "venv", str(d)], check=True)
    _log(f"installing into {d.name}: {' '.join(reqs)}")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *reqs],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pip install into {d} failed:\n{r.stdout[-3000:]}")
    stamp.write_text(want + "\n")
    return py


def installed_version(name: str, dist: str) -> str:
    """Version of distribution ``dist`` inside venv ``name`` ("?" if unknown)."""
    py = venv_python(name)
    if not py.exists():
        return "?"
    # -I and cwd="/": the repo root would make its own scalene (0.1.0) visible
    r = subprocess.run([str(py), "-I", "-c", f"import importlib.metadata as m;print(m.version({dist!r}))"],
                       cwd="/", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() or "?"


if __name__ == "__main__":
    # python bench/venvs.py [name ...]   -> create/refresh the named (default: all) venvs
    for n in sys.argv[1:] or list(VENVS):
        print(n, ensure_venv(n))
