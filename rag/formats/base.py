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
from dataclasses import dataclass
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
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LAYOUT = {*_HEADINGS, "table", "ul", "ol", "dl", "pre"}  # a row or a definition holding one of these is laid out, not read as a line
_LANDMARKS = {"article", "aside", "main", "nav", "section"}  # a <header>/<footer> inside one of these is content
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search"}
_CHROME_CLASSES = {"navheader", "navfooter", "navbar", "breadcrumb", "breadcrumbs", "skip-link"}
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class HtmlText:
    """An HTML page read for retrieval: its ``text``, and its ``headings`` (the title first), each a whole line of it."""

    text: str
    headings: tuple[str, ...] = ()


def html_text(markup: str | bytes) -> str:
    """The visible text of an HTML page (see :func:`read_html`)."""
    return read_html(markup).text


def read_html(markup: str | bytes) -> HtmlText:
    """The visible text of an HTML page, read so that each passage of it can stand alone.

    - The title comes first (a blank line after it); each block (paragraph, list item, heading) is a line.
    - A table row is one line, its cells joined by `` | ``; below a header row (``<thead>``, or a
      first row of ``<th>`` cells), each cell carries its column's label: ``Tool: fdisk | Purpose: …``.
      A row whose cells hold headings, lists or tables is page layout: its blocks are read as lines.
    - A definition (``<dt>`` and its ``<dd>``) is one line, ``term: definition``, unless it holds lists or tables.
    - Navigation chrome is dropped: ``<nav>``, the page's own ``<header>``/``<footer>`` (not an
      article's), ARIA navigation/banner/contentinfo/search roles, DocBook's ``navheader``/``navfooter``
      Prev/Next tables and breadcrumbs. Scripts, styles and other non-text parts too.

    Inline markup (``<b>``, ``<a>``) and the line breaks of the source never break a line. The tree
    is walked without recursion, so a page nested 100,000 deep is read like any other. Python's
    ``html.parser`` never expands entities a document defines, nor fetches anything.

    >>> page = read_html("<title>Tools</title><div class='navheader'><a href='a.html'>Prev</a></div>"
    ...                  "<h2>Partitioning</h2><table><tr><th>Tool</th><th>Purpose</th></tr>"
    ...                  "<tr><td>fdisk</td><td>partitions a <b>disk</b></td></tr></table>"
    ...                  "<dl><dt>noshell</dt><dd><p>No shells.</p></dd></dl>")
    >>> print(page.text)
    Tools
    <BLANKLINE>
    Partitioning
    Tool | Purpose
    Tool: fdisk | Purpose: partitions a disk
    noshell: No shells.
    >>> page.headings
    ('Tools', 'Partitioning')
    """
    from bs4 import BeautifulSoup, NavigableString
    from bs4.element import Tag

    soup = BeautifulSoup(markup, "html.parser")
    title = _WHITESPACE.sub(" ", soup.title.get_text(" ")).strip() if soup.title else ""
    out: list[str] = []
    headings: list[str] = [title] if title else []
    heading_at: list[int] = []  # where in ``out`` the heading being read began
    headers: dict[int, tuple[object, list[str]] | None] = {}  # a table's header row and column labels, by id
    stack: list[tuple[object, bool]] = [(soup, False)]
    pre = 0
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if _is_text(node):
                out.append(str(node) if pre else _WHITESPACE.sub(" ", str(node)))
            continue
        if not isinstance(node, Tag) or node.name in _HIDDEN:
            continue
        if leaving:
            if node.name in _HEADINGS:
                heading = _WHITESPACE.sub(" ", "".join(out[heading_at.pop():])).strip()
                if heading:
                    headings.append(heading)
            if node.name in ("td", "th"):
                out.append(" | ")
            elif node.name in _BLOCKS:
                out.append("\n")
            pre -= node.name == "pre"
            continue
        if _is_chrome(node):
            continue
        if node.name == "tr" and not _holds_layout(node):
            table = node.find_parent("table")
            if id(table) not in headers:
                headers[id(table)] = _header(table)
            out.append("\n" + _row_line(node, headers[id(table)]) + "\n")
            continue
        if node.name == "dt" and not _holds_layout(node):
            out.append("\n" + _flat_text(node))
            continue
        if node.name == "dd" and not _holds_layout(node):
            term = node.find_previous_sibling(True)
            if term is not None and term.name in ("dt", "dd") and not _holds_layout(term):
                text = _flat_text(node)
                while text and out and out[-1].isspace():  # the source's line break between </dt> and <dd>
                    out.pop()
                out.append(((": " if term.name == "dt" else "; ") + text) if text else "")
                continue
        if node.name in _BLOCKS:
            out.append("\n")
        if node.name in _HEADINGS:
            heading_at.append(len(out))
        pre += node.name == "pre"
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    lines = (line.strip().removeprefix("|").removesuffix("|").strip()  # a cell's bar beside a laid-out block
             for line in "".join(out).split("\n"))
    body = "\n".join(line for line in lines if line)
    return HtmlText(text=f"{title}\n\n{body}" if title and body else title or body, headings=tuple(headings))


def _is_text(node) -> bool:
    """A string of the page that is shown (not a comment, a doctype or a processing instruction)."""
    from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

    return not isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)) or isinstance(node, CData)


def _is_chrome(tag) -> bool:
    """Whether ``tag`` is the site's navigation rather than the page's content (see :func:`read_html`)."""
    if tag.name == "nav":
        return True
    if tag.name in ("header", "footer") and tag.find_parent(_LANDMARKS) is None:
        return True
    if str(tag.get("role", "")).lower() in _CHROME_ROLES:
        return True
    classes = tag.get("class") or ()
    if any(str(c).lower() in _CHROME_CLASSES for c in classes):
        return True
    return tag.name == "table" and str(tag.get("summary", "")).lower().startswith("navigation")


def _holds_layout(tag) -> bool:
    return tag.find(_LAYOUT) is not None


def _flat_text(tag) -> str:
    """The shown text of ``tag`` on one line (its blocks joined by spaces), without recursion."""
    from bs4 import NavigableString
    from bs4.element import Tag

    parts: list[str] = []
    stack = [tag]
    while stack:
        node = stack.pop()
        if isinstance(node, NavigableString):
            if _is_text(node):
                parts.append(str(node))
        elif isinstance(node, Tag) and node.name not in _HIDDEN:
            if node.name in _BLOCKS:
                parts.append(" ")
            stack.extend(reversed(node.contents))
    return _WHITESPACE.sub(" ", "".join(parts)).strip()


def _cells(row) -> list:
    return [cell for cell in row.find_all(("td", "th"), recursive=False)]


def _rows(table) -> list:
    """The rows of ``table`` itself (in its ``thead``/``tbody``/``tfoot`` or directly), not of tables inside it."""
    rows = []
    for child in table.find_all(recursive=False):
        if child.name == "tr":
            rows.append(child)
        elif child.name in ("thead", "tbody", "tfoot"):
            rows.extend(child.find_all("tr", recursive=False))
    return rows


def _span(cell) -> int:
    try:
        return max(1, min(int(str(cell.get("colspan", 1)).strip() or 1), 100))
    except ValueError:
        return 1


def _header(table) -> tuple[object, list[str]] | None:
    """A table's header row (its ``<thead>``'s, or a first row all ``<th>``) and each column's label, or None."""
    if table is None:
        return None
    rows = _rows(table)
    head = next((row for row in rows if row.parent is not None and row.parent.name == "thead"), None)
    if head is None and rows:
        cells = _cells(rows[0])
        if len(cells) >= 2 and all(cell.name == "th" for cell in cells):
            head = rows[0]
    if head is None:
        return None
    labels: list[str] = []
    for cell in _cells(head):
        labels.extend([_flat_text(cell)] * _span(cell))
    return (head, labels) if any(labels) else None


def _row_line(row, header: tuple[object, list[str]] | None) -> str:
    """A table row as one line: ``label: cell | label: cell`` below a header row, else ``cell | cell``."""
    cells = _cells(row)
    texts = [_flat_text(cell) for cell in cells]
    if header is None or row is header[0]:
        return " | ".join(text for text in texts if text)
    labels, parts, column = header[1], [], 0
    for cell, text in zip(cells, texts):
        label = labels[column] if column < len(labels) else ""
        column += _span(cell)
        if text:
            parts.append(f"{label}: {text}" if label and label != text else text)
    return " | ".join(parts)

