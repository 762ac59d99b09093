"""Loading every format: text per page, page numbers, words kept apart, clear errors for bad files."""

from __future__ import annotations

import pytest

from core.errors import DocumentError, UnsupportedFileError
from rag.loading import load
from tests.docs_factory import (make_blank_scan_pdf, make_docx, make_encrypted_pdf, make_kerned_pdf, make_pdf,
                                make_positioned_pdf, make_truncated_pdf)


def test_pdf_keeps_pages_and_their_numbers(tmp_path):
    path = make_pdf(tmp_path / "report.pdf", ["The fleet has 42 trains.", "The budget is 3 million.", "Founded in 1987."])
    doc = load(path)
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert "42 trains" in doc.pages[0].text and "1987" in doc.pages[2].text
    assert doc.language == "en" and len(doc.sha256) == 64


def test_pdf_words_placed_by_position_do_not_run_together(tmp_path):
    line = "Maintenance of the Re 460 locomotives happens every thirty days"
    path = make_positioned_pdf(tmp_path / "slides.pdf", [line, "Brake pads are replaced at 40000 km"])
    text = load(path).pages[0].text
    assert line in " ".join(text.split()), text
    assert "Brake pads are replaced" in " ".join(text.split())


@pytest.mark.parametrize("gap", [300, 150, 110])
def test_pdf_words_separated_only_by_tj_offsets_do_not_run_together(tmp_path, gap):
    """Words in TJ arrays with position offsets and no space glyph, tighter and tighter (110 = 0.4 of a space)."""
    lines = ["Maintenance of the locomotives happens monthly", "Die Bremsen werden alle 40000 km ersetzt"]
    path = make_kerned_pdf(tmp_path / "typeset.pdf", lines, gap=gap)
    words = load(path).pages[0].text.split()
    assert words == " ".join(lines).split()


def test_docx_pages_follow_page_breaks(tmp_path):
    path = make_docx(tmp_path / "guide.docx", [["Guide for passengers.", "Bikes ride free."], ["Dogs need a leash."]])
    doc = load(path)
    assert [p.number for p in doc.pages] == [1, 2]
    assert "Bikes ride free." in doc.pages[0].text and "Dogs need a leash." in doc.pages[1].text


def test_markdown_text_and_html(tmp_path):
    (tmp_path / "notes.md").write_text("# Depot\n\nThe depot opens at **06:00**.\n", encoding="utf-8")
    (tmp_path / "plain.txt").write_text("Première page.\fDeuxième page.", encoding="utf-8")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Horaires</title><style>p{color:red}</style></head><body><h1>Dépôt</h1>"
        "<p>Le dépôt ouvre à 6 h.</p><script>var secret = 'do not index';</script></body></html>", encoding="utf-8")
    assert "opens at **06:00**" in load(tmp_path / "notes.md").pages[0].text
    plain = load(tmp_path / "plain.txt")
    assert [p.text for p in plain.pages] == ["Première page.", "Deuxième page."]
    html = load(tmp_path / "page.html")
    assert "Le dépôt ouvre à 6 h." in html.pages[0].text and "Horaires" in html.pages[0].text
    assert "secret" not in html.pages[0].text and "color" not in html.pages[0].text
    assert html.language == "fr"


def test_latin1_text_file_is_read(tmp_path):
    (tmp_path / "alt.txt").write_bytes("Größe: 3 Meter, Prüfung bestanden.".encode("cp1252"))
    assert "Größe" in load(tmp_path / "alt.txt").pages[0].text


@pytest.mark.parametrize("case, expected", [
    ("encrypted", "encrypted with a password"),
    ("scanned", "no text layer and OCR found no text"),
    ("truncated", "damaged"),
    ("empty", "empty"),
    ("junk", "damaged or not a PDF"),
    ("junk_docx", "not a valid Word document"),
    ("binary_md", "binary"),
    ("too_big", "over the"),
])
def test_bad_files_raise_one_sentence_naming_the_file(tmp_path, case, expected):
    good = make_pdf(tmp_path / "good.pdf", ["Some text on a page."])
    path = {
        "encrypted": lambda: make_encrypted_pdf(tmp_path / "locked.pdf", "Secret text."),
        "scanned": lambda: make_blank_scan_pdf(tmp_path / "scan.pdf"),
        "truncated": lambda: make_truncated_pdf(tmp_path / "cut.pdf", good),
        "empty": lambda: (tmp_path / "empty.txt").write_bytes(b"") and None or tmp_path / "empty.txt",
        "junk": lambda: (tmp_path / "junk.pdf").write_bytes(b"\x89junk" * 100) and tmp_path / "junk.pdf",
        "junk_docx": lambda: (tmp_path / "junk.docx").write_bytes(b"not a zip" * 10) and tmp_path / "junk.docx",
        "binary_md": lambda: (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02" * 100) and tmp_path / "bin.md",
        "too_big": lambda: good,
    }[case]()
    with pytest.raises(DocumentError) as info:
        load(path, max_bytes=100 if case == "too_big" else 10**8)
    message = str(info.value)
    assert message.startswith(path.name + ": ") and expected in message
    assert message.count(". ") == 0 or "e.g." in message, "one sentence"
    assert "Traceback" not in message


def test_unsupported_type(tmp_path):
    (tmp_path / "sheet.numbers").write_bytes(b"PK")
    with pytest.raises(UnsupportedFileError, match="sheet.numbers: files of type '.numbers' are not supported"):
        load(tmp_path / "sheet.numbers")


def test_the_content_decides_the_format_when_the_extension_is_wrong(tmp_path):
    make_pdf(tmp_path / "a.pdf", ["A PDF saved as .docx."]).rename(tmp_path / "report.docx")
    make_docx(tmp_path / "b.docx", [["A Word file saved as .pdf."]]).rename(tmp_path / "letter.pdf")
    (tmp_path / "page.txt").write_text("<!DOCTYPE html><html><body><p>Fares <b>rise</b> in May.</p></body></html>")
    (tmp_path / "wide.txt").write_bytes("Horaires d'été.".encode("utf-16"))
    assert load(tmp_path / "report.docx").pages[0].text == "A PDF saved as .docx."
    assert load(tmp_path / "letter.pdf").pages[0].text == "A Word file saved as .pdf."
    assert " ".join(load(tmp_path / "page.txt").pages[0].text.split()) == "Fares rise in May."
    assert load(tmp_path / "wide.txt").pages[0].text == "Horaires d'été."
