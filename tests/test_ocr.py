"""Scanned pages read by Tesseract: real pages of real PDFs, rendered and saved as scans, ingested
through Folio's pipeline (sandboxed parse, real embedder, real Chroma), then found by search."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import pytest

from rag import ocr
from core.errors import DocumentError
from rag.ingest import ingest
from rag.loading import load
from rag.retrieval import search
from rag.sandbox import Sandbox
from tests.docs_factory import make_scanned_pdf
from tests.formats_factory import make_scan
from tests.sandbox_tasks import sleeps_in_a_child, steps

pytestmark = pytest.mark.skipif(not ocr.status().available, reason="Tesseract is not installed (.ci/run installs it)")

# A word or phrase of each language's first page, and a question whose best passage is on it.
QUERIES = {
    "en": ("Hotel Krone", "Where did the railway enthusiasts meet in 1987?"),
    "fr": ("autorail à batteries", "Quand la coopérative présente-t-elle son autorail à batteries ?"),
    "de": ("Geltungsbereich und Verantwortung", "Für wen gilt das Sicherheitshandbuch?"),
    "es": ("Javier Ortega", "¿Quién es el responsable de sostenibilidad?"),
    "it": ("lunga 2840 metri", "Quanto è lunga la galleria del Col du Valmont?"),
}


def words(text: str) -> str:
    return " ".join(text.split())


def test_scans_in_all_five_languages_are_ingested_and_found_by_search(tmp_path, store, embedder):
    scans, originals = [], {}
    for language in QUERIES:
        path, [text] = make_scan(tmp_path / f"scan_{language}.pdf", language)
        scans.append(path)
        originals[language] = text
    progress: list[tuple[str, int, int]] = []
    started = time.monotonic()
    results = list(ingest(scans, store=store, embedder=embedder,
                          on_page=lambda name, done, total: progress.append((name, done, total))))
    elapsed = time.monotonic() - started
    assert [(r.status, r.pages, r.language) for r in results] == [("added", 1, language) for language in QUERIES], \
        [(r.name, r.status, r.reason, r.language) for r in results]
    assert sorted(progress) == sorted([(f"scan_{lang}.pdf", step, 1) for lang in QUERIES for step in (0, 1)])
    print(f"\n5 one-page scans OCR'd and indexed in {elapsed:.1f} s")
    for language, (phrase, question) in QUERIES.items():
        assert words(phrase).lower() in words(originals[language]).lower(), "the phrase is on the original page"
        hits = search(question, store=store, embedder=embedder, k=3)
        assert any(h.source == f"scan_{language}.pdf" and h.page == 1 and phrase.lower() in words(h.text).lower()
                   for h in hits), (language, [(h.source, h.text[:80]) for h in hits])


def test_ocr_pages_are_marked_and_read_in_their_language(tmp_path):
    path, [original] = make_scan(tmp_path / "sicherheit.pdf", "de")
    doc = load(path)
    assert [p.ocr for p in doc.pages] == [True] and doc.language == "de"
    assert "Sicherheitshandbuch" in doc.pages[0].text and "gültig" in doc.pages[0].text, "umlauts need German OCR"
    assert accuracy(doc.pages[0].text, original) > 0.97
    from rag.chunking import chunk_document

    chunks = chunk_document(doc, token_length=lambda text: len(text.split()), chunk_tokens=80)
    assert chunks and all(chunk.ocr for chunk in chunks), "chunks carry the OCR mark of their page"
    text_pdf = load(Path(__file__).resolve().parent.parent / "sample_docs" / "sicherheitshandbuch_de.pdf")
    assert not any(p.ocr for p in text_pdf.pages), "a page with a text layer is never OCR'd"


def test_png_and_multi_page_tiff_frames_are_pages(tmp_path):
    png, _ = make_scan(tmp_path / "report.png", "en")
    tiff, texts = make_scan(tmp_path / "galleria.tiff", "it", pages=[1, 2])
    png_doc, tiff_doc = load(png), load(tiff)
    assert png_doc.page_count == 1 and png_doc.pages[0].ocr and "Annual Report 2025" in words(png_doc.pages[0].text)
    assert [p.number for p in tiff_doc.pages] == [1, 2] and all(p.ocr for p in tiff_doc.pages)
    for page, original in zip(tiff_doc.pages, texts):
        assert accuracy(page.text, original) > 0.97
    assert tiff_doc.language == "it"


def test_a_small_scan_made_with_a_bitmap_font_is_read(tmp_path):
    doc = load(make_scanned_pdf(tmp_path / "scan.pdf"))
    assert doc.pages[0].ocr and "scanned" in doc.pages[0].text and "text layer" in doc.pages[0].text


def test_without_tesseract_a_scan_fails_with_the_install_command(tmp_path, monkeypatch):
    path, _ = make_scan(tmp_path / "scan.pdf", "en")
    png, _ = make_scan(tmp_path / "scan.png", "en")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    state = ocr.status()
    assert (state.available, state.languages) == (False, ())
    assert "sudo apt-get install tesseract-ocr tesseract-ocr-eng" in state.message
    for file in (path, png):
        with pytest.raises(DocumentError) as info:
            load(file)
        message = str(info.value)
        assert message.startswith(f"{file.name}: ") and "Tesseract, which reads scanned pages, is not installed" in message
        assert "sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra" in message
        assert "brew install tesseract" in message and message.count(". ") == 0


def test_status_lists_the_installed_languages():
    state = ocr.status()
    assert state.available and state.version and set(state.languages) <= {"en", "fr", "de", "es", "it"}
    assert state.message.startswith("OCR: Tesseract ")


# -- progress and the per-page time limit, in the sandbox ----------------------------------------
@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(memory_mb=512)
    box.call(partial(steps, 0, 0.0), name="warm-up", timeout_s=60)  # worker started, task module imported
    yield box
    box.close()


def test_the_time_limit_applies_to_each_reported_page_not_the_whole_file(sandbox):
    seen: list[tuple[int, int]] = []
    started = time.monotonic()
    assert sandbox.call(partial(steps, 6, 0.3), name="scan.pdf", timeout_s=1.0, on_progress=lambda *a: seen.append(a)) == "done"
    assert time.monotonic() - started > 1.5, "the whole task took longer than one limit"
    assert seen == [(0, 6), (1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]
    with pytest.raises(DocumentError) as info:
        sandbox.call(partial(steps, 3, 2.0), name="scan.pdf", timeout_s=1.0)
    assert str(info.value) == ("scan.pdf: page 1 of 3 took longer than 1 s to read "
                               "(the scan may be damaged or unusually large).")


def test_a_worker_killed_for_time_takes_the_program_it_waits_for_with_it(sandbox, tmp_path):
    pid_file = tmp_path / "child.pid"
    with pytest.raises(DocumentError, match="took longer than 1 s"):
        sandbox.call(partial(sleeps_in_a_child, str(pid_file)), name="scan.pdf", timeout_s=1.0)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid), "the child of the killed worker is gone too"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        return os.path.exists(f"/proc/{pid}")


def accuracy(ocr_text: str, original: str) -> float:
    """1 - edit distance / length, after whitespace normalisation (the bench's measure)."""
    from rapidfuzz.distance import Levenshtein

    a, b = words(ocr_text), words(original)
    return 1 - Levenshtein.distance(a, b) / max(1, len(b))


