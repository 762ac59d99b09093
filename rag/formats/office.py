"""PowerPoint, OpenDocument text, EPUB and RTF → pages.

Page mapping, so that a citation points where a reader looks:

- **PowerPoint** (``python-pptx``): a slide is a page, numbered as PowerPoint numbers slides. Its
  title first, then every text frame, table (one row a line, cells joined by `` | ``) and group, top
  to bottom and left to right, then the speaker notes. python-pptx is the maintained reader of the
  format and parses its XML with entity resolution off.
- **OpenDocument text**: pages follow LibreOffice's ``text:soft-page-break`` marks (where it laid
  the pages out when it last saved the file), or, in a file that has none, the explicit page breaks
  of paragraph styles (``fo:break-before/after="page"``), as Word files follow theirs. The text is
  one XML part, read here with lxml (already used for Word files) through the safe parser of
  :mod:`rag.formats.base`; odfpy (no release since 2020, a DOM built in Python) or odfdo would only
  open the zip for us, and the walk over paragraphs, tables and page breaks would be the same.
- **EPUB** (``ebooklib``, parses the package with entity resolution off): a chapter — each XHTML
  document of the reading order (the spine) — is a page, in reading order; its text comes through
  the same HTML-to-text as .html files.
- **RTF** (``striprtf``, pure Python, skips embedded pictures and binary groups): ``\\page``
  control words start new pages; otherwise the document is one page.

>>> _rtf_pages(r"{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 First page.\\par\\page Second page.\\par}")
['First page.\\n', 'Second page.\\n']
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

from rag.documents import Page
from core.errors import DocumentError
from rag.formats.base import check_zip, html_text, not_valid, read_part, xml_parser


# -- PowerPoint ----------------------------------------------------------------------------------
def load_pptx(path: Path, name: str) -> list[Page]:
    import pptx
    from lxml.etree import XMLSyntaxError
    from pptx.exc import PackageNotFoundError

    check_zip(path, name, ".pptx").close()
    try:
        presentation = pptx.Presentation(str(path))
        return [Page(number, _slide_text(slide)) for number, slide in enumerate(presentation.slides, 1)]
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError, EOFError, AttributeError,
            TypeError):
        raise not_valid(name, ".pptx") from None


def _slide_text(slide) -> str:
    lines: list[str] = []
    title = slide.shapes.title
    if title is not None and title.has_text_frame and title.text_frame.text.strip():
        lines.append(title.text_frame.text)
    _shapes_text(slide.shapes, lines, skip=title.shape_id if title is not None else None)
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            lines.append(f"Notes: {notes.text}")
    return "\n".join(lines)


def _shapes_text(shapes, lines: list[str], *, skip: int | None = None) -> None:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    def position(shape) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=position):
        if skip is not None and shape.shape_id == skip:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            _shapes_text(shape.shapes, lines)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                lines.append(" | ".join(cell.text.replace("\n", " ") for cell in row.cells))
        elif shape.has_text_frame and shape.text_frame.text.strip():
            lines.append(shape.text_frame.text)


# -- OpenDocument text ---------------------------------------------------------------------------
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_WS = re.compile(r"\s+")
_SKIPPED = {f"{_TEXT}tracked-changes", f"{_TEXT}sequence-decls", f"{_OFFICE}forms", f"{_TEXT}variable-decls",
            f"{_OFFICE}annotation-end"}


def load_odt(path: Path, name: str) -> list[Page]:
    from lxml import etree

    with check_zip(path, name, ".odt") as archive:
        content = read_part(archive, "content.xml", name=name, kind=".odt")
        styles = read_part(archive, "styles.xml", name=name, kind=".odt") if "styles.xml" in archive.namelist() else b""
    try:
        root = etree.fromstring(content, xml_parser())
        style_roots = [root] + ([etree.fromstring(styles, xml_parser())] if styles else [])
    except (etree.XMLSyntaxError, ValueError):
        raise not_valid(name, ".odt") from None
    body = root.find(f"{_OFFICE}body/{_OFFICE}text")
    if body is None:
        raise not_valid(name, ".odt")
    soft = next(body.iter(f"{_TEXT}soft-page-break"), None) is not None
    before, after = (set(), set()) if soft else _page_break_styles(style_roots)
    walker = _OdtWalker(soft=soft, before=before, after=after)
    walker.walk(body)
    return [Page(number, text) for number, text in enumerate(walker.pages(), 1)]


def _page_break_styles(roots) -> tuple[set[str], set[str]]:
    """Names of paragraph styles that start (``before``) or end (``after``) a page, parents followed."""
    parent: dict[str, str] = {}
    own: dict[str, tuple[bool, bool]] = {}
    for root in roots:
        for style in root.iter(f"{_STYLE}style"):
            style_name = style.get(f"{_STYLE}name")
            if not style_name:
                continue
            if style.get(f"{_STYLE}parent-style-name"):
                parent[style_name] = style.get(f"{_STYLE}parent-style-name")
            props = style.find(f"{_STYLE}paragraph-properties")
            if props is not None:
                own[style_name] = (props.get(f"{_FO}break-before") == "page", props.get(f"{_FO}break-after") == "page")

    def breaks(style_name: str) -> tuple[bool, bool]:
        for _ in range(50):  # a parent chain that loops ends here
            if style_name in own:
                return own[style_name]
            if style_name not in parent:
                break
            style_name = parent[style_name]
        return (False, False)

    names = set(own) | set(parent)
    return {n for n in names if breaks(n)[0]}, {n for n in names if breaks(n)[1]}


class _OdtWalker:
    """Collects the text of an ODF body in document order, starting a page at each page break."""

    def __init__(self, *, soft: bool, before: set[str], after: set[str]) -> None:
        self.soft, self.before, self.after = soft, before, after
        self._pages: list[list[str]] = [[]]

    def pages(self) -> list[str]:
        return ["".join(parts) for parts in self._pages]

    def _break(self) -> None:
        if "".join(self._pages[-1]).strip():
            self._pages.append([])

    def _add(self, text: str | None, *, raw: bool = False) -> None:
        """Append text; ODF collapses whitespace in text (``text:s``, tabs and line breaks are ``raw``)."""
        if text:
            self._pages[-1].append(text if raw else _WS.sub(" ", text))

    def walk(self, element) -> None:
        tag = element.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            return
        style = element.get(f"{_TEXT}style-name")
        if tag == f"{_TEXT}soft-page-break":
            if self.soft:
                self._break()
            return
        if tag in (f"{_TEXT}p", f"{_TEXT}h") and style in self.before:
            self._break()
        if tag == f"{_TABLE}table-row":
            self._add(" | ".join(_flat_text(cell) for cell in element.iter(f"{_TABLE}table-cell")) + "\n", raw=True)
            return
        if tag == f"{_TEXT}s":
            count = element.get(f"{_TEXT}c", "1")
            self._add(" " * (min(int(count), 100) if count.isdigit() else 1), raw=True)
        elif tag == f"{_TEXT}tab":
            self._add("\t", raw=True)
        elif tag == f"{_TEXT}line-break":
            self._add("\n", raw=True)
        self._add(element.text)
        for child in element:
            self.walk(child)
            self._add(child.tail)
        if tag in (f"{_TEXT}p", f"{_TEXT}h"):
            self._add("\n", raw=True)
            if style in self.after:
                self._break()


def _flat_text(element) -> str:
    return " ".join(" ".join(element.itertext()).split())


# -- EPUB ----------------------------------------------------------------------------------------
def load_epub(path: Path, name: str) -> list[Page]:
    import ebooklib
    from ebooklib import epub
    from lxml.etree import LxmlError

    check_zip(path, name, ".epub").close()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(str(path), options={"ignore_ncx": True})
        chapters = []
        for idref, _linear in book.spine:
            item = book.get_item_with_id(idref)
            if item is not None and item.get_type() == ebooklib.ITEM_DOCUMENT:
                chapters.append(item.get_content())
    except (epub.EpubException, zipfile.BadZipFile, KeyError, ValueError, LxmlError, EOFError, AttributeError,
            TypeError, IndexError):
        raise not_valid(name, ".epub") from None
    if not chapters:
        raise DocumentError(name, "the EPUB book has no chapters in its reading order (it may be damaged)")
    return [Page(number, html_text(markup)) for number, markup in enumerate(chapters, 1)]


# -- RTF -----------------------------------------------------------------------------------------
_PAGE = re.compile(rb"\\page(?![a-zA-Z])-?\d* ?")


def load_rtf(path: Path, name: str) -> list[Page]:
    data = path.read_bytes()
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        raise DocumentError(name, "the file is not a valid RTF document (it does not start with '{\\rtf')")
    try:
        pages = _rtf_pages(data.decode("latin-1"))
    except (ValueError, IndexError, LookupError, RecursionError):
        raise DocumentError(name, "the RTF document is damaged (its text could not be read); re-save it") from None
    return [Page(number, text) for number, text in enumerate(pages, 1)]


def _rtf_pages(rtf: str) -> list[str]:
    """The text of an RTF document, one string per page (``\\page`` becomes a form feed, then a split)."""
    from striprtf.striprtf import rtf_to_text

    marked = _PAGE.sub(rb"\\'0c", rtf.encode("latin-1")).decode("latin-1")
    return rtf_to_text(marked, errors="replace").split("\f")
