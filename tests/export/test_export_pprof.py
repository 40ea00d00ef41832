from __future__ import annotations

import glob
import gzip
import os
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_samples as S  # noqa: E402

from scalene.export import ExportError, to_pprof, write_export  # noqa: E402

# ---------------------------------------------------------------------------
# A small protobuf decoder (wire format only) and a profile.proto reader.


def read_varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        assert shift < 70, "varint too long"


def fields(buf):
    """Yield (field_number, wire_type, value) for one message."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        field, wt = key >> 3, key & 7
        if wt == 0:
            value, pos = read_varint(buf, pos)
        elif wt == 2:
            n, pos = read_varint(buf, pos)
            value = bytes(buf[pos:pos + n])
            assert len(value) == n, "truncated length-delimited field"
            pos += n
        elif wt == 1:
            value = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wt == 5:
            value = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        else:
            raise AssertionError("unexpected wire type %d" % wt)
        yield field, wt, value
    assert pos == len(buf)


def packed(wt, value):
    """A repeated scalar field: packed (wt 2) or one unpacked element."""
    if wt == 0:
        return [value]
    out, pos = [], 0
    while pos < len(value):
        v, pos = read_varint(value, pos)
        out.append(v)
    return out


def message(buf, schema):
    """Decode ``buf`` with schema {field: (name, kind, repeated)}; kind is
    'int', 'ints' (packed), 'str' or a nested schema dict."""
    out = {}
    for name, kind, rep in schema.values():
        out[name] = [] if rep else (0 if kind in ("int",) else None)
    for field, wt, value in fields(buf):
        if field not in schema:
            continue
        name, kind, rep = schema[field]
        if kind == "int":
            assert wt == 0
            v = value
        elif kind == "ints":
            out[name].extend(packed(wt, value))
            continue
        elif kind == "str":
            assert wt == 2
            v = value.decode("utf-8")
        else:
            assert wt == 2
            v = message(value, kind)
        if rep:
            out[name].append(v)
        else:
            out[name] = v
    return out


VALUE_TYPE = {1: ("type", "int", False), 2: ("unit", "int", False)}
SAMPLE = {1: ("location_id", "ints", True), 2: ("value", "ints", True)}
LINE = {1: ("function_id", "int", False), 2: ("line", "int", False)}
LOCATION = {1: ("id", "int", False), 2: ("mapping_id", "int", False),
            3: ("address", "int", False), 4: ("line", LINE, True)}
FUNCTION = {1: ("id", "int", False), 2: ("name", "int", False),
            3: ("system_name", "int", False), 4: ("filename", "int", False),
            5: ("start_line", "int", False)}
MAPPING = {1: ("id", "int", False), 5: ("filename", "int", False),
           7: ("has_functions", "int", False)}
PROFILE = {
    1: ("sample_type", VALUE_TYPE, True),
    2: ("sample", SAMPLE, True),
    3: ("mapping", MAPPING, True),
    4: ("location", LOCATION, True),
    5: ("function", FUNCTION, True),
    6: ("string_table", "str", True),
    9: ("time_nanos", "int", False),
    10: ("duration_nanos", "int", False),
    11: ("period_type", VALUE_TYPE, False),
    12: ("period", "int", False),
    13: ("comment", "ints", True),
    14: ("default_sample_type", "int", False),
}


def decode(data):
    assert data[:2] == b"\x1f\x8b", "not gzip"
    return message(gzip.decompress(data), PROFILE)


class Decoded:
    """Decoded profile with ids resolved; stacks leaf-first as
    (qualname, file, line) tuples."""

    def __init__(self, data):
        self.p = p = decode(data)
        st = p["string_table"]
        self.s = lambda i: st[i]
        self.types = [(st[t["type"]], st[t["unit"]]) for t in p["sample_type"]]
        self.functions = {f["id"]: f for f in p["function"]}
        self.locations = {loc["id"]: loc for loc in p["location"]}
        self.samples = []
        for smp in p["sample"]:
            frames = []
            for lid in smp["location_id"]:
                (ln,) = self.locations[lid]["line"]
                fn = self.functions[ln["function_id"]]
                frames.append((st[fn["name"]], st[fn["filename"]], ln["line"]))
            self.samples.append((frames, smp["value"]))

    def column(self, type_name):
        i = [t for t, _ in self.types].index(type_name)
        return [v[i] for _, v in self.samples]


# ---------------------------------------------------------------------------


def test_decoder_round_trips_a_known_message():
    # ValueType{type: 150, unit: 1} -> 08 96 01 10 01 (protobuf docs example)
    assert message(b"\x08\x96\x01\x10\x01", VALUE_TYPE) == {"type": 150, "unit": 1}


def test_structure():
    d = Decoded(to_pprof(S.ours()))
    p = d.p
    assert p["string_table"][0] == ""
    assert len(set(p["string_table"])) == len(p["string_table"])
    assert d.types == [
        ("samples", "count"),
        ("cpu", "nanoseconds"),
        ("python", "nanoseconds"),
        ("native", "nanoseconds"),
        ("system", "nanoseconds"),
    ]
    assert d.s(p["default_sample_type"]) == "cpu"
    assert (d.s(p["period_type"]["type"]), d.s(p["period_type"]["unit"])) == ("cpu", "nanoseconds")
    assert p["period"] == 4000000  # 4 s of sampled time / 1000 samples
    assert p["duration_nanos"] == 2000000000
    assert p["time_nanos"] == 1700000000250000000
    assert "scalene-c" in d.s(p["comment"][0])
    # ids are 1..n, unique, and every reference resolves
    assert sorted(d.locations) == list(range(1, len(d.locations) + 1))
    assert sorted(d.functions) == list(range(1, len(d.functions) + 1))
    (mapping,) = p["mapping"]
    assert mapping["has_functions"] == 1
    assert all(loc["mapping_id"] == mapping["id"] for loc in p["location"])
    for f in p["function"]:
        assert d.s(f["name"]) and d.s(f["system_name"]) != d.s(f["name"])
    for _, values in d.samples:
        assert len(values) == len(d.types)


def test_samples_values_and_frames():
    d = Decoded(to_pprof(S.ours()))
    assert len(d.samples) == 5  # the duplicated stack is merged
    assert sum(d.column("samples")) == S.OURS_TOTAL_COUNT
    assert sum(d.column("cpu")) == 4000000000
    for frames, v in d.samples:
        # python + native + system add up to the sample's time exactly
        assert v[2] + v[3] + v[4] == v[1]
        # leaf first: the root is the last location
        assert frames[-1] == ("<module>", S.APP, 40)
    fib = [(f, v) for f, v in d.samples if f[0][0] == "fib"]
    ((frames, values),) = fib
    assert [fr[0] for fr in frames] == ["fib", "fib", "fib", "main", "<module>"]
    assert frames[0] == frames[1] == ("fib", S.APP, 9)
    assert values == [600, 2400000000, 2200000000, 200000000, 0]
    single = [f for f, _ in d.samples if len(f) == 1]
    assert single == [[("<module>", S.APP, 40)]]
    # file names are verbatim (the pprof file keeps paths with ';' and spaces)
    assert any(f[0][1] == "/tmp/we;ird\ndir/x.py" for f, _ in d.samples)
    # start_line comes from the profile's FunctionDetail entries
    starts = {d.s(f["name"]): f["start_line"] for f in d.p["function"]}
    assert starts["fib"] == 5 and starts["main"] == 25 and starts["<module>"] == 0
    # recursion shares one location for the same line
    fib_locs = [smp["location_id"] for smp in d.p["sample"] if len(smp["location_id"]) == 5][0]
    assert fib_locs[0] == fib_locs[1] != fib_locs[2]


def test_existing_tool_profile_without_sys_time():
    d = Decoded(to_pprof(S.legacy()))
    by_leaf = {f[0][0]: v for f, v in d.samples}
    # cpu share from cpu_samples (0.75 of 3 s); python/native split 70/30
    assert by_leaf["busy"] == [30, 2250000000, 1575000000, 675000000, 0]
    assert by_leaf["<module>"][:2] == [10, 750000000]
    assert d.p["period"] == 75000000


@pytest.mark.parametrize("profile", S.empty_variants(), ids=["missing", "empty", "zero"])
def test_no_stacks_raises_export_error(profile):
    with pytest.raises(ExportError, match="--stacks"):
        to_pprof(profile)


def test_output_is_deterministic():
    assert to_pprof(S.ours()) == to_pprof(S.ours())


# ---------------------------------------------------------------------------
# A real consumer: go tool pprof (Debian's golang-go).


def find_go():
    go = shutil.which("go")
    if go:
        return go
    found = sorted(glob.glob("/usr/lib/go-*/bin/go"))
    return found[-1] if found else None


@pytest.fixture(scope="module")
def go_pprof(tmp_path_factory):
    go = find_go()
    if not go:
        pytest.skip("go is not installed (apt-get install -y golang-go); "
                    "cannot check the pprof output with a real consumer")
    home = tmp_path_factory.mktemp("gohome")
    env = {
        "PATH": os.path.dirname(go) + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GOPATH": str(home / "gopath"),
        "GOCACHE": str(home / "gocache"),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "PPROF_TMPDIR": str(home / "pprof"),
        "LC_ALL": "C",
    }

    def run(path, *args):
        proc = subprocess.run(
            [go, "tool", "pprof"] + list(args) + [str(path)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout, proc.stderr

    return run


def top_rows(out):
    """Rows of `pprof -top`: (flat, flat%, sum%, cum, cum%, name)."""
    rows = []
    seen_header = False
    for line in out.splitlines():
        if re.match(r"\s*flat\s+flat%\s+sum%\s+cum\s+cum%", line):
            seen_header = True
            continue
        if seen_header and line.strip():
            parts = line.split(None, 5)
            rows.append(parts)
    assert seen_header, out
    return rows


def test_go_pprof_top(go_pprof, tmp_path):
    path = write_export(S.ours(), "pprof", str(tmp_path / "ours.pb.gz"))
    out, err = go_pprof(path, "-top")
    assert "Main binary filename not available" not in out + err
    assert "Local symbolization failed" not in err
    assert "Type: cpu" in out
    rows = top_rows(out)
    flat, flat_pct = rows[0][0], rows[0][1]
    assert rows[0][5] == S.OURS_TOP_LEAF
    assert flat == "2400ms" and flat_pct == "%.2f%%" % (100 * S.OURS_TOP_SHARE)
    names = [r[5] for r in rows]
    # python names survive pprof's C++ demangling heuristics
    assert "<module>" in names and "main.<locals>.<lambda>" in names
    assert "JSONDecoder.decode" in names
    assert "4s total" in out or "4000ms total" in out


def test_go_pprof_sample_counts_and_lines(go_pprof, tmp_path):
    path = write_export(S.ours(), "pprof", str(tmp_path / "ours.pb.gz"))
    out, _ = go_pprof(path, "-top", "-sample_index=samples", "-lines")
    rows = top_rows(out)
    assert rows[0][0] == "600" and rows[0][1] == "60.00%"
    assert rows[0][5] == "fib %s:9" % S.APP
    assert "of 1000 total" in out


def test_go_pprof_existing_tool_profile(go_pprof, tmp_path):
    path = write_export(S.legacy(), "pprof", str(tmp_path / "legacy.pb.gz"))
    out, _ = go_pprof(path, "-top")
    rows = top_rows(out)
    assert rows[0][5] == "busy" and rows[0][1] == "75.00%"
