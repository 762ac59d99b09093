"""Files → :class:`~rag.documents.Document`: text per page, page numbers kept, words never run together.

One loader per format, chosen by extension unless the content says otherwise (a PDF or Word file
with the wrong extension, an HTML page saved as .txt is read for what it is). PDF text comes from
PDFium (``pypdfium2``), which keeps word boundaries on PDFs that place words by position without
space glyphs and is ~40x faster than pypdf on the manuals we measured (see ``bench/``). DOCX pages
follow Word's page breaks; Markdown, text and HTML are one page each (a form feed starts a new page
in plain text).

Files are untrusted: :func:`read_pages` is the part that parses them, and :mod:`rag.sandbox` runs it
in a child process with time and memory limits; :func:`check_file` (size, type, regular file) only
looks at the file's metadata and is safe anywhere. Word files that would unpack to more than
:data:`DOCX_UNPACKED_LIMIT` are refused before they are unpacked.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> _ = p.write_text("Depot hours are 6:00 to 22:00.")
>>> doc = load(p)
>>> doc.name, doc.page_count, doc.pages[0].text
('note.txt', 1, 'Depot hours are 6:00 to 22:00.')
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Callable

from rag.documents import Document, Page
from core.errors import DocumentError, UnsupportedFileError
from rag.language import detect

SUPPORTED_SUFFIXES = (".pdf", ".docx", ".md", ".markdown", ".txt", ".html", ".htm")
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DOCX_UNPACKED_LIMIT = 250_000_000  # what all parts of a .docx may add up to once unzipped
_TEXT_SUFFIXES = (".md", ".markdown", ".txt")
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
         sha256: str | None = None) -> Document:
    """Read one file into a :class:`Document`; raise :class:`DocumentError` with the reason when it can't be.

    ``sha256`` is the file's hash when the caller has it already (it is computed otherwise).
    """
    path = Path(path)
    name = name or path.name
    return document_from(path, name=name, pages=read_pages(path, name=name, max_bytes=max_bytes), sha256=sha256)


def check_file(path: Path, *, name: str, max_bytes: int) -> None:
    """Refuse, from its metadata alone, a file Folio should not open: unsupported, not a file, empty, too big."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            name, f"files of type '{suffix or 'without extension'}' are not supported (use PDF, DOCX, Markdown, text or HTML)")
    if not path.is_file():
        raise DocumentError(name, "the file does not exist or is not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(name, "the file is empty")
    if size > max_bytes:
        raise DocumentError(
            name, f"the file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit (raise FOLIO_MAX_FILE_MB to allow it)")


def read_pages(path: Path, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Page, ...]:
    """Parse one file into cleaned pages: the only step that reads an untrusted file's structure."""
    check_file(path, name=name, max_bytes=max_bytes)
    kind = sniff(path)
    pages = tuple(Page(p.number, clean(p.text)) for p in _LOADERS[kind](path, name))
    if not any(p.text.strip() for p in pages):
        if kind == ".pdf":
            raise DocumentError(name, "the PDF has no text layer (it looks scanned); run OCR on it first, e.g. 'ocrmypdf in.pdf out.pdf', and add the result")
        raise DocumentError(name, "the file contains no text")
    return pages


def document_from(path: Path, *, name: str, pages: tuple[Page, ...], sha256: str | None = None) -> Document:
    """The :class:`Document` of pages read from ``path``: its hash (unless given) and language added."""
    text = " ".join(p.text for p in pages)
    return Document(name=name, path=str(path), sha256=sha256 or sha256_of(path), pages=pages, language=detect(text))


def sniff(path: Path) -> str:
    """The format to read ``path`` as: its content's signature where it has one, else its extension.

    A PDF or a Word file keeps its format under any name; a .txt or .md file that is an HTML page is
    read as HTML. Only the first 2 KiB (and, for a zip, its list of parts) are looked at.
    """
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(2048)
    if b"%PDF-" in head[:1024]:
        return ".pdf"
    if head.startswith(b"PK\x03\x04") and suffix != ".docx" and _is_docx(path):
        return ".docx"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if suffix in _TEXT_SUFFIXES and start.startswith((b"<!doctype html", b"<html")):
        return ".html"
    return suffix


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _load_pdf(path: Path, name: str) -> list[Page]:
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
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            pages.append(Page(index + 1, _page_text(textpage)))
            textpage.close()
            page.close()
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

    _check_unpacked_size(path, name)
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


def _check_unpacked_size(path: Path, name: str) -> None:
    """Refuse a zip bomb by the sizes its directory declares (reading never goes past a declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise DocumentError(name, "the file is not a valid Word document (it may be damaged, or not really a .docx)") from None
    if unpacked > DOCX_UNPACKED_LIMIT:
        raise DocumentError(name, f"the Word document would unpack to {unpacked / 1e6:.0f} MB, over the "
                                  f"{DOCX_UNPACKED_LIMIT / 1e6:.0f} MB limit (it may be a zip bomb); save a smaller copy and add that")


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


def _read_text(path: Path, name: str) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentError(name, "the file says it is UTF-16 text but is not (it may be damaged)") from None
    if b"\x00" in data[:8192]:
        raise DocumentError(name, "the file is binary, not text (check its extension)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _load_text(path: Path, name: str) -> list[Page]:
    return [Page(i + 1, text) for i, text in enumerate(_read_text(path, name).split("\f"))]


def _load_html(path: Path, name: str) -> list[Page]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path, name), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "svg", "head", "iframe", "object"]):
        tag.decompose()
    body = soup.get_text("\n")
    return [Page(1, f"{title}\n\n{body}" if title else body)]


_LOADERS: dict[str, Callable[[Path, str], list[Page]]] = {
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".md": _load_text,
    ".markdown": _load_text,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
}


def discover(paths: list[Path]) -> list[Path]:
    """Expand folders into the supported files below them (hidden and ``_``-prefixed entries skipped).

    Files named explicitly are kept whatever their type, so an unsupported one is reported, not ignored.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                parts = child.relative_to(path).parts
                if any(part.startswith((".", "_")) for part in parts):
                    continue
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append(child)
        else:
            found.append(path)
    return found
