"""The web app, driven like a user in a real browser, plus fast checks of what needs no browser.

Two apps serve the browser tests, one each per module:

- ``served``: the real ``folio serve`` (bundled GGUF, real embedder, real Chroma) in a subprocess,
  with a 1 MB upload limit: upload, stream an answer, follow up, preview the cited PDF page,
  the Models and Settings panels, switching to another local model, and HTTP probes of what must
  be refused;
- ``fake``: the same page served from this process over a fake chat model that repeats its first
  source (so hostile document text reaches the answer) and a hashing embedder: fast, deterministic
  checks of regenerate, the library (collections, delete, re-index, scope), the page preview, the
  interface language, and that nothing hostile renders or fetches anything.

Screenshots go to ``tmp_path``, and to ``$FOLIO_SCREENSHOTS`` (e.g. docs/screenshots) when set.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
import tomllib
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.settings import Settings
from core.errors import FolioError
from rag.documents import Source
from tests.docs_factory import make_pdf
from tests.ui_helpers import chromium_browser, choose, folio_server, in_process_app, new_page

# Read at import: the autouse fixture in conftest clears FOLIO_* variables before each test runs.
SCREENSHOTS = os.environ.get("FOLIO_SCREENSHOTS", "")
SCREENSHOT_MAX_BYTES = 300_000

DEPOTS = ("The Lausanne depot opens at 05:30 and closes at 23:00. The Geneva depot opens at 06:00 and closes "
          "at 22:30. Night buses wait at the <b>depot</b> gate & leave on the hour.")
HANDBOOK_PAGE_1 = "Valmont Rail staff handbook. Chapter 1 describes uniforms, lockers and the canteen menu."
TICKETS = "# Tickets\n\nA day pass costs 12 francs. Children under six travel free with an adult.\n"
BRAKES = "Safety first. The brakes of every railcar are checked every Monday by the depot team."
QUESTION = "When does the Lausanne depot open?"
LOCAL_PREFIXES = ("data:", "blob:", "about:")

# Records the length (and text) of the newest assistant message each time the chat changes, and every stats line.
WATCH_ANSWER = """() => {
  window.__folioLengths = [];
  window.__folioBot = [];
  window.__folioStats = [];
  const chat = document.querySelector('#folio-chat');
  const stats = document.querySelector('#folio-stats');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length) {
      const text = bots[bots.length - 1].innerText.trim();
      window.__folioLengths.push(text.length);
      window.__folioBot.push(text);
    }
  }).observe(chat, {subtree: true, childList: true, characterData: true});
  new MutationObserver(() => window.__folioStats.push(stats.innerText))
    .observe(stats, {subtree: true, childList: true, characterData: true});
}"""
# A new answer is complete once the stats line was cleared (a status line) and then shows tokens/s again.
ANSWERED = """() => {
  const seen = window.__folioStats, cleared = seen.findIndex(text => !text.includes('tokens/s'));
  return cleared >= 0 && seen.slice(cleared).some(text => text.includes('tokens/s'));
}"""


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The real ``folio serve``: (url, log path, FOLIO_HOME)."""
    tmp = tmp_path_factory.mktemp("served")
    samples = tmp / "no-samples"
    samples.mkdir()
    home = tmp / "home"
    env = {"FOLIO_HOME": str(home), "FOLIO_SAMPLE_DOCS": str(samples), "FOLIO_N_CTX": "2048",
           "FOLIO_ANSWER_TOKENS": "48", "FOLIO_TEMPERATURE": "0", "FOLIO_MAX_UPLOAD_MB": "1"}
    with folio_server(tmp, env=env) as (url, log):
        yield url, log, home


@pytest.fixture(scope="module")
def paced(tmp_path_factory):
    """The real ``folio serve`` on a machine whose stored speed for the stand-in is 150 prompt tokens/s (as a
    slow CPU would have measured it): (url, FOLIO_HOME)."""
    from app.pacing import PACING_FILE
    from inference.registry import bundled_llm_path
    from inference.speed import llama_build, speed_key

    tmp = tmp_path_factory.mktemp("paced")
    (tmp / "no-samples").mkdir()
    home = tmp / "home"
    home.mkdir()
    model = bundled_llm_path()
    key = speed_key({"path": str(model), "size": model.stat().st_size, "build": llama_build(),
                     "threads": os.cpu_count(), "n_gpu_layers": 0, "n_ctx": 2048})
    (home / PACING_FILE).write_text(json.dumps({key: {"prompt_tps": PACED_TPS, "generation_tps": 20.0, "answers": 0,
                                                      "seeded": True}}))
    env = {"FOLIO_HOME": str(home), "FOLIO_SAMPLE_DOCS": str(tmp / "no-samples"), "FOLIO_N_CTX": "2048",
           "FOLIO_ANSWER_TOKENS": "48", "FOLIO_TEMPERATURE": "0"}
    with folio_server(tmp, env=env) as (url, _log):
        stored = json.loads((home / PACING_FILE).read_text())
        assert list(stored) == [key], f"the server measured the model again under another key: {list(stored)}"
        yield url, home


PACED_TPS = 150.0


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """The page over a fake chat model, with a folder watcher, served from this process: (url, folio)."""
    from app.factory import build
    from app.folders import FolderWatcher
    from core.chat import FakeChatModel

    home = tmp_path_factory.mktemp("fake") / "home"
    folio = build(Settings.for_tests(home, embedder="fake-hash-64"), chat=FakeChatModel())
    watcher = FolderWatcher(folio, settle_s=0.3)
    try:
        with in_process_app(folio, watcher=watcher) as url:
            yield url, folio
    finally:
        watcher.stop()
        folio.close()


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    depots = make_pdf(tmp_path / "depots.pdf", [HANDBOOK_PAGE_1, DEPOTS])
    tickets = tmp_path / "tickets.md"
    tickets.write_text(TICKETS, encoding="utf-8")
    brakes = make_pdf(tmp_path / "brakes.pdf", [BRAKES])
    return {"depots": depots, "tickets": tickets, "brakes": brakes}


# -- helpers ----------------------------------------------------------------------------------
def _screenshot(page, tmp_path: Path, name: str) -> Path:
    """A full-page PNG; the copy for the docs is reduced to 256 colours to stay small."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if SCREENSHOTS:
        from PIL import Image

        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=256).save(Path(SCREENSHOTS) / name, optimize=True)
        assert (Path(SCREENSHOTS) / name).stat().st_size < SCREENSHOT_MAX_BYTES
    return path


def _open(page, url: str) -> None:
    """Load the page and wait until its start-up event has filled the library."""
    from playwright.sync_api import expect

    page.goto(url)  # "Collection 'default': 2 documents, 9 passages indexed." in the page's language
    expect(page.locator("#folio-library-summary")).to_contain_text(re.compile(r"\d+ \S+, \d+ \S+"), timeout=30_000)


def _record_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def _leaving(urls: list[str]) -> list[str]:
    """The requests that went anywhere but this machine."""
    return [u for u in urls if not u.startswith(LOCAL_PREFIXES)
            and urlsplit(u).hostname not in ("127.0.0.1", "localhost", "::1")]


def _upload(page, expect, *documents: Path) -> None:
    page.locator("#folio-upload input[type=file]").set_input_files([str(d) for d in documents])
    page.get_by_role("button", name="Add to library", exact=True).click()
    results = page.locator("#folio-results")
    for document in documents:
        expect(results).to_contain_text(document.name, timeout=60_000)
        expect(page.locator("#folio-documents")).to_contain_text(document.name)
    expect(results).not_to_contain_text("failed")


def _ask(page, expect, question: str, *, button: str = "Ask") -> str:
    page.evaluate(WATCH_ANSWER)
    if button == "Ask":
        page.locator("#folio-question textarea").fill(question)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("#folio-chat [data-testid='user']").last).to_contain_text(question, timeout=30_000)
    page.wait_for_function(ANSWERED, timeout=120_000)
    return page.locator("#folio-chat [data-testid='bot']").last.inner_text().strip()


# -- the real app -------------------------------------------------------------------------------
@pytest.mark.browser
def test_upload_ask_follow_up_and_preview_the_cited_page(served, browser, files, tmp_path):
    from playwright.sync_api import expect

    url, log, _ = served
    started = time.monotonic()
    page = new_page(browser)
    requests = _record_requests(page)
    _open(page, url)
    banner = page.locator("#folio-banner")
    expect(banner).to_contain_text("Model:", timeout=30_000)
    expect(banner).to_contain_text("stands in for Mixtral")
    _upload(page, expect, files["depots"], files["tickets"])
    expect(page.locator("#folio-documents")).to_contain_text(time.strftime("%Y-%m-%d", time.gmtime()))
    _screenshot(page, tmp_path, "folio-library.png")

    answer = _ask(page, expect, QUESTION)
    lengths = [n for n in page.evaluate("window.__folioLengths") if n > 0]
    assert answer, "the assistant message is empty"
    assert len(set(lengths)) >= 2, f"the answer did not grow while streaming (lengths seen: {lengths})"
    assert lengths[0] < max(lengths), f"the first streamed text was already the longest: {lengths}"

    sources = page.locator("#folio-sources")
    expect(sources).to_contain_text("depots.pdf, p. 2")
    expect(sources).to_contain_text("Lausanne depot opens at 05:30")
    expect(sources).to_contain_text("<b>depot</b> gate & leave")  # document text is shown as text
    assert page.locator("#folio-sources b").count() == 0
    stats = page.locator("#folio-stats")
    expect(stats).to_contain_text("prompt tokens")
    expect(stats).to_contain_text("TTFT")
    # The context meter: a stacked bar out of the 2,048-token window, with the answer's reserve.
    expect(page.locator("#folio-meter")).to_contain_text("of 2,048 tokens")
    expect(page.locator("#folio-meter")).to_contain_text("answer reserve 48")
    assert page.locator("#folio-meter-bar span").count() >= 3

    # The cited PDF page, rendered, with the passage highlighted.
    _pick_source(page, "depots.pdf, p. 2")
    expect(page.locator("#folio-preview-text")).to_contain_text("depots.pdf, p. 2: passage highlighted", timeout=20_000)
    image = page.locator("#folio-preview-image img")
    expect(image).to_be_visible()
    assert page.evaluate("() => document.querySelector('#folio-preview-image img').naturalWidth") >= 600

    # A follow-up is rewritten into a standalone question, and the rewrite is shown.
    _ask(page, expect, "And the Geneva one?")
    expect(stats).to_contain_text("Searched for:")
    assert page.locator("#folio-chat [data-testid='user']").count() == 2
    _pick_source(page, "depots.pdf, p. 2")
    expect(image).to_be_visible(timeout=20_000)
    shot = _screenshot(page, tmp_path, "folio-answer.png")

    endpoints = json.load(urllib.request.urlopen(url + "gradio_api/info", timeout=30))["named_endpoints"]
    assert {"/ask", "/search", "/ingest"} <= set(endpoints)
    assert _leaving(requests) == [], f"the page fetched from elsewhere: {_leaving(requests)}"
    page.close()
    output = log.read_text(errors="replace")
    assert "Indexed 0 sample files" in output and "Traceback" not in output, output
    assert shot.stat().st_size > 10_000
    print(f"browser flow took {time.monotonic() - started:.1f} s; screenshots in {tmp_path}")


TOWNS = ("Aarberg", "Bellmund", "Corcelles", "Delley", "Ependes", "Faoug", "Gampelen", "Hauterive", "Ins", "Jens",
         "Kallnach", "Lignières", "Marin", "Nods", "Orvin", "Prêles", "Rances", "Savagnier", "Treiten", "Ursins",
         "Vinelz", "Walperswil", "Yvonand", "Zihlbrücke", "Agiez", "Baulmes", "Chavornay", "Donneloye", "Essert", "Fiez")
HANDBOOK = "\n\n".join(
    f"The {town} depot opens at {5 + i % 4}:{15 * (i % 4):02d} on weekdays and at {7 + i % 3}:00 on Sundays. Its "
    f"gate is beside track {i + 2}, its workshop keeps {i + 3} railcars, and its staff check the brakes of every "
    f"railcar each morning before the first departure, as the safety rules of the cooperative require."
    for i, town in enumerate(TOWNS, 1))


@pytest.mark.browser
def test_quotes_first_the_meter_explains_the_budget_and_the_whole_window_can_be_read_or_stopped(paced, browser,
                                                                                                tmp_path):
    """On a machine measured at 150 prompt tokens/s: the quotes show before the first token, the meter says why
    it holds what it holds, and "whole window" asks again with more sources, with reading progress and Stop."""
    from playwright.sync_api import expect

    url, home = paced
    handbook = tmp_path / "handbook.txt"
    handbook.write_text(HANDBOOK, encoding="utf-8")
    page = new_page(browser)
    _open(page, url)
    _upload(page, expect, handbook)

    _ask(page, expect, "When does the Gampelen depot open on weekdays?")
    texts = [text for text in page.evaluate("window.__folioBot") if text]
    assert texts[0].startswith("Quoted from your documents (the model's answer follows):"), texts[0]
    assert re.search(r"— \[\d+\] handbook\.txt, p\. 1", texts[0]), "each quote has its [n], file and page"
    assert "The Gampelen depot opens at 8:45 on weekdays" in texts[0], "the sentence that answers is quoted"
    assert len(texts[-1]) > len(texts[0]) and texts[-1].startswith(texts[0].split("\n")[0]), \
        "the answer streamed below the quotes"
    sources = page.locator("#folio-sources .folio-source")
    budgeted = sources.count()
    why = page.locator("#folio-meter-why")
    expect(why).to_contain_text(re.compile(r"^[\d,]+ of 2,048 tokens: keeps the first word under 10 s here, "
                                           r"at ~150 tokens/s; the whole window would take ~13 s\.$"))
    used = int(why.inner_text().split(" of ")[0].replace(",", ""))
    assert used <= 10 * PACED_TPS, "the prompt is read within the target at that speed"

    whole = page.get_by_role("button", name="Ask again with the whole window", exact=True)
    expect(whole).to_be_visible()
    page.evaluate(WATCH_ANSWER)
    whole.click()  # read the whole window: its progress shows; Stop ends the reading before any word
    stats = page.locator("#folio-stats")
    expect(stats).to_contain_text(re.compile(r"The model is reading the sources: \d+% read\."), timeout=60_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(ANSWERED, timeout=120_000)
    expect(stats).to_contain_text("stopped")
    expect(stats).to_contain_text("0 answer tokens")
    progress = [s for s in page.evaluate("window.__folioStats") if "% read." in s]
    assert progress and not any("100% read" in s for s in progress), progress
    expect(why).to_contain_text("of 2,048 tokens: the whole window, as asked")
    assert sources.count() > budgeted, "the whole window holds more sources"
    expect(page.locator("#folio-chat [data-testid='user']")).to_have_count(1)  # in place of the first answer
    page.close()


@pytest.mark.browser
def test_a_french_page_has_no_english_left(served, browser, files):
    """The banner (stand-in note, model line), status lines, quotes heading, stats and context meter of a French
    page, checked for English: every English sentence of i18n, and the commonest English words."""
    from playwright.sync_api import expect

    from app.i18n import TEXTS

    url, _, _ = served
    page = new_page(browser, locale="fr-FR")
    _open(page, url)
    expect(page.locator("#folio-banner")).to_contain_text("Modèle :", timeout=30_000)
    page.locator("#folio-upload input[type=file]").set_input_files([str(files["depots"])])
    page.get_by_role("button", name="Ajouter à la bibliothèque", exact=True).click()
    expect(page.locator("#folio-documents")).to_contain_text("depots.pdf", timeout=60_000)
    page.evaluate(WATCH_ANSWER)
    page.locator("#folio-question textarea").fill("Quand ouvre le dépôt de Lausanne ?")
    page.get_by_role("button", name="Demander", exact=True).click()
    page.wait_for_function("() => window.__folioStats.some(s => s.includes('jetons/s'))", timeout=120_000)
    statuses = page.evaluate("window.__folioStats")
    assert any("Recherche dans vos documents" in s for s in statuses), statuses
    bot = page.locator("#folio-chat [data-testid='bot']").last.inner_text()
    assert bot.startswith("Cité de vos documents (la réponse du modèle suit) :"), bot

    areas = ["#folio-banner", "#folio-stats", "#folio-meter", "#folio-library-summary"]
    shown = "\n".join([page.locator(a).inner_text() for a in areas] + statuses + [bot.splitlines()[0]])
    english = [text["en"] for text in TEXTS.values() if text["en"] != text["fr"]]
    fragments = {piece.strip(" .:,;()…") for text in english for piece in re.split(r"\{[^}]*\}", text)}
    leftovers = sorted(f for f in fragments if len(f) >= 12 and " " in f and f in shown)
    assert not leftovers, f"English on the French page: {leftovers}"
    words = re.findall(r"\b(the|of|and|your|with|while|is|are|tokens|reading|searching|writing|model)\b", shown)
    assert not words, f"English words on the French page: {sorted(set(words))}\n{shown}"
    page.close()


def _pick_source(page, text: str) -> None:
    """Choose the preview picker's option containing ``text`` (e.g. '[2] depots.pdf, p. 2')."""
    page.locator("#folio-preview-pick input").click()
    page.get_by_role("option").filter(has_text=text).first.click()


@pytest.mark.browser
def test_models_panel_and_settings_saved_to_folio_toml(served, browser, tmp_path):
    from playwright.sync_api import expect

    url, _, home = served
    page = new_page(browser)
    _open(page, url)
    expect(page.locator("#folio-banner")).to_contain_text("Model:", timeout=30_000)
    page.locator("#folio-models").get_by_text("Model", exact=True).click()
    panel = page.locator("#folio-models-text")
    expect(panel).to_contain_text("Q4_1", timeout=20_000)           # quantization, from the GGUF header
    expect(panel).to_contain_text("CPU only")                       # no GPU layers here
    expect(panel).to_contain_text("2,048 tokens")
    expect(panel).to_contain_text("folio models pull mixtral-8x7b-instruct:q4_k_m")
    expect(panel).to_contain_text("Plan:")

    page.locator("#folio-settings").get_by_text("Settings", exact=True).click()
    _set_slider(page, "folio-set-temperature", "0.3")
    _set_slider(page, "folio-set-candidates", "9")
    choose(page, "folio-set-language", "FR")
    choose(page, "folio-set-n-ctx", "4096")
    _set_slider(page, "folio-set-ttft", "20")
    page.get_by_role("button", name="Save settings").click()
    message = page.locator("#folio-settings-message")
    expect(message).to_contain_text("Saved to", timeout=20_000)
    expect(message).to_contain_text("next start")
    expect(message).to_contain_text("FOLIO_TEMPERATURE")  # the test server sets it: the file will not win
    saved = tomllib.loads((home / "folio.toml").read_text(encoding="utf-8"))
    assert saved == {"candidates": 9, "temperature": 0.3, "language": "fr", "n_ctx": 4096, "ttft_target_s": 20.0}
    expect(page.locator("#folio-answer-language input")).to_have_value("FR")
    _screenshot(page, tmp_path, "folio-models-settings.png")
    page.close()


@pytest.mark.browser
def test_switch_to_another_local_model_then_ask(served, browser, files):
    """A second local model (the bundled GGUF under another name), picked in the Models panel; answers go on."""
    from playwright.sync_api import expect

    from inference.registry import bundled_llm_path

    url, _, home = served
    (home / "models").mkdir(parents=True, exist_ok=True)
    if not (home / "models" / "my-model.gguf").exists():
        (home / "models" / "my-model.gguf").symlink_to(bundled_llm_path())  # a second local model
    page = new_page(browser)
    _open(page, url)
    banner, panel = page.locator("#folio-banner"), page.locator("#folio-models-text")
    expect(banner).to_contain_text("stands in for Mixtral", timeout=30_000)
    page.locator("#folio-models").get_by_text("Model", exact=True).click()
    expect(page.locator("#folio-model-pick input")).to_have_value("smollm2-135m-instruct:q4_1 (small stand-in)")
    choose(page, "folio-model-pick", "my-model.gguf")
    page.get_by_role("button", name="Switch", exact=True).click()
    expect(page.locator("#folio-models-message")).to_contain_text("Now answering with my-model", timeout=60_000)
    expect(panel).to_contain_text("Model: my-model")
    expect(panel).not_to_contain_text("stand-in model is answering")
    expect(banner).to_contain_text("Model: my-model")
    expect(banner).not_to_contain_text("stands in for Mixtral")
    expect(banner).not_to_have_class(re.compile("folio-stand-in"))  # no amber any more
    assert tomllib.loads((home / "folio.toml").read_text(encoding="utf-8"))["model"].endswith("my-model.gguf")

    _upload(page, expect, files["tickets"])
    assert _ask(page, expect, "How much does a day pass cost?")
    lengths = [n for n in page.evaluate("window.__folioLengths") if n > 0]
    assert len(set(lengths)) >= 2, f"the answer did not stream (lengths seen: {lengths})"

    (home / "models" / "broken.gguf").write_bytes(b"not a model")  # a failed load names the file, changes nothing
    page.locator("#folio-models").get_by_text("Model", exact=True).click()  # closing and reopening lists it
    page.locator("#folio-models").get_by_text("Model", exact=True).click()
    choose(page, "folio-model-pick", "broken.gguf")
    page.get_by_role("button", name="Switch", exact=True).click()
    expect(page.get_by_text("broken.gguf: this is not a GGUF model file")).to_be_visible(timeout=30_000)
    expect(page.locator("#folio-model-pick input")).to_have_value("my-model.gguf")
    expect(banner).to_contain_text("Model: my-model")

    choose(page, "folio-model-pick", "smollm2-135m-instruct:q4_1 (small stand-in)")  # and back: the banner returns
    page.get_by_role("button", name="Switch", exact=True).click()
    expect(banner).to_contain_text("stands in for Mixtral", timeout=60_000)
    expect(banner).to_have_class(re.compile("folio-stand-in"))
    expect(panel).to_contain_text("stand-in model is answering")
    page.close()


def _set_slider(page, elem_id: str, value: str) -> None:
    """Type ``value`` into a slider's number box (again if the freshly opened panel was still mounting)."""
    from playwright.sync_api import expect

    box, track = page.locator(f"#{elem_id} input[type=number]"), page.locator(f"#{elem_id} input[type=range]")
    expect(box).to_be_visible()
    for attempt in range(3):
        box.fill(value)
        box.press("Tab")
        try:
            expect(track).to_have_value(value, timeout=2_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def test_http_probes_are_refused(served, tmp_path):
    """File routes outside the app, an upload over the limit, cross-site and DNS-rebinding requests."""
    import httpx

    url, _, _ = served
    with httpx.Client(base_url=url, timeout=30) as client:
        probes = ["/gradio_api/file=/etc/passwd", "/gradio_api/file=../../etc/passwd",
                  "/gradio_api/file=%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/gradio_api/file=..%2f..%2f..%2fetc%2fpasswd",
                  "/gradio_api/file=%2fetc%2fpasswd", "/file=/etc/passwd", "/file=../../etc/passwd",
                  "/gradio_api/file=" + str(Path.home() / ".bashrc")]
        for probe in probes:
            response = client.get(probe)
            assert response.status_code in (403, 404), (probe, response.status_code)
            assert "root:" not in response.text, probe

        big = {"files": ("big.txt", b"a" * (2 * 1024 * 1024), "text/plain")}
        response = client.post("/gradio_api/upload", files=big)
        assert response.status_code == 413, response.text

        small = {"files": ("note.txt", b"hello", "text/plain")}
        assert client.post("/gradio_api/upload", files=small).status_code == 200
        own = client.post("/gradio_api/upload", files=small, headers={"Origin": url.rstrip("/")})
        assert own.status_code == 200
        evil = client.post("/gradio_api/upload", files=small, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
        null = client.post("/gradio_api/queue/join", content=b"{}", headers={"Origin": "null",
                                                                               "Content-Type": "text/plain"})
        assert null.status_code == 403
        port = urlsplit(url).port
        rebound = client.get("/", headers={"Host": f"attacker.example:{port}"})
        assert rebound.status_code == 403


# -- the page over a fake model ------------------------------------------------------------------
HOSTILE = ("Depot <script>document.title='pwned'</script> opens "
           '<img src="http://127.0.0.9/x.png" onerror="document.title=1"> at six & <b>early</b> '
           "[click me](javascript:document.title='js') <a href=\"javascript:alert(1)\">there</a> "
           "![pixel](http://example.com/x.png) ![local](http://127.0.0.9/p.png).")


@pytest.mark.browser
def test_hostile_document_text_never_renders_or_fetches(fake, browser, tmp_path):
    """The fake model repeats the passage, so the chat, Sources and the page preview all get hostile text."""
    from playwright.sync_api import expect

    url, _ = fake
    document = tmp_path / "hostile.md"
    document.write_text(HOSTILE, encoding="utf-8")
    page = new_page(browser)
    requests = _record_requests(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _open(page, url)
    _upload(page, expect, document)
    answer = _ask(page, expect, "When does the depot open?")
    assert "<script>" in answer and "<img src=" in answer and "<b>early</b>" in answer
    assert "![pixel](http://example.com/x.png)" in answer and "javascript:" in answer
    expect(page.locator("#folio-sources")).to_contain_text("<b>early</b>")
    expect(page.locator("#folio-preview-text")).to_contain_text("<script>", timeout=20_000)
    for area in ("#folio-chat", "#folio-sources", "#folio-preview-text", "#folio-stats"):
        for tag in ("img", "b", "script", "a[href^='javascript']"):
            assert page.locator(f"{area} {tag}").count() == 0, f"{tag} rendered in {area}"
    # Markdown may turn a bare URL into a link (a click opens a new tab); never a javascript: one.
    hrefs = page.locator("#folio-chat a, #folio-sources a, #folio-preview-text a").evaluate_all(
        "links => links.map(a => a.getAttribute('href') || '')")
    assert all(not h or h.startswith(("http://", "https://")) for h in hrefs), hrefs
    assert page.title() == "Folio" and dialogs == []
    assert _leaving(requests) == [], _leaving(requests)
    assert not any("127.0.0.9" in u for u in requests)
    page.close()


@pytest.mark.browser
def test_regenerate_clear_and_the_cited_pdf_page(fake, browser, files):
    from playwright.sync_api import expect

    url, folio = fake
    page = new_page(browser)
    _open(page, url)
    _upload(page, expect, files["brakes"])
    first = _ask(page, expect, "How often are the brakes checked?")
    assert "checked every Monday" not in first or "[1]" in first
    expect(page.locator("#folio-sources mark")).to_have_count(1)  # the supporting quote, highlighted
    expect(page.locator("#folio-chat [data-testid='bot']").last).to_contain_text("brakes.pdf, p. 1")
    expect(page.locator("#folio-preview-text")).to_contain_text("brakes.pdf, p. 1: passage highlighted",
                                                                timeout=20_000)
    expect(page.locator("#folio-preview-image img")).to_be_visible()

    assert folio.chat.current.calls[-1][0]["content"].startswith("You are Folio")
    choose(page, "folio-answer-language", "FR")  # the answer language goes into the prompt's rules
    again = _ask(page, expect, "How often are the brakes checked?", button="Regenerate")
    assert again == first  # the fake repeats its source: the same answer, in place of the first
    assert folio.chat.current.calls[-1][0]["content"].startswith("Tu es Folio")
    expect(page.locator("#folio-chat [data-testid='user']")).to_have_count(1)
    expect(page.locator("#folio-chat [data-testid='bot']")).to_have_count(1)

    page.locator("#folio-chat button[aria-label='Clear']").first.click()
    expect(page.locator("#folio-chat [data-testid='user']")).to_have_count(0)
    page.get_by_role("button", name="Regenerate", exact=True).click()
    expect(page.get_by_text("There is no answer to regenerate yet")).to_be_visible(timeout=10_000)
    page.close()


@pytest.mark.browser
def test_collections_scope_delete_and_reindex(fake, browser, files):
    from playwright.sync_api import expect

    url, folio = fake
    page = new_page(browser)
    _open(page, url)
    expect(page.locator("#folio-collection input")).to_have_value("default")
    page.locator("#folio-new-collection textarea, #folio-new-collection input").first.fill("manuals")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#folio-collection input")).to_have_value("manuals", timeout=10_000)
    _upload(page, expect, files["brakes"], files["tickets"])
    assert {d.name for d in folio.documents("manuals")} == {"brakes.pdf", "tickets.md"}
    assert (folio.settings.home / "files" / "manuals").is_dir()  # kept copies, for previews and re-index

    # Ask only tickets.md: the brakes manual is not searched.
    choose(page, "folio-scope", "tickets.md")
    _ask(page, expect, "How often are the brakes checked?")
    expect(page.locator("#folio-sources")).not_to_contain_text("brakes.pdf")

    # Re-index and delete, by clicking the document's row.
    page.locator("#folio-documents").get_by_text("brakes.pdf", exact=True).last.click()
    expect(page.locator("#folio-doc-pick input")).to_have_value("brakes.pdf")
    page.get_by_role("button", name="Re-index", exact=True).click()
    expect(page.locator("#folio-library-message")).to_contain_text("Re-indexed brakes.pdf: unchanged")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#folio-library-message")).to_contain_text("Removed brakes.pdf")
    expect(page.locator("#folio-documents")).not_to_contain_text("brakes.pdf")
    assert [d.name for d in folio.documents("manuals")] == ["tickets.md"]

    # Deleting a collection asks first; Cancel keeps it.
    page.get_by_role("button", name="Delete this collection", exact=True).click()
    confirm = page.locator("#folio-confirm-drop")
    expect(confirm).to_contain_text("Delete the collection 'manuals' and its 1 documents?")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(confirm).to_be_hidden()
    assert folio.documents("manuals")
    page.get_by_role("button", name="Delete this collection", exact=True).click()
    page.get_by_role("button", name="Yes, delete it", exact=True).click()
    expect(page.locator("#folio-library-message")).to_contain_text("Deleted the collection 'manuals' (1 documents)")
    expect(page.locator("#folio-collection input")).to_have_value("default")
    assert folio.documents("manuals") == [] and not (folio.settings.home / "files" / "manuals").exists()
    page.close()


@pytest.mark.browser
def test_a_watched_folder_is_followed_then_forgotten_with_its_documents(fake, browser, tmp_path):
    from playwright.sync_api import expect

    url, folio = fake
    folder = tmp_path / "manuals"
    folder.mkdir()
    (folder / "depots.txt").write_text(DEPOTS, encoding="utf-8")
    (folder / "slides.key").write_bytes(b"not a format Folio reads")
    page = new_page(browser)
    _open(page, url)
    page.locator("#folio-folders").get_by_text("Folders", exact=True).click()
    page.locator("#folio-folder-path input, #folio-folder-path textarea").first.fill(str(folder))
    page.get_by_role("button", name="Watch this folder", exact=True).click()
    expect(page.locator("#folio-folder-message")).to_contain_text(f"Watching {folder}")
    status, table = page.locator("#folio-folder-status"), page.locator("#folio-documents")
    expect(status).to_contain_text("1 folders watched: 1 files seen, 1 indexed, 0 pending, 0 failed.", timeout=30_000)
    expect(status).to_contain_text("Not indexed (1):")  # the slides are named, with why
    expect(status).to_contain_text("slides.key: files of type '.key' are not supported")
    expect(table).to_contain_text("manuals/depots.txt")
    assert [(f.path, f.collection) for f in folio.settings.folders] == [(folder.resolve(), "default")]
    assert "folders" in (folio.settings.home / "folio.toml").read_text()

    (folder / "depots.txt").rename(folder / "depots-2026.txt")  # renamed on disk: the table follows
    expect(table).to_contain_text("manuals/depots-2026.txt", timeout=30_000)
    expect(table).not_to_contain_text("manuals/depots.txt")
    [record] = folio.store().documents(origin=str(folder.resolve()))
    assert record.name == "manuals/depots-2026.txt"

    choose(page, "folio-folder-pick", f"{folder.resolve()} → default")
    page.get_by_role("button", name="Stop watching, and remove its documents", exact=True).click()
    expect(page.locator("#folio-folder-message")).to_contain_text("1 of its documents were removed")
    expect(table).not_to_contain_text("manuals/")
    expect(status).to_contain_text("No folder is watched yet.")
    assert folio.settings.folders == () and folio.store().documents(origin=str(folder.resolve())) == []
    page.close()


@pytest.mark.browser
def test_a_big_library_is_shown_a_page_at_a_time_and_filtered_by_name(fake, browser, tmp_path):
    from playwright.sync_api import expect

    from app import service

    url, folio = fake
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(120):
        (folder / f"note-{number:03d}.txt").write_text(f"Note {number}: depot {number} opens at {number % 12} a.m.")
    assert {r.status for r in service.ingest_paths(folio, [folder])} == {"added"}
    try:
        page = new_page(browser)
        _open(page, url)
        summary, table = page.locator("#folio-library-summary"), page.locator("#folio-documents")
        total = folio.store().count()  # 120, and whatever the module's other tests left in the library
        expect(summary).to_contain_text(f"{total} documents")
        expect(summary).to_contain_text(f"(page 1 of {-(-total // 50)})")
        filter_box = page.locator("#folio-doc-filter input, #folio-doc-filter textarea").first
        filter_box.fill("note-")
        expect(summary).to_contain_text("120 of them match “note-”. (page 1 of 3)")
        expect(table).to_contain_text("note-000.txt")  # (the table draws only the rows in view)
        page.get_by_role("button", name="Next ▶", exact=True).click()
        expect(summary).to_contain_text("(page 2 of 3)")
        expect(table).to_contain_text("note-050.txt")
        expect(table).not_to_contain_text("note-000.txt")
        filter_box.fill("note-11")
        expect(summary).to_contain_text("10 of them match “note-11”.")
        expect(table).to_contain_text("note-110.txt")
        expect(table).to_contain_text("note-119.txt")
        expect(table).not_to_contain_text("note-050.txt")
        page.close()
    finally:
        for record in folio.store().documents(match="note-"):
            folio.store().remove(record.doc_id)


@pytest.mark.browser
def test_interface_follows_the_browser_language_and_the_picker(fake, browser):
    from playwright.sync_api import expect

    url, _ = fake
    page = new_page(browser, locale="de-DE")
    _open(page, url)
    expect(page.get_by_role("button", name="Fragen", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Zur Bibliothek hinzufügen")).to_be_visible()
    expect(page.locator("#folio-banner")).to_contain_text("fragen Sie Ihre Dokumente")
    choose(page, "folio-ui-language", "Français")
    expect(page.get_by_role("button", name="Demander", exact=True)).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Bibliothèque", exact=True)).to_be_visible()
    expect(page.locator("#folio-question textarea")).to_have_attribute("placeholder", "Posez une question sur vos documents…")
    choose(page, "folio-ui-language", "Italiano")
    expect(page.get_by_role("button", name="Chiedi", exact=True)).to_be_visible(timeout=10_000)
    page.close()


# -- no browser ----------------------------------------------------------------------------------
def test_serve_refuses_public_host_without_auth_before_building(tmp_path, monkeypatch):
    import app.factory
    from app.web import serve

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
    from app.web import serve

    monkeypatch.setattr(app.factory, "build", lambda *a, **k: pytest.fail("serve built models on a busy port"))
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(FolioError, match=f"Cannot listen on 127.0.0.1:{port}.*--port"):
            serve(Settings.for_tests(tmp_path, port=port))


def test_public_host_with_auth_gets_a_warning():
    from app.web import check_exposure

    assert "reachable from other machines" in check_exposure(host="0.0.0.0", auth="ana:secret")
    assert check_exposure(host="localhost", auth="") is None
    assert check_exposure(host="::1", auth="") is None


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                               ("::1", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                               ("folio.example.org", False)])
def test_is_loopback(host, loopback):
    from app.web import is_loopback

    assert is_loopback(host) is loopback


def test_document_text_and_model_output_are_shown_as_text():
    from app.preview import page_html
    from app.ui_render import escape_text, mark_spans, sources_html

    shown = escape_text('<img src=x onerror="alert(1)"> ![pixel](https://tracker.example/p.png) & more')
    assert "<" not in shown and "![" not in shown and "&amp; more" in shown
    panel = sources_html([Source(n=1, source="<i>a</i>.txt", page=2, text="<script>x()</script> ${1+1}", score=0.5,
                                 doc_id="d")], cited=[1], spans={1: ["<script>x()</script>"]})
    assert "<script>" not in panel and "<i>" not in panel and "${" not in panel
    assert "[1] &lt;i&gt;a&lt;/i&gt;.txt, p. 2 ✓ cited" in panel
    assert "<mark>&lt;script&gt;x()&lt;/script&gt;</mark>" in panel  # escaped first, then marked
    assert mark_spans("a & b", ["&"]) == "a <mark>&amp;</mark> b"
    page = page_html("x <img src=y onerror=z> `${a}` end", passage="<img src=y onerror=z>", spans=["`${a}`"])
    assert "<img" not in page and "${" not in page and page.count("<mark") == 2


def test_speed_warning_when_decoding_is_far_too_slow():
    from dataclasses import replace

    from app.ui_render import speed_warning, stats_markdown
    from rag.answering import Answer, Stats
    from rag.citations import CitationReport, SentenceCheck

    def stats(tokens_per_s: float, completion_tokens: int = 50) -> Stats:
        return Stats(prompt_tokens=900, completion_tokens=completion_tokens, ttft_s=0.4, tokens_per_s=tokens_per_s,
                     total_s=40.0)

    cpu, gpu = {"n_gpu_layers": 0}, {"n_gpu_layers": 33}
    assert speed_warning(stats(1.5), cpu).endswith("see folio doctor.")
    assert speed_warning(stats(3.0), cpu) is None
    assert "although layers are on the GPU" in speed_warning(stats(3.0), gpu)
    assert speed_warning(stats(12.0), gpu) is None
    assert speed_warning(stats(0.5, completion_tokens=3), cpu) is None  # too short to tell
    half = CitationReport(cited=(1,), sentences=(SentenceCheck("a", (1,)), SentenceCheck("b", ())), supported_ratio=0.5)
    answer = Answer(question="q", text="a", language="en", answer_language="en", stats=stats(1.0, 40),
                    sources=(Source(n=1, source="a.txt", page=1, text="a", score=0.5, doc_id="d"),), citations=half,
                    meter={}, model="m", extra={"mode": "map-reduce",
                                                "standalone_question": "When does the <b>Geneva</b> depot open?"})
    shown = stats_markdown(answer, gpu)
    assert "mode: map-reduce" in shown and "50% of sentences" in shown and "spilling to the CPU" in shown
    assert "&lt;b&gt;Geneva" in shown
    assert "mode:" not in stats_markdown(replace(answer, extra={"mode": "passages"}), gpu)
    uncited = replace(answer, citations=CitationReport(sentences=(SentenceCheck("a", ()),)))
    assert "cites no source" in stats_markdown(uncited, gpu)
    assert "TTFT" not in stats_markdown(answer, gpu, language="fr") and "jetons/s" in stats_markdown(answer, gpu, language="fr")


def test_context_meter_is_a_bar_of_the_window():
    from app.ui_render import meter_html

    meter = {"n_ctx": 1000, "parts": {"sources": 500, "history": 100, "question": 20, "instructions": 80,
                                      "answer_reserve": 200}}
    shown = meter_html(meter)
    assert "width:50.00%" in shown and "width:20.00%" in shown and "free 100" in shown
    assert "Context 900 of 1,000 tokens" in shown
    assert meter_html({}) == "" and meter_html({"n_ctx": 100, "parts": {}}) == ""


def test_every_language_has_every_label_and_browsers_pick_one():
    import string

    from app.i18n import TEXTS, UI_LANGUAGES, pick_language

    assert all(set(texts) == set(UI_LANGUAGES) and all(texts.values()) for texts in TEXTS.values())
    fields = {key: {lang: {f for _, f, _, _ in string.Formatter().parse(text) if f} for lang, text in texts.items()}
              for key, texts in TEXTS.items()}
    assert all(len({frozenset(f) for f in by_lang.values()}) == 1 for by_lang in fields.values()), \
        "every translation has the same placeholders as the English text"
    assert pick_language("fr-CH, fr;q=0.9, en;q=0.8") == "fr"
    assert pick_language("ja,es;q=0.4") == "es"
    assert pick_language(None) == "en" and pick_language("garbage;q=x") == "en"


def test_save_settings_writes_only_what_changed(tmp_path):
    from app.settings import save_settings

    (tmp_path / "folio.toml").write_text('model = "mixtral-8x7b-instruct:q4_k_m"\n', encoding="utf-8")
    path = save_settings(Settings(home=tmp_path), candidates=12, language="de")
    assert tomllib.loads(path.read_text()) == {"model": "mixtral-8x7b-instruct:q4_k_m", "candidates": 12,
                                               "language": "de"}
    loaded = Settings.load(env={"FOLIO_HOME": str(tmp_path)})
    assert (loaded.candidates, loaded.language) == (12, "de")
    with pytest.raises(FolioError, match="cannot be changed here"):
        save_settings(Settings(home=tmp_path), llm_api_key="x")
    with pytest.raises(FolioError, match="answer language"):
        save_settings(Settings(home=tmp_path), language="pt")
    with pytest.raises(FolioError, match="temperature"):
        save_settings(Settings(home=tmp_path), temperature=7)


def test_pdf_preview_highlights_the_passage(tmp_path):
    from app.preview import PASSAGE_FILL, pdf_page_image

    pdf = make_pdf(tmp_path / "guide.pdf", ["Nothing here.", "Intro line.\n" + BRAKES])
    image, found = pdf_page_image(pdf, 2, passage=BRAKES, spans=["Safety first."])
    assert found and image.width >= 600
    tinted = sum(1 for r, g, b in image.getdata() if r > 240 and 200 < g < 250 and b < 200)
    assert tinted > 500, "no highlight painted"
    assert pdf_page_image(pdf, 3, passage=BRAKES) is None
    _, found = pdf_page_image(pdf, 1, passage=BRAKES)
    assert not found and PASSAGE_FILL


def test_preview_falls_back_to_the_indexed_text_when_the_file_is_gone(tmp_path):
    from app import service
    from app.factory import build
    from app.preview import preview_source
    from core.chat import FakeChatModel

    folio = build(Settings.for_tests(tmp_path / "home", embedder="fake-hash-64"), chat=FakeChatModel())
    try:
        upload = make_pdf(tmp_path / "upload-123.pdf", [BRAKES])
        [result] = service.ingest_uploads(folio, [upload], names=["brakes.pdf"])
        record = folio.store().find("brakes.pdf")
        assert result.status == "added" and Path(record.path).is_file() and Path(record.path).name == "brakes.pdf"
        assert service.ingest_uploads(folio, [upload], names=["brakes.pdf"])[0].status == "unchanged"
        assert Path(record.path).is_file(), "an unchanged upload deleted the kept copy"
        source = Source(n=1, source="brakes.pdf", page=1, text=BRAKES, score=0.5, doc_id=record.doc_id)
        chunks = lambda: service.page_chunks(folio, record.doc_id, 1)  # noqa: E731
        assert preview_source(record=record, source=source, spans=[], chunks_of_page=chunks).image is not None
        Path(record.path).unlink()
        shown = preview_source(record=record, source=source, spans=["Safety first."], chunks_of_page=chunks)
        assert shown.image is None and shown.found and "no longer where it was added from" in shown.html
        assert "<mark class='folio-span'>Safety first.</mark>" in shown.html
        service.remove_document(folio, "brakes.pdf")
        assert folio.documents() == []
    finally:
        folio.close()


def test_each_browser_session_gets_its_own_history_and_stop():
    from app.panels.chat import ChatSession

    template = ChatSession()
    tab = copy.deepcopy(template)
    tab.remember("Q?", "A.", "\n\n— [1] a.txt, p. 1")
    tab.stop.set()
    assert template.history == [] and not template.stop.is_set()
    assert [m["role"] for m in tab.history] == ["user", "assistant"]
    assert tab.shown()[1]["content"].endswith("[1] a.txt, p. 1") and tab.history[1]["content"] == "A."
    assert tab.forget_last() == "Q?" and tab.history == [] and tab.footers == []
    assert tab.forget_last() is None
