"""Fixtures for the viewer tests: a headless chromium (Debian's) driven by playwright,
and a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return ""


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    exe = _chromium()
    if not exe:
        pytest.skip("no chromium executable on PATH (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            args=["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


class Opened:
    """A page opened on a generated viewer file, with what it did recorded."""

    def __init__(self, context, page, path: Path):
        self.context = context
        self.page = page
        self.path = path
        self.console: List[str] = []
        self.errors: List[str] = []
        self.dialogs: List[str] = []
        self.requests: List[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda r: self.requests.append(r.url))

    def goto(self):
        self.page.goto(self.path.as_uri())
        self.page.wait_for_function("() => window.__scaleneViewerReady === true", timeout=30000)
        return self


@pytest.fixture
def open_page(browser, tmp_path):
    """open_page(profile, name=..., viewport=..., offline=False) -> Opened (already loaded)."""
    from scalene.viewer import write_html

    contexts = []

    def _open(profile: Dict[str, Any], name: str = "profile.html", viewport=(1280, 800), offline=False,
              route_block=False, goto=True, **ctx_kwargs) -> Opened:
        out = tmp_path / name
        write_html(profile, str(out))
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **ctx_kwargs)
        contexts.append(ctx)
        page = ctx.new_page()
        opened = Opened(ctx, page, out)
        if route_block:
            opened.blocked = []

            def handler(route):
                url = route.request.url
                if url.startswith("file://"):
                    route.continue_()
                else:
                    opened.blocked.append(url)
                    route.abort()

            ctx.route("**/*", handler)
        if offline:
            ctx.set_offline(True)
        if goto:
            opened.goto()
        return opened

    yield _open
    for c in contexts:
        try:
            c.close()
        except Exception:
            pass


class FakeLLM:
    """A minimal OpenAI-compatible (and Azure-shaped) chat completions server."""

    REPLY = (
        "Here is a faster version.\n\n"
        "```python\n"
        "# Proposed optimization: vectorize the loop with NumPy (about 20x faster).\n"
        "import numpy as np\n"
        "total = float(np.sqrt(np.asarray(row) ** 2 + 1.0).sum())\n"
        "```\n\n"
        "```python\nprint('second block, not shown')\n```\n"
    )

    def __init__(self):
        self.requests: List[Dict[str, Any]] = []
        self.status = 200
        self.reply = self.REPLY
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # keep test output quiet
                pass

            def _cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
                req = self.headers.get("Access-Control-Request-Headers")
                self.send_header("Access-Control-Allow-Headers", req or "content-type, authorization, api-key")
                self.send_header("Access-Control-Allow-Private-Network", "true")
                self.send_header("Access-Control-Max-Age", "600")

            def do_OPTIONS(self):
                self.send_response(204)
                self._cors()
                self.end_headers()

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8")
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": parsed, "raw": body})
                if fake.status != 200:
                    payload = {"error": {"message": "invalid api key (fake)"}}
                else:
                    payload = {"id": "x", "object": "chat.completion",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": fake.reply}}]}
                data = json.dumps(payload).encode()
                self.send_response(fake.status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_llm():
    srv = FakeLLM()
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
