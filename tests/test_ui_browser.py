"""The web app, driven like a user in a real browser, plus fast checks of what needs no browser.

The browser test starts the real ``folio serve`` (bundled GGUF, real embedder, real Chroma) in a
subprocess and drives it with Debian's Chromium through Playwright: upload a file, see it added,
ask a question, watch the answer stream in and the Sources panel name the file and page.
Screenshots go to ``tmp_path``, and also to ``$FOLIO_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from app.settings import Settings
from rag.errors import FolioError
from tests.ui_helpers import chromium_page, folio_server, in_process_app

# Read at import: the autouse fixture in conftest clears FOLIO_* variables before each test runs.
SCREENSHOTS = os.environ.get("FOLIO_SCREENSHOTS", "")

DEPOTS = ("The Lausanne depot opens at 05:30 and closes at 23:00. The Geneva depot opens at 06:00 and closes "
          "at 22:30. Night buses wait at the <b>depot</b> gate & leave on the hour.\n")
QUESTION = "When does the Lausanne depot open?"

# Records the length of the newest assistant message each time the chat changes.
WATCH_ANSWER = """() => {
  window.__folioLengths = [];
  const chat = document.querySelector('#folio-chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length) window.__folioLengths.push(bots[bots.length - 1].innerText.trim().length);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def _screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SCREENSHOTS) / name)
    return path


def _server_env(tmp_path: Path) -> dict[str, str]:
    samples = tmp_path / "no-samples"
    samples.mkdir()
    return {"FOLIO_HOME": str(tmp_path / "home"), "FOLIO_SAMPLE_DOCS": str(samples), "FOLIO_N_CTX": "2048",
            "FOLIO_ANSWER_TOKENS": "48", "FOLIO_TEMPERATURE": "0"}


def _upload(page, expect, document: Path) -> None:
    page.locator("#folio-upload input[type=file]").set_input_files(str(document))
    page.get_by_role("button", name="Add to library", exact=True).click()
    results = page.locator("#folio-results")
    expect(results).to_contain_text(document.name, timeout=60_000)
    expect(results).to_contain_text("added")
    expect(page.locator("#folio-documents")).to_contain_text(document.name)


def _ask(page, expect, question: str) -> str:
    page.evaluate(WATCH_ANSWER)
    page.locator("#folio-question textarea").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("#folio-chat [data-testid='user']").last).to_contain_text(question, timeout=30_000)
    expect(page.locator("#folio-stats")).to_contain_text("tokens/s", timeout=120_000)
    return page.locator("#folio-chat [data-testid='bot']").last.inner_text().strip()


@pytest.mark.browser
def test_upload_ask_and_see_sources(tmp_path):
    from playwright.sync_api import expect

    document = tmp_path / "depots.txt"
    document.write_text(DEPOTS, encoding="utf-8")
    started = time.monotonic()
    with chromium_page() as page, folio_server(tmp_path, env=_server_env(tmp_path)) as (url, log):
        page.goto(url)
        expect(page.locator("#folio-banner")).to_contain_text("Model:", timeout=30_000)
        expect(page.locator("#folio-banner")).to_contain_text("stands in for Mixtral")
        _upload(page, expect, document)
        _screenshot(page, tmp_path, "folio-library.png")

        answer = _ask(page, expect, QUESTION)
        lengths = [n for n in page.evaluate("window.__folioLengths") if n > 0]
        assert answer, "the assistant message is empty"
        assert len(set(lengths)) >= 2, f"the answer did not grow while streaming (lengths seen: {lengths})"
        assert lengths[0] < max(lengths), f"the first streamed text was already the longest: {lengths}"

        sources = page.locator("#folio-sources")
        expect(sources).to_contain_text("[1] depots.txt, p. 1")
        expect(sources).to_contain_text("Lausanne depot opens at 05:30")
        # Document text is shown as text, never as live HTML.
        expect(sources).to_contain_text("<b>depot</b> gate & leave")
        assert page.locator("#folio-sources b").count() == 0
        expect(page.locator("#folio-stats")).to_contain_text("prompt tokens")
        shot = _screenshot(page, tmp_path, "folio-answer.png")

        endpoints = json.load(urllib.request.urlopen(url + "gradio_api/info", timeout=30))["named_endpoints"]
        assert {"/ask", "/search", "/ingest"} <= set(endpoints)
    output = log.read_text(errors="replace")
    assert "Indexed 0 sample files" in output and "Traceback" not in output, output
    assert shot.stat().st_size > 10_000
    print(f"browser flow took {time.monotonic() - started:.1f} s; screenshots in {tmp_path}")


HOSTILE = ('Depot <img src="http://127.0.0.9/x.png" onerror="document.title=1"> opens '
           '![pixel](http://127.0.0.9/p.png) at six & <b>early</b>.')


@pytest.mark.browser
def test_document_text_and_model_output_never_render_as_html(tmp_path):
    """The fake model repeats the passage, so both the chat and the Sources panel get hostile text."""
    from playwright.sync_api import expect

    from app.factory import build
    from rag.chat import FakeChatModel

    document = tmp_path / "hostile.md"
    document.write_text(HOSTILE, encoding="utf-8")
    folio = build(Settings.for_tests(tmp_path / "home", embedder="fake-hash-64"), chat=FakeChatModel())
    try:
        with chromium_page() as page, in_process_app(folio) as url:
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url)
            _upload(page, expect, document)
            answer = _ask(page, expect, "When does the depot open?")
            assert "<img src=" in answer and "![pixel](http://127.0.0.9/p.png)" in answer and "<b>early</b>" in answer
            expect(page.locator("#folio-sources")).to_contain_text("<b>early</b>")
            for area in ("#folio-chat", "#folio-sources"):
                assert page.locator(f"{area} img").count() == 0 and page.locator(f"{area} b").count() == 0
            assert page.title() == "Folio"
            assert [u for u in requests if not u.startswith(url)] == []
    finally:
        folio.close()


# -- no browser --------------------------------------------------------------------------------
def test_serve_refuses_public_host_without_auth_before_building(tmp_path, monkeypatch):
    import app.factory
    from app.ui import serve

    def must_not_build(*args, **kwargs):
        raise AssertionError("serve built models before checking the host")

    monkeypatch.setattr(app.factory, "build", must_not_build)
    with pytest.raises(FolioError, match="Refusing to serve on 0.0.0.0 without a login"):
        serve(Settings.for_tests(tmp_path, host="0.0.0.0"))
    with pytest.raises(FolioError, match="USER:PASSWORD"):
        serve(Settings.for_tests(tmp_path, host="0.0.0.0", auth="just-a-name"))


def test_serve_refuses_a_busy_port_before_building(tmp_path, monkeypatch):
    import socket

    import app.factory
    from app.ui import serve

    monkeypatch.setattr(app.factory, "build", lambda *a, **k: pytest.fail("serve built models on a busy port"))
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(FolioError, match=f"Cannot listen on 127.0.0.1:{port}.*--port"):
            serve(Settings.for_tests(tmp_path, port=port))


def test_public_host_with_auth_gets_a_warning():
    from app.ui import check_exposure

    assert "reachable from other machines" in check_exposure(host="0.0.0.0", auth="ana:secret")
    assert check_exposure(host="localhost", auth="") is None
    assert check_exposure(host="::1", auth="") is None


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                               ("::1", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                               ("folio.example.org", False)])
def test_is_loopback(host, loopback):
    from app.ui import is_loopback

    assert is_loopback(host) is loopback


def test_document_text_and_model_output_are_shown_as_text():
    from app.ui import escape_text, sources_html

    shown = escape_text('<img src=x onerror="alert(1)"> ![pixel](https://tracker.example/p.png) & more')
    assert "<" not in shown and "![" not in shown and "&amp; more" in shown
    panel = sources_html([{"n": 1, "source": "<i>a</i>.txt", "page": 2, "text": "<script>x()</script> ${1+1}"}],
                         cited=[1])
    assert "<script>" not in panel and "<i>" not in panel and "${" not in panel
    assert "[1] &lt;i&gt;a&lt;/i&gt;.txt, p. 2 ✓ cited" in panel


def test_each_browser_session_gets_its_own_history_and_stop():
    from app.ui import ChatSession

    template = ChatSession()
    tab = copy.deepcopy(template)
    tab.remember("Q?", "A.")
    tab.stop.set()
    assert template.history == [] and not template.stop.is_set()
    assert [m["role"] for m in tab.history] == ["user", "assistant"]
