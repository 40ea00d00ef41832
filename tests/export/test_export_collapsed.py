from __future__ import annotations

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_samples as S  # noqa: E402

from scalene.export import ExportError, parse_frame, to_collapsed  # noqa: E402

FOLDED_LINE = re.compile(r"^[^;\n]+(;[^;\n]+)* \d+$")


def folded(text: str):
    """Parse folded text into {tuple(frames): count}."""
    assert text.endswith("\n")
    out = {}
    for line in text.splitlines():
        assert FOLDED_LINE.match(line), line
        stack, _, count = line.rpartition(" ")
        key = tuple(stack.split(";"))
        assert key not in out, "duplicate stack line %r" % line
        out[key] = int(count)
    return out


def test_lines_match_folded_grammar_and_counts_add_up():
    text = to_collapsed(S.ours())
    stacks = folded(text)
    assert sum(stacks.values()) == S.OURS_TOTAL_COUNT
    assert text.splitlines() == sorted(text.splitlines())


def test_frame_names_are_readable_and_relative_to_program_dir():
    stacks = folded(to_collapsed(S.ours()))
    fib = (
        "<module> (app main.py:40)",
        "main (app main.py:33)",
        "fib (app main.py:7)",
        "fib (app main.py:9)",
        "fib (app main.py:9)",
    )
    # recursion kept, duplicate profile entries merged (500 + 100)
    assert stacks[fib] == 600
    lib = (
        "<module> (app main.py:40)",
        "main (app main.py:33)",
        "Loader.load (app main.py:20)",
        "JSONDecoder.decode (%s:337)" % S.LIB,  # outside the program dir: absolute
    )
    assert stacks[lib] == 200
    # a single-frame stack has no ';'
    assert stacks[("<module> (app main.py:40)",)] == 50
    assert stacks[("<module> (app main.py:40)", "main (app main.py:33)",
                   "main.<locals>.<lambda> (app main.py:30)")] == 100


def test_semicolons_and_newlines_in_paths_are_sanitised():
    text = to_collapsed(S.ours())
    odd = [k for k in folded(text) if k[-1].startswith("odd ")]
    assert odd == [("<module> (app main.py:40)", "odd (/tmp/we,ird dir/x.py:1)")]


def test_time_weight_in_microseconds():
    stacks = folded(to_collapsed(S.ours(), weight="time"))
    # fractions of profiler.total_sampled_sec (4 s), not elapsed_time_sec
    assert sum(stacks.values()) == 4000000
    top = max(stacks.items(), key=lambda kv: kv[1])
    assert top[0][-1] == "fib (app main.py:9)"
    assert top[1] == 2400000


def test_time_weight_falls_back_to_elapsed_time():
    p = S.ours()
    del p["profiler"]
    assert sum(folded(to_collapsed(p, weight="time")).values()) == 2000000


def test_without_line_numbers_merges_lines_of_a_function():
    p = S.ours()
    p["stacks"].append([[S.frame(S.APP, "<module>", 41)], S.stats(5, 0.0, 0.0, 0.0)])
    stacks = folded(to_collapsed(p, include_line=False))
    assert stacks[("<module> (app main.py)",)] == 55
    assert sum(stacks.values()) == S.OURS_TOTAL_COUNT + 5


def test_existing_tool_profile_without_sys_time():
    p = S.legacy()
    stacks = folded(to_collapsed(p))
    assert stacks == {
        ("<module> (prog.py:12)", "busy (prog.py:4)"): 30,
        ("<module> (prog.py:13)",): 10,
    }
    t = folded(to_collapsed(p, weight="time"))
    assert t[("<module> (prog.py:12)", "busy (prog.py:4)")] == 2250000  # 0.75 * 3 s


@pytest.mark.parametrize("profile", S.empty_variants(), ids=["missing", "empty", "zero"])
def test_no_stacks_raises_export_error(profile):
    with pytest.raises(ExportError) as err:
        to_collapsed(profile)
    msg = str(err.value)
    assert "--stacks" in msg and "\n" not in msg


def test_bad_weight_is_rejected():
    with pytest.raises(ExportError):
        to_collapsed(S.ours(), weight="bytes")


def test_not_a_profile():
    with pytest.raises(ExportError):
        to_collapsed(["not", "a", "profile"])


@pytest.mark.parametrize(
    "text,expected",
    [
        ("/a/b.py f:3;", ("/a/b.py", "f", 3)),
        ("/a b/c d.py Cls.meth:12;", ("/a b/c d.py", "Cls.meth", 12)),
        ("C:\\x y\\m.py <module>:1;", ("C:\\x y\\m.py", "<module>", 1)),
        ("/a/b.py f;", ("/a/b.py", "f", 0)),
        ("f:7;", ("", "f", 7)),
    ],
)
def test_parse_frame(text, expected):
    assert tuple(parse_frame(text)) == expected


def test_native_leaves_become_deeper_stacks():
    """A stack's native_leaves split its samples: each leaf one frame deeper
    (named after the function and its library), the rest stays where it was."""
    p = S.ours()
    entry = next(e for e in p["stacks"] if e[0][-1] == S.frame(S.LIB, "JSONDecoder.decode", 337))
    count = entry[1]["count"]
    entry[1]["native_leaves"] = [
        {"module": "libc.so.6", "symbol": "memchr", "count": 120, "c_time": 0.01},
        {"module": "_json.cpython-311-x86_64-linux-gnu.so", "symbol": "0x4b10", "count": 30, "c_time": 0.005},
    ]
    stacks = folded(to_collapsed(p))
    lib = ("<module> (app main.py:40)", "main (app main.py:33)", "Loader.load (app main.py:20)",
           "JSONDecoder.decode (%s:337)" % S.LIB)
    assert stacks[lib + ("memchr (libc.so.6)",)] == 120
    assert stacks[lib + ("0x4b10 (_json.cpython-311-x86_64-linux-gnu.so)",)] == 30
    assert stacks[lib] == count - 150
    assert sum(stacks.values()) == S.OURS_TOTAL_COUNT
