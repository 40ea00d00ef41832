"""Tests of the page generator (no browser needed)."""

from __future__ import annotations

import builtins
import json
import os
import re
import sys
import webbrowser

import pytest

import viewer_profiles as vp
from scalene import viewer
from scalene.viewer import html as vhtml


def _embedded(page: str, elem_id: str):
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>' % elem_id, page, re.S)
    assert m, elem_id
    return json.loads(m.group(1))


def test_write_html_returns_path_and_is_self_contained(tmp_path):
    out = tmp_path / "sub" / "page.html"
    ret = viewer.write_html(vp.realistic(), str(out))
    assert ret == str(out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # No external resources of any kind.
    assert not re.search(r"<(script|img|iframe|link|source|video|audio)[^>]*\s(src|href)=\"?(https?:)?//", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert re.search(r"<link[^>]+stylesheet", page) is None
    assert len(re.findall(r"<script[ >]", page)) == 3  # two JSON blocks + the viewer code
    # No temp files left behind.
    assert sorted(p.name for p in out.parent.iterdir()) == ["page.html"]


def test_standalone_flag_produces_same_offline_page(tmp_path):
    a = viewer.write_html(vp.realistic(), str(tmp_path / "a.html"), standalone=True)
    b = viewer.write_html(vp.realistic(), str(tmp_path / "b.html"), standalone=False)
    ta, tb = (re.sub(r"nonce-?=?\"?[A-Za-z0-9_-]+", "NONCE", open(p, encoding="utf-8").read()) for p in (a, b))
    assert ta == tb


def test_realistic_page_is_small(tmp_path):
    out = viewer.write_html(vp.realistic(), str(tmp_path / "p.html"))
    size = os.path.getsize(out)
    assert size < 500 * 1024, size
    # The heavy per-sample timestamps are not embedded.
    assert "cpu_samples_list" not in open(out, encoding="utf-8").read()


def test_embedded_json_round_trips_and_is_script_safe():
    data = {"a": "</script><script>alert(1)</script>", "b": "x\u2028y\u2029z", "c": "<!-- & -->", "d": 1.5,
            "e": "\U0001F600 caf\u00e9"}
    text = vhtml.embed_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert text.isascii()
    assert json.loads(text) == data


def test_embedded_json_has_no_nan():
    text = vhtml.embed_json({"x": float("nan"), "y": [float("inf"), 1.0]})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"x": None, "y": [None, 1.0]}


def test_hostile_profile_has_no_live_markup(tmp_path):
    out = viewer.write_html(vp.hostile(), str(tmp_path / "h.html"))
    page = open(out, encoding="utf-8").read()
    low = page.lower()
    assert "<img" not in low
    assert "<svg" not in low
    assert "onerror=" not in low.replace("\\u003e", "").split("<script type=\"application/json\"")[0]
    assert len(re.findall(r"<script[ >]", page)) == 3
    assert low.count("</script>") == 3
    # The title is escaped.
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title
    # Template placeholders in the profile are not expanded.
    data = _embedded(page, "scalene-profile")
    fname = vp.HOSTILE_NAME
    texts = [l["line"] for l in data["files"][fname]["lines"]]
    assert "{{CSS}} {{JS}} {{PROFILE_JSON}} {{NONCE}}\n" in texts


def test_api_keys_from_environment_are_not_embedded(tmp_path, monkeypatch):
    secrets = {
        "OPENAI_API_KEY": "sk-env-openai-123456789",
        "ANTHROPIC_API_KEY": "sk-ant-env-987654321",
        "AZURE_OPENAI_API_KEY": "azure-env-key-55555",
        "GEMINI_API_KEY": "gemini-env-key-4444",
    }
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    out = viewer.write_html(vp.realistic(), str(tmp_path / "p.html"))
    page = open(out, encoding="utf-8").read()
    for v in secrets.values():
        assert v not in page


def test_existing_scalene_text_escapes_are_undone(tmp_path):
    out = viewer.write_html(vp.existing_scalene(), str(tmp_path / "e.html"))
    data = _embedded(open(out, encoding="utf-8").read(), "scalene-profile")
    lines = next(iter(data["files"].values()))["lines"]
    assert lines[3]["line"] == "    if a < b && b > 0:\n"
    assert lines[5]["line"] == "    return a & b\n"


def test_own_format_keeps_backslash_sequences(tmp_path):
    prof = vp.realistic()
    first = next(iter(prof["files"].values()))
    first["lines"][0]["line"] = 's = "\\u003c"  # a literal escape in the source\n'
    out = viewer.write_html(prof, str(tmp_path / "o.html"))
    data = _embedded(open(out, encoding="utf-8").read(), "scalene-profile")
    assert next(iter(data["files"].values()))["lines"][0]["line"].startswith('s = "\\u003c"')


def test_pygments_runs_cover_each_line():
    texts = ['def f(x):\n', '    """doc"""\n', '    return "\U0001F600" + str(x)  # c\n', 's = """a\n', 'b"""\n']
    runs = vhtml.highlight_file(texts)
    assert runs is not None and len(runs) == len(texts)
    for t, r in zip(texts, runs):
        body = t.rstrip("\n")
        if r:
            assert sum(r[1::2]) == len(body.encode("utf-16-le")) // 2
            assert all(0 <= c < len(vhtml.TOKEN_CLASSES) for c in r[0::2])
    classes = [vhtml.TOKEN_CLASSES[c] for c in runs[0][0::2]]
    assert "k" in classes and "nf" in classes
    # A multi-line string is a string on its second line too.
    assert vhtml.TOKEN_CLASSES[runs[4][0]] in ("s", "sd")


def test_highlighting_is_embedded_for_each_file(tmp_path):
    prof = vp.realistic()
    out = viewer.write_html(prof, str(tmp_path / "p.html"))
    hl = _embedded(open(out, encoding="utf-8").read(), "scalene-highlight")
    assert hl["classes"][0] == ""
    assert set(hl["files"]) == set(prof["files"])
    for name, detail in prof["files"].items():
        assert len(hl["files"][name]) == len(detail["lines"])


def test_without_pygments_falls_back_to_plain_text(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pygments" or name.startswith("pygments."):
            raise ImportError("no pygments")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m == "pygments" or m.startswith("pygments.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert vhtml.highlight_file(["x = 1\n"]) is None
    out = viewer.write_html(vp.realistic(), str(tmp_path / "p.html"))
    hl = _embedded(open(out, encoding="utf-8").read(), "scalene-highlight")
    assert hl["files"] == {}


def test_rejects_non_dict_profile(tmp_path):
    with pytest.raises(TypeError):
        viewer.write_html([], str(tmp_path / "x.html"))


def test_tolerates_odd_profiles(tmp_path):
    odd = {"files": {"a.py": {"lines": [None, 3, {"lineno": "2", "line": None, "n_cpu_percent_python": "x"}],
                              "functions": None}, "b.py": None}}
    out = viewer.write_html(odd, str(tmp_path / "odd.html"))
    assert os.path.getsize(out) > 1000
    viewer.write_html({}, str(tmp_path / "empty.html"))


# ---------------------------------------------------------------- open_in_browser

class _FakeBrowser:
    def __init__(self, name="firefox", ok=True):
        self.name = name
        self.ok = ok
        self.opened = []
        self.env_preload = "unset"

    def open(self, url, new=0, autoraise=True):
        self.opened.append(url)
        self.env_preload = os.environ.get("LD_PRELOAD")
        return self.ok


def test_open_in_browser_without_display_is_false(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    called = []
    monkeypatch.setattr(webbrowser, "get", lambda *a: called.append(1) or _FakeBrowser())
    assert viewer.open_in_browser(str(tmp_path / "p.html")) is False
    assert not called


@pytest.mark.parametrize("name", ["lynx", "w3m", "links", "elinks", "/usr/bin/lynx"])
def test_open_in_browser_text_browser_is_false(monkeypatch, tmp_path, name):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("BROWSER", raising=False)
    fake = _FakeBrowser(name)
    monkeypatch.setattr(webbrowser, "get", lambda *a: fake)
    assert viewer.open_in_browser(str(tmp_path / "p.html")) is False
    assert fake.opened == []


def test_open_in_browser_browser_env_text_browser(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("BROWSER", "w3m")
    assert viewer.open_in_browser(str(tmp_path / "p.html")) is False


def test_open_in_browser_no_browser_is_false(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("BROWSER", raising=False)

    def no_browser(*a):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    assert viewer.open_in_browser(str(tmp_path / "p.html")) is False


def test_open_in_browser_opens_file_url_without_preload(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setenv("LD_PRELOAD", "/x/libscalene.so")
    fake = _FakeBrowser("firefox")
    monkeypatch.setattr(webbrowser, "get", lambda *a: fake)
    page = tmp_path / "my page.html"
    page.write_text("x")
    assert viewer.open_in_browser(str(page)) is True
    assert fake.opened == [page.resolve().as_uri()]
    assert fake.env_preload is None
    assert os.environ["LD_PRELOAD"] == "/x/libscalene.so"


def test_open_in_browser_failure_is_false(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setattr(webbrowser, "get", lambda *a: _FakeBrowser("chrome", ok=False))
    assert viewer.open_in_browser(str(tmp_path / "p.html")) is False
