"""--stacks, and the flame-graph exports of a real profile."""
import gzip
import json
import os
import re
import shutil
import subprocess

import pytest

from scalene_testlib import program, run_scalene


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


def test_export_without_stacks_says_why(tmp_path):
    run = run_scalene(["run", program("exits3.py")], tmp_path)
    out = run_scalene(["view", "--collapsed", "-o", str(tmp_path / "x.folded"), run.profile_path], tmp_path,
                      outfile=False)
    assert out.returncode != 0
    assert "--stacks" in out.stderr and "Traceback" not in out.stderr
