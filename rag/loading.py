"""Files → :class:`~rag.documents.Document`: text per page, page numbers kept, words never run together.

One loader per format, chosen by extension unless the content says otherwise (a PDF, an Office,
OpenDocument or EPUB file, an RTF document or an image with the wrong extension, an HTML page saved
as .txt is read for what it is). PDF text comes from PDFium (``pypdfium2``), which keeps word
boundaries on PDFs that place words by position without space glyphs and is ~40x faster than pypdf
on the manuals we measured (see ``bench/``). DOCX pages follow Word's page breaks; Markdown, text
and HTML are one page each (a form feed starts a new page in plain text). PowerPoint, spreadsheets,
CSV, EPUB, OpenDocument text, RTF and e-mail are read by :mod:`rag.formats` (a slide, a block of
rows, a chapter is a page). An HTML page keeps its title and headings (:attr:`Page.headings`). PDF pages without a text layer and image files are read by Tesseract
(:mod:`rag.ocr`), their pages marked ``ocr``.

Files are untrusted: :func:`read_pages` is the part that parses them, and :mod:`rag.sandbox` runs it
in a child process with time and memory limits; :func:`check_file` (size, type, regular file) only
looks at the file's metadata and is safe anywhere. Zip-based files (Office, OpenDocument, EPUB)
that would unpack to more than :data:`UNPACKED_LIMIT` are refused before they are unpacked.
:func:`unsupported_reason` says why a path is not read (for reporting skipped files).

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> _ = p.write_text("Depot hours are 6:00 to 22:00.")
>>> doc = load(p)
>>> doc.name, doc.page_count, doc.pages[0].text
('note.txt', 1, 'Depot hours are 6:00 to 22:00.')
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zipfile
from functools import partial
from pathlib import Path
from typing import Callable

from rag import ocr
from rag.documents import Document, Page
from core.errors import DocumentError, UnsupportedFileError
from rag.formats import mail, office, sheets
from rag.formats.base import UNPACKED_LIMIT, check_zip, read_html, read_text, zip_kind
from rag.language import detect

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".md", ".markdown", ".txt", ".html", ".htm", ".pptx", ".xlsx", ".xlsm",
                      ".ods", ".csv", ".tsv", ".epub", ".odt", ".rtf", ".eml", *ocr.IMAGE_SUFFIXES)
SUPPORTED_NAMES = ("PDF, Word, PowerPoint, Excel, OpenDocument text or spreadsheet, CSV, EPUB, RTF, e-mail (.eml), "
                   "Markdown, text, HTML or an image (PNG, JPEG, TIFF)")
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DOCX_UNPACKED_LIMIT = UNPACKED_LIMIT  # the zip guard's limit, under its first name
_TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".csv", ".tsv")
_NOT_WORDS = re.compile(r"(?<![!-~])[!-~]{1000,}")  # base64 images, hex dumps: never words
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_HYPHENATED_BREAK = re.compile(r"(\w)-\n(\w)")


def clean(text: str) -> str:
    """Normalise whitespace without ever joining two words.

    Runs of 1,000 or more printable ASCII characters without a space (an inline base64 image, a
    hex dump, minified code) are dropped: they are not words and would only make chunks that match
    nothing, however long they are.

    >>> clean("Safety\\r\\nfirst:\\tcheck  the\\x00 brakes.\\n\\n\\n\\nDone")
    'Safety\\nfirst: check the brakes.\\n\\nDone'
    >>> clean("Chart: ![c](data:image/png;base64," + "iVBO" * 500 + ")")
    'Chart:'
    """
    text = _NOT_WORDS.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").replace("\ufffe", "")
    text = text.replace("\u00ad\n", "").replace("\u00ad", "").replace("\x02", "")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(path: Path | str, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
         sha256: str | None = None, on_page: Callable[[int, int], None] | None = None) -> Document:
    """Read one file into a :class:`Document`; raise :class:`DocumentError` with the reason when it can't be.

    ``sha256`` is the file's hash when the caller has it already (it is computed otherwise).
    """
    path = Path(path)
    name = name or path.name
    return document_from(path, name=name, pages=read_pages(path, name=name, max_bytes=max_bytes, on_page=on_page),
                         sha256=sha256)


def unsupported_reason(path: Path | str) -> str | None:
    """Why Folio does not read a file of this name (None: it does), from the name alone.

    >>> unsupported_reason("slides.pptx") is None, unsupported_reason("scan.TIFF") is None
    (True, True)
    >>> unsupported_reason("setup.exe")[:45]
    "files of type '.exe' are not supported (use P"
    """
    suffix = Path(path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    return f"files of type '{suffix or 'without extension'}' are not supported (use {SUPPORTED_NAMES})"


def is_supported(path: Path | str) -> bool:
    return unsupported_reason(path) is None


def check_file(path: Path, *, name: str, max_bytes: int) -> None:
    """Refuse, from its metadata alone, a file Folio should not open: unsupported, not a file, empty, too big."""
    reason = unsupported_reason(path)
    if reason is not None:
        raise UnsupportedFileError(name, reason)
    if not path.is_file():
        raise DocumentError(name, "the file does not exist or is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(name, "the file is empty")
    if size > max_bytes:
        raise DocumentError(
            name, f"the file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit (raise FOLIO_MAX_FILE_MB to allow it)")


def read_pages(path: Path, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES,
               on_page: Callable[[int, int], None] | None = None) -> tuple[Page, ...]:
    """Parse one file into cleaned pages: the only step that reads an untrusted file's structure.

    ``on_page(done, total)`` is called as slow pages (those read by OCR) are read, ``(0, total)`` first.
    """
    check_file(path, name=name, max_bytes=max_bytes)
    kind = sniff(path)
    loader = _LOADERS[kind]
    if kind in _PAGED:
        loader = partial(loader, on_page=on_page)
    pages = tuple(dataclasses.replace(p, text=clean(p.text), headings=tuple(clean(h) for h in p.headings))
                  for p in loader(path, name))
    if not any(p.text.strip() for p in pages):
        if kind == ".pdf" and any(p.ocr for p in pages):
            raise DocumentError(name, "the PDF has no text layer and OCR found no text on its scanned pages")
        if kind == ".pdf":
            raise DocumentError(name, "the PDF has no text in it (no text layer, and no scanned image to read)")
        raise DocumentError(name, "the file contains no text")
    return pages


def document_from(path: Path, *, name: str, pages: tuple[Page, ...], sha256: str | None = None) -> Document:
    """The :class:`Document` of pages read from ``path``: its hash (unless given) and language added."""
    text = " ".join(p.text for p in pages)
    return Document(name=name, path=str(path), sha256=sha256 or sha256_of(path), pages=pages, language=detect(text))


def sniff(path: Path) -> str:
    """The format to read ``path`` as: its content's signature where it has one, else its extension.

    A PDF, a zip-based document (Word, PowerPoint, Excel, OpenDocument, EPUB: told apart by their
    parts), an RTF file and a PNG, JPEG or TIFF image keep their format under any name; a .txt or .md
    file that is an HTML page is read as HTML. Only the first 2 KiB (and, for a zip, its list of
    parts) are looked at.
    """
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(2048)
    if b"%PDF-" in head[:1024]:
        return ".pdf"
    if head.startswith(b"PK\x03\x04"):
        kind = zip_kind(path)
        if kind is not None and not (kind == ".xlsx" and suffix == ".xlsm"):
            return kind
        return suffix
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{\\rtf"):
        return ".rtf"
    for signature, kind in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return suffix if suffix in ocr.IMAGE_SUFFIXES and _IMAGE_KINDS[suffix] == kind else kind
    if suffix in _TEXT_SUFFIXES and start.lower().startswith((b"<!doctype html", b"<html")):
        return ".html"
    return suffix


_IMAGE_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"II*\x00", ".tif"),
                     (b"MM\x00*", ".tif"))
_IMAGE_KINDS = {".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg", ".tif": ".tif", ".tiff": ".tif"}


def _load_pdf(path: Path, name: str, *, on_page: Callable[[int, int], None] | None = None) -> list[Page]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise DocumentError(name, "the PDF is encrypted with a password; save an unencrypted copy and add that") from None
        raise DocumentError(name, "the PDF is damaged or not a PDF (PDFium could not open it); re-export or re-download it") from None
    try:
        pages = []
        scanned = []  # pages without a text layer that show an image: read by OCR below
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            text = _page_text(textpage)
            if ocr.needs_ocr(page, text):
                scanned.append(index + 1)
            pages.append(Page(index + 1, text))
            textpage.close()
            page.close()
        for number, text in ocr.read_pdf_pages(pdf, scanned, name=name, on_page=on_page) if scanned else ():
            pages[number - 1] = Page(number, text, ocr=True)
        return pages
    except pdfium.PdfiumError:
        raise DocumentError(name, "the PDF is damaged (a page could not be read); re-export or re-download it") from None
    finally:
        pdf.close()


_LONG_RUN = re.compile(r"[^\s\ufffe\x02]{9,}")
WORD_GAP_EM = 0.08  # a horizontal gap wider than this (in font sizes) between two glyphs separates words


def _page_text(textpage) -> str:
    """PDFium's text, with a space wherever two glyphs on a line stand apart by more than a letter gap.

    PDFium already inserts spaces for most positioned words; PDFs that move each word with a small
    TJ offset and no space glyph still come out joined ("Maintenanceofthe"). Loose character boxes
    span each glyph's advance width, so letters of a word touch and words are separated by a gap.
    Only runs long enough to hide two words are measured, which keeps extraction fast.
    """
    text = textpage.get_text_range()
    if len(text) != textpage.count_chars():
        return text
    pieces: list[str] = []
    done = 0
    for run in _LONG_RUN.finditer(text):
        pieces.append(text[done:run.start()])
        pieces.append(_split_run(textpage, text, run.start(), run.end()))
        done = run.end()
    pieces.append(text[done:])
    return "".join(pieces)


def _split_run(textpage, text: str, start: int, end: int) -> str:
    import pypdfium2.raw as pdfium_c

    out = [text[start]]
    previous = textpage.get_charbox(start, loose=True)
    size = pdfium_c.FPDFText_GetFontSize(textpage, start) or (previous[3] - previous[1])
    for index in range(start + 1, end):
        box = textpage.get_charbox(index, loose=True)
        overlap = min(box[3], previous[3]) - max(box[1], previous[1])
        if overlap > 0.5 * (box[3] - box[1]) and box[0] - previous[2] > WORD_GAP_EM * size:
            out.append(" ")
        out.append(text[index])
        previous = box
    return "".join(out)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _load_docx(path: Path, name: str) -> list[Page]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    check_zip(path, name, ".docx").close()
    try:
        body = docx.Document(str(path)).element.body
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError, EOFError):
        raise DocumentError(name, "the file is not a valid Word document (it may be damaged, or not really a .docx)") from None
    rendered = any(True for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    pages: list[list[str]] = [[]]
    for block in body.iterchildren():
        if block.tag == f"{_W}p":
            _docx_paragraph(block, pages, rendered)
        elif block.tag == f"{_W}tbl":
            for row in block.iter(f"{_W}tr"):
                cells = ["".join(t.text or "" for t in cell.iter(f"{_W}t")) for cell in row.iter(f"{_W}tc")]
                pages[-1].append(" | ".join(cells))
    return [Page(i + 1, "\n".join(lines)) for i, lines in enumerate(pages)]


def _docx_paragraph(paragraph, pages: list[list[str]], rendered: bool) -> None:
    """Append a paragraph's text, starting new pages where Word (or the author) broke the page."""
    parts: list[str] = []
    for element in paragraph.iter():
        if element.tag == f"{_W}t":
            parts.append(element.text or "")
        elif element.tag == f"{_W}tab":
            parts.append("\t")
        elif element.tag in (f"{_W}br", f"{_W}cr"):
            is_page_break = element.get(f"{_W}type") == "page"
            if is_page_break and not rendered:
                pages[-1].append("".join(parts))
                parts = []
                pages.append([])
            else:
                parts.append("\n")
        elif element.tag == f"{_W}lastRenderedPageBreak" and rendered and (parts or pages[-1]):
            pages[-1].append("".join(parts))
            parts = []
            pages.append([])
    pages[-1].append("".join(parts))


def _load_text(path: Path, name: str) -> list[Page]:
    return [Page(i + 1, text) for i, text in enumerate(read_text(path, name).split("\f"))]


def _load_html(path: Path, name: str) -> list[Page]:
    """One page: the text :func:`rag.formats.base.read_html` reads (chrome dropped, table rows whole with their
    column labels), with its title and headings, which chunks take as their sections."""
    page = read_html(read_text(path, name))
    return [Page(1, page.text, headings=page.headings)]


_LOADERS: dict[str, Callable[..., list[Page]]] = {
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".md": _load_text,
    ".markdown": _load_text,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pptx": office.load_pptx,
    ".odt": office.load_odt,
    ".epub": office.load_epub,
    ".rtf": office.load_rtf,
    ".xlsx": sheets.load_workbook,
    ".xlsm": sheets.load_workbook,
    ".ods": sheets.load_workbook,
    ".csv": sheets.load_csv,
    ".tsv": sheets.load_csv,
    ".eml": mail.load_eml,
    **{suffix: ocr.load_image for suffix in ocr.IMAGE_SUFFIXES},
}
_PAGED = {".pdf", *ocr.IMAGE_SUFFIXES}  # loaders that report progress page by page (OCR)


def attachments(path: Path, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[mail.Attachment]:
    """The attachments of the e-mail at ``path`` that Folio reads, with their bytes (None over ``max_bytes``).

    A parse of an untrusted file like :func:`read_pages`: :func:`rag.sandbox.attachments_isolated`
    runs it in the limited worker.
    """
    check_file(path, name=name, max_bytes=max_bytes)
    if sniff(path) != ".eml":
        return []
    return mail.attachments(path, name=name, max_bytes=max_bytes, supported=is_supported)
