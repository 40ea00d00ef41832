"""--stacks, and the flame-graph exports of a real profile."""
import gzip
import json
import os
import re
import shutil
import subprocess

import pytest

from scalene_testlib import line_of, program, run_scalene


@pytest.fixture
def stacked(tmp_path):
    path = program("julia.py")
    run = run_scalene(["run", "--stacks", path, "---", "250"], tmp_path)
    assert run.returncode == 0, run
    return run


def test_stacks_in_the_profile(stacked):
    stacks = stacked.profile["stacks"]
    assert stacks, "no stacks recorded"
    names = [frames for frames, _ in stacks]
    assert any(len(f) == 3 and " <module>:" in f[0] and " main:" in f[1] and " calc:" in f[-1] for f in names), names[:5]
    total = sum(stats["cpu_samples"] for _, stats in stacks)
    assert 0.9 <= total <= 1.0001, total
    for frames, stats in stacks:
        for frame in frames:
            assert re.match(r"^.+ \S+:\d+;$", frame), frame
        assert stats["count"] >= 1


def test_exports(stacked, tmp_path):
    profile_path = stacked.profile_path
    for kind, name in (("--collapsed", "out.folded"), ("--speedscope", "out.speedscope.json"),
                       ("--pprof", "out.pb.gz")):
        out = str(tmp_path / name)
        run = run_scalene(["view", kind, "-o", out, profile_path], tmp_path, outfile=False)
        assert run.returncode == 0, run
        assert os.path.getsize(out) > 0
    folded = (tmp_path / "out.folded").read_text().splitlines()
    assert folded and all(re.match(r"^[^;\n]+(;[^;\n]+)* \d+$", ln) for ln in folded)
    assert any("calc" in ln for ln in folded)
    speedscope = json.loads((tmp_path / "out.speedscope.json").read_text())
    assert speedscope["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert speedscope["profiles"][0]["type"] == "sampled"
    with gzip.open(str(tmp_path / "out.pb.gz")) as f:
        assert len(f.read()) > 50
    go = shutil.which("go")
    if go:
        env = dict(os.environ, HOME=str(tmp_path), GOPATH=str(tmp_path / "gopath"), GOCACHE=str(tmp_path / "gocache"),
                   GOFLAGS="-mod=mod", GOTOOLCHAIN="local", GOPROXY="off")
        proc = subprocess.run([go, "tool", "pprof", "-top", str(tmp_path / "out.pb.gz")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert proc.returncode == 0 and "calc" in proc.stdout, proc.stdout


def test_stacks_are_on_by_default(tmp_path):
    run = run_scalene(["run", program("julia.py"), "---", "150"], tmp_path)
    assert run.returncode == 0, run
    assert run.profile["stacks"] and run.profile["combined_stacks"]
    off = run_scalene(["run", "--no-stacks", program("julia.py"), "---", "150"], tmp_path)
    assert off.returncode == 0, off
    assert off.profile["stacks"] == [] and off.profile["combined_stacks"] == []
    assert off.profile["files"], "--no-stacks still profiles lines"


def test_export_without_stacks_says_why(tmp_path):
    path = program("julia.py")
    run = run_scalene(["run", "--no-stacks", path, "---", "100"], tmp_path)
    out = run_scalene(["view", "--collapsed", "-o", str(tmp_path / "x.folded"), run.profile_path], tmp_path,
                      outfile=False)
    assert out.returncode != 0
    assert "--stacks" in out.stderr and "Traceback" not in out.stderr


def test_native_leaves(tmp_path):
    """Samples inside zlib's C code end in a native frame named after libz;
    bytecode samples have none; combined_stacks and its timeline agree."""
    path = program("native_leaf.py")
    run = run_scalene(["run", "--stacks", path, "---", "0.6"], tmp_path)
    assert run.returncode == 0, run
    profile = run.profile
    native_line, py_line = line_of(path, "NATIVE-LINE"), line_of(path, "PY-LINE")

    def ends_at(frames, lineno):
        return frames and frames[-1].endswith(":%d;" % lineno) and frames[-1].startswith(path + " ")

    compress = [stats for frames, stats in profile["stacks"] if ends_at(frames, native_line)]
    assert compress, profile["stacks"]
    leaves = [leaf for stats in compress for leaf in stats.get("native_leaves", [])]
    c_time = sum(stats["c_time"] for stats in compress)
    in_libz = sum(leaf["c_time"] for leaf in leaves if leaf["module"].startswith("libz.so"))
    # nearly all of that line's time is native, and that native time is in libz
    assert c_time > 0 and in_libz >= 0.8 * c_time, (c_time, leaves)
    assert all(leaf["symbol"] and leaf["count"] >= 1 for leaf in leaves), leaves
    assert abs(sum(leaf["c_time"] for leaf in leaves) - c_time) < 1e-6 + 0.001 * c_time, (leaves, c_time)
    spin = [stats for frames, stats in profile["stacks"] if ends_at(frames, py_line)]
    spin_native = sum(leaf["c_time"] for stats in spin for leaf in stats.get("native_leaves", []))
    spin_total = sum(stats["cpu_samples"] for stats in spin)
    assert spin_total > 0 and spin_native < 0.2 * spin_total, (spin_native, spin_total)

    combined = profile["combined_stacks"]
    native_stacks = [frames for frames, hits in combined if frames and frames[-1]["kind"] == "native"]
    assert any(f[-1]["filename_or_module"].startswith("libz.so") and f[-2]["line"] == native_line
               for f in native_stacks), native_stacks[:3]
    for frames, hits in combined:
        assert hits >= 1
        assert all(f["kind"] == "py" for f in frames[:-1])
        assert all(set(f) == {"kind", "display_name", "filename_or_module", "line"} for f in frames if f["kind"] == "py")
    # every sample that made a stack is in exactly one timeline run
    timeline = profile["combined_stacks_timeline"]
    assert sum(run["count"] for run in timeline) == sum(hits for _, hits in combined)
    assert all(0 <= run["stack_index"] < len(combined) for run in timeline)
    assert [r["t_sec"] for r in timeline] == sorted(r["t_sec"] for r in timeline)
    assert len({r["pid"] for r in timeline}) == 1


def test_cxx_leaves_are_demangled(tmp_path):
    """C++ functions in native leaves read as C++ (numpy's timsort template),
    not as their mangled symbols."""
    pytest.importorskip("numpy")
    path = program("cxx_leaf.py")
    run = run_scalene(["run", "--cpu-only", path], tmp_path)
    assert run.returncode == 0, run
    suffix = ":%d;" % line_of(path, "CXX-LINE")
    leaves = [leaf for frames, stats in run.profile["stacks"] if frames and frames[-1].endswith(suffix)
              for leaf in stats.get("native_leaves", [])]
    numpy_leaves = [leaf for leaf in leaves if leaf["module"].startswith("_multiarray_umath")]
    assert numpy_leaves, leaves
    assert not [leaf for leaf in leaves if leaf["symbol"].startswith("_Z")], leaves
    templated = sum(leaf["c_time"] for leaf in numpy_leaves if "<" in leaf["symbol"] and "(" in leaf["symbol"])
    assert templated >= 0.5 * sum(leaf["c_time"] for leaf in leaves), leaves


def test_stacks_of_a_forked_child(tmp_path):
    """A forked child's stacks, native leaves included, are merged into the
    parent's, and its timeline runs carry its pid."""
    path = program("native_leaf.py")
    run = run_scalene(["run", "--stacks", path, "---", "0.5", "--in-child"], tmp_path)
    assert run.returncode == 0, run
    profile = run.profile
    native_line = line_of(path, "NATIVE-LINE")
    compress = [stats for frames, stats in profile["stacks"] if frames[-1] == "%s compress_for:%d;" % (path, native_line)]
    assert compress, [frames for frames, _ in profile["stacks"]]
    assert any(leaf["module"].startswith("libz.so") for stats in compress for leaf in stats.get("native_leaves", []))
    assert len({r["pid"] for r in profile["combined_stacks_timeline"]}) == 2


def test_native_leaves_in_exports(tmp_path):
    path = program("native_leaf.py")
    run = run_scalene(["run", "--stacks", path, "---", "0.4"], tmp_path)
    assert run.returncode == 0, run
    out = str(tmp_path / "out.folded")
    view = run_scalene(["view", "--collapsed", "-o", out, run.profile_path], tmp_path, outfile=False)
    assert view.returncode == 0, view
    folded = open(out).read().splitlines()
    # the compress line's stacks go one level deeper, into libz
    assert any(re.search(r"compress_for \([^)]*:%d\);[^;]+ \(libz\.so[^)]*\) \d+$" % line_of(path, "NATIVE-LINE"), ln)
               for ln in folded), folded
