from __future__ import annotations

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_samples as S  # noqa: E402

import scalene.export as export  # noqa: E402
from scalene.export import ExportError, write_export  # noqa: E402


def test_public_api():
    for name in ("ExportError", "to_collapsed", "to_speedscope", "to_pprof", "write_export"):
        assert name in export.__all__ and callable(getattr(export, name))
    assert issubclass(ExportError, Exception)


@pytest.mark.parametrize("kind", ["collapsed", "speedscope", "pprof"])
def test_write_each_kind(kind, tmp_path):
    out = tmp_path / ("profile." + kind)
    out.write_text("old contents")
    assert write_export(S.ours(), kind, str(out)) == str(out)
    data = out.read_bytes()
    if kind == "collapsed":
        assert data.decode("utf-8") == export.to_collapsed(S.ours())
    elif kind == "speedscope":
        assert json.loads(data.decode("utf-8"))["profiles"][0]["type"] == "sampled"
        assert data.decode("utf-8") == export.to_speedscope(S.ours())
    else:
        assert data == export.to_pprof(S.ours())
    assert os.listdir(str(tmp_path)) == [out.name]  # no temp file left behind


def test_unknown_kind(tmp_path):
    with pytest.raises(ExportError, match="collapsed, speedscope or pprof"):
        write_export(S.ours(), "svg", str(tmp_path / "x.svg"))
    assert os.listdir(str(tmp_path)) == []


def test_no_stacks_writes_nothing(tmp_path):
    for profile in S.empty_variants():
        with pytest.raises(ExportError) as err:
            write_export(profile, "pprof", str(tmp_path / "x.pb.gz"))
        assert "--stacks" in str(err.value) and "\n" not in str(err.value)
    assert os.listdir(str(tmp_path)) == []


def test_unwritable_destination(tmp_path):
    with pytest.raises(ExportError) as err:
        write_export(S.ours(), "collapsed", str(tmp_path / "missing" / "x.folded"))
    assert "\n" not in str(err.value)
