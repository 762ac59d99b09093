"""Every common format, built by the real tools that write it: a page for each citation, headers kept
on every spreadsheet row, e-mail attachments indexed as documents of their own."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import DocumentError, UnsupportedFileError
from rag.ingest import ingest
from rag.library import discover
from rag.loading import is_supported, load, sniff, unsupported_reason
from rag.retrieval import search
from tests.docs_factory import make_pdf
from tests.formats_factory import make_eml, make_ods, make_xlsx, pandoc

SLIDES = """\
# Depot opening hours

The Brenzach depot opens at 05:30 on weekdays.

| Line | Platform |
|------|----------|
| S1   | 4        |
| S3   | 7        |

::: notes
Remind the staff about the winter timetable.
:::

# Dogs on board

Dogs travel on a leash and pay a child fare.
"""


def test_powerpoint_slides_are_pages_with_title_text_tables_and_notes(tmp_path):
    doc = load(pandoc(tmp_path / "deck.pptx", SLIDES))
    assert doc.page_count == 2
    first, second = doc.pages[0].text, doc.pages[1].text
    assert first.startswith("Depot opening hours")
    assert "opens at 05:30" in first and "S1 | 4" in first and "Line | Platform" in first
    assert "Notes: Remind the staff about the winter timetable." in first
    assert second.startswith("Dogs on board") and "child fare" in second and "05:30" not in second


def test_excel_rows_keep_their_headers_and_blocks_of_rows_are_pages(tmp_path):
    rows = [["Employee", "Depot", "Certified until"]] + [[f"Driver {n}", "Brenzach" if n % 2 else "Valmont",
                                                          dt.date(2026, 1 + n % 12, 1)] for n in range(1, 121)]
    path = make_xlsx(tmp_path / "staff.xlsx", {"Drivers": rows, "Fares": [["Zone", "Adult"], [1, 2.5], [2, 4.0]]})
    doc = load(path)
    assert doc.page_count == 4, "120 rows are 3 pages of 50, then the second sheet"
    assert doc.pages[0].text.splitlines()[0] == "Sheet 'Drivers', rows 2-51 of 121"
    assert "Employee: Driver 7 | Depot: Brenzach | Certified until: 2026-08-01" in doc.pages[0].text.splitlines()
    assert doc.pages[2].text.splitlines()[0] == "Sheet 'Drivers', rows 102-121 of 121"
    assert doc.pages[3].text == "Sheet 'Fares', rows 2-3 of 3\nZone: 1 | Adult: 2.5\nZone: 2 | Adult: 4"


def test_opendocument_spreadsheet_and_csv_read_like_excel(tmp_path):
    ods = load(make_ods(tmp_path / "horaires.ods", {"Dépôts": [["Dépôt", "Ouverture"], ["Brenzach", "05:30"],
                                                               ["Valmont", "06:15"]]}))
    assert ods.pages[0].text.splitlines()[1:] == ["Dépôt: Brenzach | Ouverture: 05:30", "Dépôt: Valmont | Ouverture: 06:15"]
    assert ods.language == "fr"
    (tmp_path / "staff.csv").write_text('Name;Role;Phone\nAnna Keller;Safety officer;+41 1\nBen Roth;"Driver; senior";2\n',
                                       encoding="utf-8")
    (tmp_path / "fares.tsv").write_text("Zone\tAdult\n1\t2.50\n", encoding="utf-8")
    assert load(tmp_path / "staff.csv").pages[0].text.splitlines()[1:] == [
        "Name: Anna Keller | Role: Safety officer | Phone: +41 1", "Name: Ben Roth | Role: Driver; senior | Phone: 2"]
    assert load(tmp_path / "fares.tsv").pages[0].text.splitlines()[1] == "Zone: 1 | Adult: 2.50"


def test_a_sheet_without_a_header_row_names_columns_by_letter(tmp_path):
    doc = load(make_xlsx(tmp_path / "numbers.xlsx", {"Data": [[2024, 17], [2025, 21]]}))
    assert doc.pages[0].text.splitlines()[1:] == ["A: 2024 | B: 17", "A: 2025 | B: 21"]


def test_a_workbook_over_the_cell_limit_is_refused_not_indexed_in_part(tmp_path, monkeypatch):
    import rag.formats.sheets as sheets

    path = make_xlsx(tmp_path / "big.xlsx", {"Log": [["Time", "Event"]] + [[n, "tick"] for n in range(600)]})
    monkeypatch.setattr(sheets, "MAX_CELLS", 1000)
    with pytest.raises(DocumentError, match=r"big.xlsx: the spreadsheet spans 1,202 cells, over the 1,000-cell limit"):
        load(path)
    (tmp_path / "big.csv").write_text("a,b\n" + "1,2\n" * 600)
    with pytest.raises(DocumentError, match="over the 1,000-cell limit"):
        load(tmp_path / "big.csv")


def test_epub_chapters_are_pages_in_reading_order(tmp_path):
    path = pandoc(tmp_path / "guide.epub", "# Tickets\n\nA day pass costs **12 EUR**.\n\n# Bikes\n\nBikes ride free on Sundays.\n",
                  title="Passenger guide")
    doc = load(path)
    texts = [page.text for page in doc.pages]
    assert any(t.startswith("Tickets") and "A day pass costs 12 EUR." in t for t in texts)
    assert [i for i, t in enumerate(texts) if "Tickets" in t] < [i for i, t in enumerate(texts) if "Bikes ride" in t]
    assert not any("Tickets" in t and "Bikes ride" in t for t in texts), "one chapter a page"


def test_opendocument_text_pages_follow_its_page_breaks(tmp_path):
    markdown = ("# Safety\n\nBrakes are checked every 30 days.\n\n`<text:soft-page-break/>`{=opendocument}\n\n"
                "| Item | Interval |\n|---|---|\n| Doors | weekly |\n\n`<text:soft-page-break/>`{=opendocument}\n\nThe end.\n")
    doc = load(pandoc(tmp_path / "manual.odt", markdown))
    assert [p.text for p in doc.pages] == ["Safety\nBrakes are checked every 30 days.", "Item | Interval\nDoors | weekly",
                                           "The end."]
    single = load(pandoc(tmp_path / "note.odt", "Le dépôt ouvre à **6 h**   précises.\n"))
    assert [p.text for p in single.pages] == ["Le dépôt ouvre à 6 h précises."]


def test_rtf_text_and_page_breaks(tmp_path):
    markdown = "Größe der Bremsbeläge: 40 mm.\n\n```{=rtf}\n\\page\n```\n\nZweite Seite: Türen wöchentlich prüfen.\n"
    doc = load(pandoc(tmp_path / "wartung.rtf", markdown, standalone=True))
    assert doc.page_count == 2
    assert "Größe der Bremsbeläge: 40 mm." in doc.pages[0].text and "Zweite Seite" in doc.pages[1].text
    assert doc.language == "de"


def test_email_headers_and_body_plain_or_html(tmp_path):
    plain = load(make_eml(tmp_path / "a.eml", subject="Bremsprüfung", body="The brakes are checked every 30 days.",
                          html="<p>HTML copy: every <b>30</b> days.</p>"))
    lines = plain.pages[0].text.splitlines()
    assert lines[:4] == ["From: Anna Keller <anna@valmont.example>", "To: depot@valmont.example",
                         "Date: Mon, 03 Nov 2025 09:00:00 +0100", "Subject: Bremsprüfung"]
    assert "The brakes are checked every 30 days." in plain.pages[0].text and "HTML copy" not in plain.pages[0].text

    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["Subject"] = "ops@valmont.example", "Timetable"
    message.set_content("<html><body><h1>Winter</h1><p>Trains run <b>every 20 minutes</b>.</p><script>x()</script></body></html>",
                        subtype="html")
    (tmp_path / "b.eml").write_bytes(bytes(message))
    assert load(tmp_path / "b.eml").pages[0].text.endswith("Winter\nTrains run every 20 minutes.")


def test_email_attachments_become_documents_of_their_own(tmp_path, store, embedder):
    report = make_pdf(tmp_path / "report.pdf", ["The fleet has 42 trains.", "Seven of them run on batteries."])
    mail = make_eml(tmp_path / "fleet.eml", subject="Fleet report", body="Please find the fleet report attached.",
                    attachments=[("report.pdf", report.read_bytes(), "application/pdf"),
                                 ("staff.csv", b"Name,Role\nAnna Keller,Safety officer\n", "text/csv"),
                                 ("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
                                 ("../../secret.pdf", report.read_bytes(), "application/pdf")])
    results = list(ingest([mail], store=store, embedder=embedder))
    assert [(r.name, r.status) for r in results] == [
        ("fleet.eml", "added"), ("fleet.eml › report.pdf", "added"), ("fleet.eml › staff.csv", "added"),
        ("fleet.eml › secret.pdf", "added")]
    assert results[1].pages == 2 and results[1].path == f"{mail} › report.pdf"
    assert "Attachments: report.pdf, staff.csv, setup.exe, secret.pdf" in load(mail).pages[0].text
    [best] = search("How many trains does the fleet have?", store=store, embedder=embedder, k=1)
    assert best.source in ("fleet.eml › report.pdf", "fleet.eml › secret.pdf") and best.page == 1
    [staff] = search("Who is the safety officer?", store=store, embedder=embedder, k=1)
    assert staff.source == "fleet.eml › staff.csv" and "Name: Anna Keller | Role: Safety officer" in staff.text

    again = list(ingest([mail], store=store, embedder=embedder))
    assert [r.status for r in again] == ["unchanged"] * 4


def test_attachments_over_the_size_limit_are_listed_without_their_bytes(tmp_path):
    from rag.loading import attachments

    mail = make_eml(tmp_path / "big.eml", subject="Scans", body="Two files.",
                    attachments=[("small.txt", b"Platform 4 reopens in May.", "text/plain"),
                                 ("large.txt", b"x " * 60_000, "text/plain")])
    found = attachments(mail, name="big.eml", max_bytes=200_000)
    assert [(a.name, a.size, a.data is not None) for a in found] == [("small.txt", 26, True), ("large.txt", 120_000, True)]
    from rag.formats.mail import message_attachments
    import email
    from email import policy

    message = email.message_from_bytes(mail.read_bytes(), policy=policy.default)
    limited = message_attachments(message, supported=is_supported, max_bytes=100_000)
    assert [(a.name, a.data is None) for a in limited] == [("small.txt", False), ("large.txt", True)]


def test_a_mail_attached_to_a_mail_is_unpacked_in_turn(tmp_path, store, embedder):
    inner = make_eml(tmp_path / "inner.eml", subject="Depot keys", body="Keys are at the front desk.",
                     attachments=[("keys.txt", b"Key 12 opens the workshop.", "text/plain")])
    outer = make_eml(tmp_path / "outer.eml", subject="Fwd: Depot keys", body="See below.",
                     attachments=[("inner.eml", inner.read_bytes(), "message/rfc822")])
    names = [r.name for r in ingest([outer], store=store, embedder=embedder) if r.status == "added"]
    assert names[0] == "outer.eml" and any(n.endswith(" › keys.txt") and n.count(" › ") == 2 for n in names), names


def test_the_content_decides_the_format_when_the_extension_is_wrong(tmp_path):
    make_xlsx(tmp_path / "a.xlsx", {"S": [["Zone", "Adult"], [1, 2]]}).rename(tmp_path / "fares.pptx")
    pandoc(tmp_path / "b.pptx", SLIDES).rename(tmp_path / "deck.xlsx")
    pandoc(tmp_path / "c.odt", "Dogs travel on a leash.\n").rename(tmp_path / "note.docx")
    pandoc(tmp_path / "d.epub", "# One\n\nBikes ride free.\n", title="T").rename(tmp_path / "book.odt")
    pandoc(tmp_path / "e.rtf", "Fares rise in May.\n", standalone=True).rename(tmp_path / "fares.txt")
    assert [sniff(tmp_path / n) for n in ("fares.pptx", "deck.xlsx", "note.docx", "book.odt", "fares.txt")] == [
        ".xlsx", ".pptx", ".odt", ".epub", ".rtf"]
    assert "Zone: 1 | Adult: 2" in load(tmp_path / "fares.pptx").pages[0].text
    assert load(tmp_path / "deck.xlsx").pages[0].text.startswith("Depot opening hours")
    assert load(tmp_path / "note.docx").pages[0].text == "Dogs travel on a leash."
    assert load(tmp_path / "fares.txt").pages[0].text == "Fares rise in May."


@pytest.mark.parametrize("name, content, expected", [
    ("broken.pptx", b"PK\x03\x04broken", "not a valid PowerPoint presentation"),
    ("broken.xlsx", b"PK\x03\x04broken", "not a valid Excel workbook"),
    ("broken.ods", b"not a zip at all", "not a valid OpenDocument spreadsheet"),
    ("broken.odt", b"not a zip at all", "not a valid OpenDocument text"),
    ("broken.epub", b"not a zip at all", "not a valid EPUB book"),
    ("broken.rtf", b"this is not rtf", "not a valid RTF document"),
    ("broken.eml", b"no headers here, just words", "not an e-mail message"),
    ("broken.csv", b"\x00\x01\x02" * 50, "binary"),
])
def test_malformed_files_fail_with_one_sentence_naming_the_file(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load(tmp_path / name)
    assert str(info.value).startswith(f"{name}: ") and expected in str(info.value)
    assert str(info.value).count(". ") == 0


def test_which_files_are_supported_and_why_not(tmp_path):
    assert all(is_supported(f"x{suffix}") for suffix in (".pptx", ".xlsx", ".ods", ".csv", ".epub", ".odt", ".rtf",
                                                         ".eml", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".PDF"))
    assert unsupported_reason("budget.numbers").startswith("files of type '.numbers' are not supported (use PDF, Word, ")
    with pytest.raises(UnsupportedFileError, match="budget.numbers: files of type '.numbers' are not supported"):
        (tmp_path / "budget.numbers").write_bytes(b"PK")
        load(tmp_path / "budget.numbers")
    (tmp_path / "docs").mkdir()
    for name in ("a.pptx", "b.numbers", "c.csv", "setup.exe"):
        (tmp_path / "docs" / name).write_bytes(b"x")
    (tmp_path / "docs" / ".hidden.exe").write_bytes(b"x")
    found, skipped = discover([tmp_path / "docs"])
    assert [name for _, name in found] == ["a.pptx", "c.csv"]
    assert [(p.name, reason.split(" are ")[0]) for p, reason in skipped] == [
        ("b.numbers", "files of type '.numbers'"), ("setup.exe", "files of type '.exe'")]
