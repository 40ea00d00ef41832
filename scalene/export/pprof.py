"""pprof export: a gzipped ``perftools.profiles.Profile`` protobuf.

Encoded by hand (pure Python, no protobuf dependency) following
https://github.com/google/pprof/blob/main/proto/profile.proto.

Sample types (values of every sample, in this order):
``samples/count``, ``cpu/nanoseconds`` (default), ``python/nanoseconds``,
``native/nanoseconds``, ``system/nanoseconds``.
"""

from __future__ import annotations

import gzip
from typing import Any, Dict, List, Tuple

from . import ExportError, Frame, _num, collect_stacks, stack_seconds, total_sampled_sec

# Field numbers from profile.proto.
# Profile
_P_SAMPLE_TYPE = 1
_P_SAMPLE = 2
_P_MAPPING = 3
_P_LOCATION = 4
_P_FUNCTION = 5
_P_STRING_TABLE = 6
_P_TIME_NANOS = 9
_P_DURATION_NANOS = 10
_P_PERIOD_TYPE = 11
_P_PERIOD = 12
_P_COMMENT = 13
_P_DEFAULT_SAMPLE_TYPE = 14
# ValueType
_VT_TYPE = 1
_VT_UNIT = 2
# Sample
_S_LOCATION_ID = 1
_S_VALUE = 2
# Mapping
_M_ID = 1
_M_FILENAME = 5
_M_HAS_FUNCTIONS = 7
_M_HAS_FILENAMES = 8
_M_HAS_LINE_NUMBERS = 9
# Location
_L_ID = 1
_L_MAPPING_ID = 2
_L_LINE = 4
# Line
_LN_FUNCTION_ID = 1
_LN_LINE = 2
# Function
_F_ID = 1
_F_NAME = 2
_F_SYSTEM_NAME = 3
_F_FILENAME = 4
_F_START_LINE = 5

SAMPLE_TYPES = [
    ("samples", "count"),
    ("cpu", "nanoseconds"),
    ("python", "nanoseconds"),
    ("native", "nanoseconds"),
    ("system", "nanoseconds"),
]


def _varint(value: int) -> bytes:
    """Base-128 varint; negative values as 64-bit two's complement."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _int_field(field: int, value: int) -> bytes:
    """A varint field; proto3 default (0) is omitted."""
    if not value:
        return b""
    return _key(field, 0) + _varint(int(value))


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _packed_field(field: int, values: List[int]) -> bytes:
    if not values:
        return b""
    return _bytes_field(field, b"".join(_varint(int(v)) for v in values))


class _Strings:
    def __init__(self) -> None:
        self.table: List[str] = [""]
        self.index: Dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        idx = self.index.get(s)
        if idx is None:
            idx = len(self.table)
            self.table.append(s)
            self.index[s] = idx
        return idx


def _function_start_lines(profile: Dict[str, Any]) -> Dict[Tuple[str, str], int]:
    """(file, qualname) -> first line, from the profile's FunctionDetail
    entries (``line`` = qualified name, ``lineno`` = first line)."""
    out: Dict[Tuple[str, str], int] = {}
    files = profile.get("files")
    if not isinstance(files, dict):
        return out
    for fname, detail in files.items():
        if not isinstance(detail, dict):
            continue
        for fn in detail.get("functions") or []:
            if not isinstance(fn, dict):
                continue
            q, n = fn.get("line"), fn.get("lineno")
            if isinstance(q, str) and isinstance(n, int) and n > 0:
                out.setdefault((fname, q.strip()), n)
    return out


def _split(total: int, parts: List[float]) -> List[int]:
    """Split integer ``total`` in proportion to ``parts`` (largest remainder)."""
    s = sum(parts)
    if total <= 0 or s <= 0:
        return [0 for _ in parts]
    raw = [total * p / s for p in parts]
    ints = [int(x) for x in raw]
    rest = total - sum(ints)
    order = sorted(range(len(parts)), key=lambda i: raw[i] - ints[i], reverse=True)
    for i in order[:rest]:
        ints[i] += 1
    return ints


def to_pprof(profile: Dict[str, Any]) -> bytes:
    """Render the profile's stacks as gzipped pprof protobuf bytes."""
    records = collect_stacks(profile)
    secs = stack_seconds(records, total_sampled_sec(profile))
    strings = _Strings()
    start_lines = _function_start_lines(profile)

    functions: Dict[Tuple[str, str], int] = {}
    function_msgs: List[bytes] = []
    locations: Dict[Frame, int] = {}
    location_msgs: List[bytes] = []

    def function_id(frame: Frame) -> int:
        key = (frame.file, frame.qualname)
        fid = functions.get(key)
        if fid is None:
            fid = len(functions) + 1
            functions[key] = fid
            # system_name must differ from name: pprof otherwise "demangles"
            # names that look like C++ templates, turning "<module>" into "".
            function_msgs.append(
                _int_field(_F_ID, fid)
                + _int_field(_F_NAME, strings(frame.qualname))
                + _int_field(_F_SYSTEM_NAME, strings(_system_name(frame)))
                + _int_field(_F_FILENAME, strings(frame.file))
                + _int_field(_F_START_LINE, start_lines.get(key, 0))
            )
        return fid

    def location_id(frame: Frame) -> int:
        lid = locations.get(frame)
        if lid is None:
            fid = function_id(frame)
            lid = len(locations) + 1
            locations[frame] = lid
            line = _int_field(_LN_FUNCTION_ID, fid) + _int_field(_LN_LINE, frame.line)
            location_msgs.append(
                _int_field(_L_ID, lid)
                + _int_field(_L_MAPPING_ID, 1)
                + _bytes_field(_L_LINE, line)
            )
        return lid

    sample_msgs: List[bytes] = []
    total_ns = 0
    total_count = 0
    for rec, sec in zip(records, secs):
        ns = int(round(sec * 1e9))
        if rec.count <= 0 and ns <= 0:
            continue
        kinds = _split(ns, [rec.python, rec.native, rec.system])
        values = [rec.count, ns] + kinds
        loc_ids = [location_id(f) for f in reversed(rec.frames)]  # leaf first
        sample_msgs.append(
            _packed_field(_S_LOCATION_ID, loc_ids) + _packed_field(_S_VALUE, values)
        )
        total_ns += ns
        total_count += rec.count
    if not sample_msgs:
        raise ExportError(
            "the profile's stacks carry no samples to export; re-run the profiler with --stacks"
        )

    out = bytearray()
    for typ, unit in SAMPLE_TYPES:
        out += _bytes_field(
            _P_SAMPLE_TYPE,
            _int_field(_VT_TYPE, strings(typ)) + _int_field(_VT_UNIT, strings(unit)),
        )
    for msg in sample_msgs:
        out += _bytes_field(_P_SAMPLE, msg)
    # One pseudo-mapping for the program, flagged as fully symbolized so that
    # pprof does not try to symbolize (or complain about) a binary.
    out += _bytes_field(
        _P_MAPPING,
        _int_field(_M_ID, 1)
        + _int_field(_M_FILENAME, strings(_mapping_name(profile)))
        + _int_field(_M_HAS_FUNCTIONS, 1)
        + _int_field(_M_HAS_FILENAMES, 1)
        + _int_field(_M_HAS_LINE_NUMBERS, 1),
    )
    for msg in location_msgs:
        out += _bytes_field(_P_LOCATION, msg)
    for msg in function_msgs:
        out += _bytes_field(_P_FUNCTION, msg)

    duration_ns = int(round(_num(profile.get("elapsed_time_sec")) * 1e9))
    # microsecond precision: a double holds epoch seconds to ~0.2 us only
    time_ns = int(round(_num(profile.get("start_time_absolute")) * 1e6)) * 1000
    period = int(round(total_ns / total_count)) if total_count > 0 else 0
    period_type = _int_field(_VT_TYPE, strings("cpu")) + _int_field(
        _VT_UNIT, strings("nanoseconds")
    )
    comment = strings(_comment(profile))
    default_type = strings("cpu")

    # Strings are all interned above; the table must be written after that.
    for text in strings.table:
        out += _bytes_field(_P_STRING_TABLE, text.encode("utf-8", "replace"))
    out += _int_field(_P_TIME_NANOS, time_ns)
    out += _int_field(_P_DURATION_NANOS, duration_ns)
    out += _bytes_field(_P_PERIOD_TYPE, period_type)
    out += _int_field(_P_PERIOD, period)
    out += _packed_field(_P_COMMENT, [comment])
    out += _int_field(_P_DEFAULT_SAMPLE_TYPE, default_type)
    return gzip.compress(bytes(out), mtime=0)


def _system_name(frame: Frame) -> str:
    return "%s:%s" % (frame.file, frame.qualname) if frame.file else "python:" + frame.qualname


def _mapping_name(profile: Dict[str, Any]) -> str:
    program = profile.get("program")
    return program if isinstance(program, str) and program else "python"


def _comment(profile: Dict[str, Any]) -> str:
    program = profile.get("program")
    prof = profile.get("profiler")
    tool = "scalene"
    if isinstance(prof, dict) and prof.get("name"):
        tool = str(prof.get("name"))
    if isinstance(program, str) and program:
        return "%s profile of %s" % (tool, program)
    return "%s profile" % tool

