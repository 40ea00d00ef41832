"""Options from a YAML file: ``scalene run -c scalene.yaml prog.py``.

The file is a mapping of option names without their leading dashes, in dash
or underscore form (``cpu-sampling-rate: 0.005`` or ``cpu_sampling_rate:
0.005``), as in Scalene.  Values are checked like the command line's;
options given on the command line win.  An unknown key or a bad value is a
one-line error naming it.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Dict, Iterable, Set, Tuple


class ConfigError(Exception):
    """A problem with the config file (one line)."""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise argparse.ArgumentTypeError("expected true or false, got %r" % (value,))


def _keys() -> Dict[str, Tuple[str, Callable[[Any], Any]]]:
    """YAML key (underscore form) -> (option destination, value check)."""
    from . import cli

    def off_from_on(value: Any) -> bool:
        return not _bool(value)

    return {
        "outfile": ("outfile", cli._outfile),
        "output": ("outfile", cli._outfile),
        "cpu_only": ("cpu_only", _bool),
        "cpu": ("cpu", _bool),
        "gpu": ("gpu", _bool),
        "memory": ("memory", _bool),
        "stacks": ("stacks", _bool),
        "async": ("use_async", _bool),
        "profile_all": ("profile_all", _bool),
        "profile_only": ("profile_only", cli._string),
        "profile_exclude": ("profile_exclude", cli._string),
        "profile_system_libraries": ("profile_system_libraries", _bool),
        "program_path": ("program_path", cli._directory),
        "profile_interval": ("profile_interval", cli._positive_float),
        "use_virtual_time": ("use_virtual_time", _bool),
        "cpu_percent_threshold": ("cpu_percent_threshold", cli._percent),
        "cpu_sampling_rate": ("cpu_sampling_rate", cli._positive_finite_float),
        "allocation_sampling_window": ("allocation_sampling_window", cli._positive_int),
        "malloc_threshold": ("malloc_threshold", cli._nonneg_float),
        "memory_leak_detector": ("memory_leak_detector", _bool),
        "reduced_profile": ("reduced_profile", _bool),
        "disable_jit": ("disable_jit", _bool),
        "use_legacy_tracer": ("use_legacy_tracer", _bool),
        "use_python_callback": ("use_python_callback", _bool),
        "on": ("off", off_from_on),
        "off": ("off", _bool),
    }


def load(path: str) -> Dict[str, Any]:
    """The file's mapping, or ConfigError."""
    try:
        import yaml
    except ImportError:
        raise ConfigError("reading %s needs PyYAML, which is not installed: pip install pyyaml" % path) from None
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise ConfigError("cannot read the config file %s: %s" % (path, exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise ConfigError("config file %s is not UTF-8 text" % path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " (line %d)" % (mark.line + 1) if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError("config file %s is not valid YAML%s: %s" % (path, where, problem)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("config file %s must be a mapping of option: value, got %s"
                          % (path, type(data).__name__))
    return data


def apply(ns: argparse.Namespace, path: str, given: Iterable[str] = ()) -> Set[str]:
    """Set the file's options on ``ns`` except those named on the command line
    (``given``: destinations).  Returns the destinations the file set."""
    data = load(path)
    keys = _keys()
    given = set(given)
    applied: Set[str] = set()
    for raw_key, value in data.items():
        if isinstance(raw_key, bool):  # YAML 1.1 reads a bare `on:` / `off:` key as true / false
            raw_key = "on" if raw_key else "off"
        key = str(raw_key).strip().lstrip("-").replace("-", "_")
        if key not in keys:
            known = ", ".join(sorted(k.replace("_", "-") for k in keys))
            raise ConfigError("config file %s: unknown option %r (known: %s)" % (path, raw_key, known))
        dest, check = keys[key]
        try:
            converted = check(value)
        except argparse.ArgumentTypeError as exc:
            raise ConfigError("config file %s: %s: %s" % (path, raw_key, exc)) from None
        if dest in given:
            continue  # the command line wins
        setattr(ns, dest, converted)
        applied.add(dest)
    return applied
