"""A conversation exported as Markdown and JSON: from the page (Export, in a real browser), from the CLI, and the format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.settings import Settings
from tests.docs_factory import make_pdf
from tests.test_ui_browser import BRAKES, _ask, _open, _screenshot, _upload
from tests.ui_helpers import chromium_browser, in_process_app, new_page

HOSTILE = "Depots open at six <img src=http://127.0.0.9/x.png onerror=alert(1)> ![pixel](http://127.0.0.9/p.png)."


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """The page over a fake chat model (it repeats its first source) and a hashing embedder: (url, folio)."""
    from app.factory import build
    from core.chat import FakeChatModel

    folio = build(Settings.for_tests(tmp_path_factory.mktemp("export") / "home", embedder="fake-hash-64"),
                  chat=FakeChatModel())
    try:
        with in_process_app(folio) as url:
            yield url, folio
    finally:
        folio.close()


def _download(page, link) -> tuple[str, str]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


@pytest.mark.browser
def test_export_offers_the_conversation_as_markdown_and_json(fake, tmp_path):
    from playwright.sync_api import expect

    url, _ = fake
    brakes = make_pdf(tmp_path / "brakes.pdf", [BRAKES])
    with chromium_browser() as browser:
        page = new_page(browser)
        _open(page, url)
        page.get_by_role("button", name="Export", exact=True).click()
        expect(page.get_by_text("There is nothing to export yet")).to_be_visible(timeout=10_000)
        _upload(page, expect, brakes)
        _ask(page, expect, "How often are the brakes checked?")
        _ask(page, expect, "And by whom?")
        page.get_by_role("button", name="Export", exact=True).click()
        files = page.locator("#folio-export-files")
        expect(files).to_be_visible(timeout=20_000)
        links = files.locator("a")
        expect(links).to_have_count(2, timeout=20_000)
        _screenshot(page, tmp_path, "folio-export.png")
        downloaded = dict(_download(page, links.nth(i)) for i in range(2))
        page.close()
    names = sorted(downloaded)
    assert [Path(n).suffix for n in names] == [".json", ".md"]
    assert re.fullmatch(r"folio-conversation-\d{8}-\d{6}", Path(names[0]).stem)
    text = downloaded[names[1]]
    assert text.startswith("# Folio conversation\n")
    assert "collection default · model fake-chat" in text
    assert "## 1. How often are the brakes checked?" in text and "## 2. And by whom?" in text
    assert "- [1] brakes.pdf, p. 1 ✓ cited" in text
    assert "  > Safety first. The brakes of every railcar are checked every Monday by the depot team." in text
    assert "prompt tokens" in text and "tokens/s" in text
    data = json.loads(downloaded[names[0]])
    assert data["folio_export"] == 1 and data["collection"] == "default" and len(data["turns"]) == 2
    first = data["turns"][0]
    assert first["question"] == "How often are the brakes checked?" and first["model"] == "fake-chat"
    assert first["sources"][0] | {"source": "brakes.pdf", "page": 1, "cited": True} == first["sources"][0]
    assert first["sources"][0]["quote"].startswith("Safety first.") and first["stats"]["prompt_tokens"] > 0
    assert data["turns"][1]["standalone_question"]  # the follow-up's rewrite is kept too


def test_the_markdown_shows_document_text_as_text_and_the_json_keeps_it(tmp_path):
    from app.export import as_json, markdown, write
    from rag.answering import Answer, Stats
    from rag.citations import verify
    from rag.documents import Source

    source = Source(n=1, source="<b>depots</b>.md", page=1, text=HOSTILE, score=0.7, doc_id="d-1")
    text = "Depots open at six <script>x()</script> [1]."
    answer = Answer(question="When <i>exactly</i>?", text=text, language="en", answer_language="en",
                    sources=(source,), citations=verify(text, [source]), stats=Stats(50, 9, 0.1, 20.0, 0.6),
                    meter={}, model="smollm2")
    shown = markdown([answer], model_info={"name": "smollm2", "n_gpu_layers": 0}, collection="default")
    for raw in ("<img", "<script>", "<i>", "<b>", "![pixel]"):
        assert raw not in shown, raw
    assert "&lt;script&gt;" in shown and "!\\[pixel]" in shown
    data = as_json([answer], model_info={"name": "smollm2", "plan": {"big": "dict"}}, collection="default")
    assert data["turns"][0]["answer"] == text and data["turns"][0]["sources"][0]["text"] == HOSTILE
    assert data["model"] == {"name": "smollm2"}
    written = write([answer], [tmp_path / "c.json", tmp_path / "out" / "c.md"], model_info={}, collection="default",
                    language="fr")
    assert json.loads(written[0].read_text(encoding="utf-8"))["turns"][0]["question"] == "When <i>exactly</i>?"
    assert written[1].read_text(encoding="utf-8").startswith("# Conversation Folio\n")


@pytest.mark.slow
def test_folio_export_asks_the_questions_as_one_conversation(tmp_path, capsys, monkeypatch):
    from app.cli import main

    monkeypatch.setenv("FOLIO_N_CTX", "2048")
    monkeypatch.setenv("FOLIO_ANSWER_TOKENS", "32")
    make_pdf(tmp_path / "guide.pdf", ["Welcome to the guide.", "Bicycles travel free on Sundays."])
    assert main(["ingest", str(tmp_path / "guide.pdf")]) == 0
    capsys.readouterr()
    code = main(["export", "Do bicycles travel free?", "On which day?", "--to", str(tmp_path / "talk.md"),
                 "--to", str(tmp_path / "talk.json")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.split() == ["wrote", str(tmp_path / "talk.md"), "wrote", str(tmp_path / "talk.json")]
    data = json.loads((tmp_path / "talk.json").read_text(encoding="utf-8"))
    assert [t["question"] for t in data["turns"]] == ["Do bicycles travel free?", "On which day?"]
    assert data["model"]["name"].startswith("SmolLM2") and data["turns"][1]["standalone_question"]
    assert ("guide.pdf", 2) in {(s["source"], s["page"]) for s in data["turns"][0]["sources"]}
    shown = (tmp_path / "talk.md").read_text(encoding="utf-8")
    assert "## 2. On which day?" in shown and "guide.pdf, p. 2" in shown and "TTFT" in shown
