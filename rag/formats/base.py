"""What several loaders share: text decoding, HTML to text, the zip guard, a safe XML parser.

Office, OpenDocument and EPUB files are zip archives of XML parts. Every one of them is checked by
:func:`check_zip` before a library unpacks it: the sizes its directory declares must add up to at
most :data:`UNPACKED_LIMIT` (a zip bomb is refused before it is inflated; Python's ``zipfile``
never reads past a declared size, so a directory that lies ends in a CRC error, and the sandbox's
memory limit catches readers that trust the data instead). XML parts read here go through
:func:`xml_parser`: no entity expansion, no DTD loading, no network, libxml2's depth limits.

>>> zip_label(".pptx"), zip_label(".epub")
('PowerPoint presentation', 'EPUB book')
>>> html_text("<html><head><title>Fares</title></head><body><p>A day pass: 12 EUR.</p><script>x=1</script></body></html>")
'Fares\\n\\nA day pass: 12 EUR.'
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from core.errors import DocumentError

UNPACKED_LIMIT = 250_000_000  # what all parts of a zip-based document may add up to once unzipped
MAX_PARTS = 20_000  # entries in one archive (an EPUB has hundreds; millions only make the directory slow)
_LABELS = {".docx": "Word document", ".pptx": "PowerPoint presentation", ".xlsx": "Excel workbook",
           ".ods": "OpenDocument spreadsheet", ".odt": "OpenDocument text", ".epub": "EPUB book"}
_ODF_MIMETYPES = {b"application/vnd.oasis.opendocument.text": ".odt",
                  b"application/vnd.oasis.opendocument.spreadsheet": ".ods",
                  b"application/epub+zip": ".epub"}
_MARKER_PARTS = {"word/document.xml": ".docx", "ppt/presentation.xml": ".pptx", "xl/workbook.xml": ".xlsx"}


def zip_label(kind: str) -> str:
    """What a user calls a file of ``kind`` (its extension), for messages."""
    return _LABELS.get(kind, "file")


def not_valid(name: str, kind: str) -> DocumentError:
    """The one failure every zip-based loader gives for a file its library could not open."""
    return DocumentError(name, f"the file is not a valid {zip_label(kind)} (it may be damaged, or not really a {kind})")


def check_zip(path: Path, name: str, kind: str) -> zipfile.ZipFile:
    """Open ``path`` as a zip after checking its declared unpacked size; refuse a zip bomb or a non-zip.

    Returns the open archive (the caller closes it).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise not_valid(name, kind) from None
    infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    if unpacked > UNPACKED_LIMIT or len(infos) > MAX_PARTS:
        archive.close()
        size = f"{unpacked / 1e6:.0f} MB" if unpacked > UNPACKED_LIMIT else f"{len(infos):,} parts"
        limit = f"{UNPACKED_LIMIT / 1e6:.0f} MB" if unpacked > UNPACKED_LIMIT else f"{MAX_PARTS:,}-part"
        raise DocumentError(name, f"the {zip_label(kind)} would unpack to {size}, over the {limit} limit "
                                  f"(it may be a zip bomb); save a smaller copy and add that")
    return archive


def zip_kind(path: Path) -> str | None:
    """Which zip-based format ``path`` is, by its parts (``'.docx'``, ``'.pptx'``, ``'.xlsx'``,
    ``'.odt'``, ``'.ods'``, ``'.epub'``), or None. Reads the directory and at most 80 bytes of one part."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for part, kind in _MARKER_PARTS.items():
                if part in names:
                    return kind
            if "mimetype" in names:
                with archive.open("mimetype") as handle:
                    return _ODF_MIMETYPES.get(handle.read(80).strip())
            if "META-INF/container.xml" in names:
                return ".epub"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, NotImplementedError, RuntimeError):
        return None
    return None


def read_part(archive: zipfile.ZipFile, part: str, *, name: str, kind: str) -> bytes:
    """One part of an opened archive, never inflated past its declared size (``ZipFile.read`` inflates
    a lying part whole before it cuts it); a damaged, missing or lying part is an invalid file."""
    try:
        info = archive.getinfo(part)
        with archive.open(info) as handle:
            data = handle.read(info.file_size)
            if handle.read(1):
                raise zipfile.BadZipFile("more data than declared")
        return data
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise not_valid(name, kind) from None


def xml_parser():
    """An lxml parser that expands no entity, loads no DTD, fetches nothing and keeps libxml2's limits."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def read_text(path: Path, name: str) -> str:
    """A text file's content: UTF-16 by its byte-order mark, else UTF-8, else Windows-1252; binary refused."""
    return decode_text(path.read_bytes(), name)


def decode_text(data: bytes, name: str) -> str:
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


_BLOCKS = {"p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "blockquote", "pre",
           "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr", "table", "ul", "ol", "dl", "figure",
           "figcaption", "caption", "hr", "address", "body", "br", "tbody", "thead"}
_HIDDEN = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "title"}
_WHITESPACE = re.compile(r"\s+")


def html_text(markup: str | bytes) -> str:
    """The visible text of an HTML page: title first, a line per block, cells of a row joined by `` | ``.

    Scripts, styles and other non-text parts are dropped; inline markup (``<b>``, ``<a>``) and the
    line breaks of the source never break a line. The tree is walked without recursion, so a page
    nested 100,000 deep is read like any other. Python's ``html.parser`` never expands entities a
    document defines, nor fetches anything.
    """
    from bs4 import BeautifulSoup, NavigableString
    from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction, Tag

    skipped_strings = (Comment, Declaration, Doctype, ProcessingInstruction)
    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    out: list[str] = []
    stack: list[tuple[object, bool]] = [(soup, False)]
    pre = 0
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, skipped_strings) or isinstance(node, CData):
                out.append(str(node) if pre else _WHITESPACE.sub(" ", str(node)))
            continue
        if not isinstance(node, Tag) or node.name in _HIDDEN:
            continue
        if leaving:
            if node.name in ("td", "th"):
                out.append(" | ")
            elif node.name in _BLOCKS:
                out.append("\n")
            pre -= node.name == "pre"
            continue
        if node.name in _BLOCKS:
            out.append("\n")
        pre += node.name == "pre"
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    lines = (line.strip().removesuffix(" |").strip() for line in "".join(out).split("\n"))
    body = "\n".join(line for line in lines if line)
    return f"{title}\n\n{body}" if title else body
