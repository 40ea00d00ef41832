from __future__ import annotations

import json
import numbers
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_samples as S  # noqa: E402

from scalene.export import ExportError, to_speedscope  # noqa: E402

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}
REFERENCE = "/work/shared/reference/speedscope-two-sampled.json"


def _is_num(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def validate_speedscope(doc):
    """Check ``doc`` against the rules of speedscope's file-format schema
    (File, Frame, SampledProfile, EventedProfile); returns a list of problems."""
    errs = []
    if not isinstance(doc, dict):
        return ["top level is not an object"]
    for key in ("$schema", "shared", "profiles"):
        if key not in doc:
            errs.append("missing required key %r" % key)
    if doc.get("$schema") != SCHEMA_URL:
        errs.append("$schema must be %r" % SCHEMA_URL)
    for key in ("name", "exporter"):
        if key in doc and not isinstance(doc[key], str):
            errs.append("%s must be a string" % key)
    frames = (doc.get("shared") or {}).get("frames")
    if not isinstance(frames, list):
        errs.append("shared.frames must be an array")
        frames = []
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or not isinstance(fr.get("name"), str):
            errs.append("frame %d: name (string) required" % i)
            continue
        if "file" in fr and not isinstance(fr["file"], str):
            errs.append("frame %d: file must be a string" % i)
        for k in ("line", "col"):
            if k in fr and not _is_num(fr[k]):
                errs.append("frame %d: %s must be a number" % (i, k))
        extra = set(fr) - {"name", "file", "line", "col"}
        if extra:
            errs.append("frame %d: unknown keys %s" % (i, sorted(extra)))
    profiles = doc.get("profiles")
    if not isinstance(profiles, list) or not profiles:
        errs.append("profiles must be a non-empty array")
        profiles = []
    if "activeProfileIndex" in doc:
        a = doc["activeProfileIndex"]
        if not _is_num(a) or not 0 <= a < len(profiles):
            errs.append("activeProfileIndex out of range")
    for p_i, prof in enumerate(profiles):
        where = "profile %d" % p_i
        if not isinstance(prof, dict):
            errs.append(where + ": not an object")
            continue
        typ = prof.get("type")
        common = ("type", "name", "unit", "startValue", "endValue")
        if typ == "sampled":
            required = common + ("samples", "weights")
        elif typ == "evented":
            required = common + ("events",)
        else:
            errs.append(where + ": type must be sampled or evented")
            continue
        for key in required:
            if key not in prof:
                errs.append("%s: missing required key %r" % (where, key))
        if not isinstance(prof.get("name"), str):
            errs.append(where + ": name must be a string")
        if "unit" in prof and prof["unit"] not in UNITS:
            errs.append(where + ": bad unit %r" % (prof.get("unit"),))
        sv, ev = prof.get("startValue"), prof.get("endValue")
        if not (_is_num(sv) and _is_num(ev)) or ev < sv:
            errs.append(where + ": startValue/endValue must be numbers, end >= start")
        if typ != "sampled":
            continue
        samples, weights = prof.get("samples"), prof.get("weights")
        if not isinstance(samples, list) or not isinstance(weights, list):
            errs.append(where + ": samples and weights must be arrays")
            continue
        if len(samples) != len(weights):
            errs.append(where + ": samples and weights differ in length")
        for s_i, stack in enumerate(samples):
            if not isinstance(stack, list):
                errs.append("%s: sample %d is not an array" % (where, s_i))
                continue
            for idx in stack:
                if not _is_int(idx) or not 0 <= idx < len(frames):
                    errs.append("%s: sample %d: frame index %r out of range" % (where, s_i, idx))
        for w in weights:
            if not _is_num(w) or w < 0:
                errs.append("%s: bad weight %r" % (where, w))
    return errs


def shape(value):
    """Structure of a JSON value: key sets and element types, not values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return ["list", shape(value[0]) if value else None]
    if _is_num(value):
        return "number"
    return type(value).__name__


def load(profile, **kw):
    text = to_speedscope(profile, **kw)
    assert text.endswith("\n")
    return json.loads(text)


def test_validator_accepts_reference_and_rejects_broken_docs():
    if not os.path.exists(REFERENCE):
        pytest.skip("reference file %s not present" % REFERENCE)
    with open(REFERENCE) as f:
        ref = json.load(f)
    assert validate_speedscope(ref) == []
    broken = json.loads(json.dumps(ref))
    broken["profiles"][0]["weights"].pop()
    broken["profiles"][1]["samples"][0].append(99)
    del broken["profiles"][1]["unit"]
    errs = validate_speedscope(broken)
    assert len(errs) == 3, errs


def test_output_validates():
    for profile in (S.ours(), S.legacy()):
        for weight in ("time", "samples"):
            assert validate_speedscope(load(profile, weight=weight)) == []


def test_same_shape_as_reference_file():
    if not os.path.exists(REFERENCE):
        pytest.skip("reference file %s not present" % REFERENCE)
    with open(REFERENCE) as f:
        ref = json.load(f)
    doc = load(S.ours(), weight="samples")
    assert set(doc) == set(ref)
    assert set(doc["shared"]) == set(ref["shared"])
    assert shape(doc["profiles"][0]) == shape(ref["profiles"][0])
    assert all(set(fr) <= {"name", "file", "line", "col"} for fr in doc["shared"]["frames"])
    assert doc["$schema"] == ref["$schema"]


def test_time_weights_and_frames():
    doc = load(S.ours())
    prof = doc["profiles"][0]
    frames = doc["shared"]["frames"]
    assert doc["activeProfileIndex"] == 0
    assert prof["type"] == "sampled" and prof["unit"] == "seconds"
    assert prof["startValue"] == 0
    assert prof["endValue"] == pytest.approx(sum(prof["weights"]))
    assert prof["endValue"] == pytest.approx(4.0)  # profiler.total_sampled_sec
    # distinct stacks only (the duplicated fib stack is merged)
    assert len(prof["samples"]) == 5
    keys = [(f["name"], f.get("file"), f.get("line")) for f in frames]
    assert len(keys) == len(set(keys))
    # file paths are kept verbatim (with spaces), outermost frame first
    by_leaf = {}
    for stack, w in zip(prof["samples"], prof["weights"]):
        assert frames[stack[0]] == {"name": "<module>", "file": S.APP, "line": 40}
        by_leaf[frames[stack[-1]]["name"]] = (stack, w)
    stack, w = by_leaf["fib"]
    assert w == pytest.approx(2.4)
    # recursion: the same frame index appears twice in one sample
    assert stack[-1] == stack[-2] and stack[-3] != stack[-2]
    single = [s for s in prof["samples"] if len(s) == 1]
    assert len(single) == 1
    assert by_leaf["odd"] and frames[by_leaf["odd"][0][-1]]["file"] == "/tmp/we;ird\ndir/x.py"


def test_sample_weights_are_counts():
    doc = load(S.ours(), weight="samples", name="my run")
    prof = doc["profiles"][0]
    assert prof["unit"] == "none"
    assert all(isinstance(w, int) for w in prof["weights"])
    assert sum(prof["weights"]) == prof["endValue"] == S.OURS_TOTAL_COUNT
    assert doc["name"] == prof["name"] == "my run"
    assert doc["exporter"].startswith("scalene@")


def test_default_name_is_program():
    assert load(S.ours())["name"] == "scalene: app main.py"


def test_existing_tool_profile():
    doc = load(S.legacy())
    prof = doc["profiles"][0]
    assert prof["endValue"] == pytest.approx(3.0)
    assert sorted(prof["weights"]) == pytest.approx([0.75, 2.25])


def test_time_falls_back_to_counts_without_any_time():
    p = S.legacy()
    del p["elapsed_time_sec"]
    prof = load(p)["profiles"][0]
    assert prof["unit"] == "none" and sum(prof["weights"]) == 40


@pytest.mark.parametrize("profile", S.empty_variants(), ids=["missing", "empty", "zero"])
def test_no_stacks_raises_export_error(profile):
    with pytest.raises(ExportError, match="--stacks"):
        to_speedscope(profile)
