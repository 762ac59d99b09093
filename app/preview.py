"""The cited page, with the passage the answer used highlighted.

For a PDF whose file is still where it was added from (and unchanged), the page is rendered with
PDFium and the passage's text rectangles are painted over it: the whole passage in light yellow,
the sentences that support the answer in orange. For other formats, or when the file is gone, the
page's indexed text is shown with the same two highlights, escaped first and then marked.

Finding the passage on the page ignores whitespace and case: the indexed text went through
:func:`rag.loading.clean` (and, for PDFs, spaces were inserted between run-together words), so it
differs from PDFium's raw text in spacing only.

>>> locate("Depot  hours:\\r\\nsix to ten.", "hours: six to")
(7, 21)
>>> page_html("Open at six. <b>Closed</b> on Sunday.", passage="<b>Closed</b> on Sunday.", spans=["Open at six."])
"<mark class='folio-span'>Open at six.</mark> <mark class='folio-passage'>&lt;b&gt;Closed&lt;/b&gt; on Sunday.</mark>"
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.i18n import t
from app.ui_render import escape_html, page_label
from rag.documents import Source

PREVIEW_WIDTH_PX = 900
PASSAGE_FILL = (255, 235, 59, 80)    # light yellow: the passage given to the model
SPAN_FILL = (255, 152, 0, 120)       # orange: the sentence that supports the answer
WINDOW_RATIO = 0.55                  # the preview shows a band of the page this high (of its width)
MARGIN_PX = 60                       # context kept above and below the highlights
EDGE_CHARS = 60                      # a long passage is found by its first and last characters
WINDOW_CHARS = 2500                  # text shown around the passage in a long page
_SKIPPED = re.compile(r"[\s\ufffe\x02\u00ad]")


@dataclass(frozen=True)
class PagePreview:
    """What the preview shows: an image of a PDF page (or None) and HTML (the page text, or a caption)."""

    image: object | None
    html: str
    found: bool


# -- finding a passage in a page's text ---------------------------------------------------------
def _squeezed(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace, lower-cased, and the index in ``text`` of each remaining character."""
    kept = [(i, c) for i, c in enumerate(text) if not _SKIPPED.match(c)]
    return "".join(c for _, c in kept).lower(), [i for i, _ in kept]


def locate(haystack: str, needle: str, *, start: int = 0) -> tuple[int, int] | None:
    """Where ``needle`` is in ``haystack`` (whitespace and case ignored), as (start, end) offsets; None if absent.

    A long needle that is not found whole (text merged from overlapping chunks, a page header in
    between) is found by its first and last ``EDGE_CHARS`` characters.
    """
    flat, where = _squeezed(haystack)
    target, _ = _squeezed(needle)
    if not target:
        return None
    offset = next((n for n, i in enumerate(where) if i >= start), len(where))
    at = flat.find(target, offset)
    if at >= 0:
        return where[at], where[at + len(target) - 1] + 1
    if len(target) <= 2 * EDGE_CHARS:
        return None
    head, tail = target[:EDGE_CHARS], target[-EDGE_CHARS:]
    first = flat.find(head, offset)
    if first < 0:
        return None
    last = flat.find(tail, first + len(head))
    end = last + len(tail) if last >= 0 and last - first < 3 * len(target) else first + len(head)
    return where[first], where[end - 1] + 1


# -- text preview -------------------------------------------------------------------------------
def page_html(text: str, *, passage: str, spans: list[str] = ()) -> str:
    """The page text, escaped, with the passage and the supporting spans marked (a window around a long page)."""
    where = locate(text, passage)
    marks: list[tuple[int, int, str]] = []
    if where:
        marks.append((*where, "folio-passage"))
    for span in spans:
        found = locate(text, span, start=where[0] if where else 0) or locate(text, span)
        if found:
            marks.append((*found, "folio-span"))
    begin, end = 0, len(text)
    if len(text) > 2 * WINDOW_CHARS:
        anchor = where[0] if where else 0
        begin = max(0, anchor - WINDOW_CHARS // 4)
        end = min(len(text), begin + 2 * WINDOW_CHARS)
    bounds = sorted({begin, end, *(max(begin, min(end, b)) for s, e, _ in marks for b in (s, e))})
    out = ["… " if begin else ""]
    for left, right in zip(bounds, bounds[1:]):
        classes = [c for s, e, c in marks if s <= left and right <= e]
        piece = escape_html(text[left:right])
        css = "folio-span" if "folio-span" in classes else classes[0] if classes else None
        out.append(f"<mark class='{css}'>{piece}</mark>" if css else piece)
    out.append(" …" if end < len(text) else "")
    return "".join(out)


def stitched_page(chunks: list) -> str:
    """A page's indexed text rebuilt from its chunks' offsets (gaps between chunks were whitespace)."""
    if not chunks:
        return ""
    chars = [" "] * max(c.end for c in chunks)
    for chunk in chunks:
        chars[chunk.start:chunk.start + len(chunk.text)] = chunk.text
    return "".join(chars).strip()


# -- PDF preview --------------------------------------------------------------------------------
def pdf_page_image(path: Path, page_number: int, *, passage: str, spans: list[str] = ()):
    """The page rendered as a PIL image with the passage and spans painted; (image, found) or None if no such page."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page_number <= len(pdf):
            return None
        page = pdf[page_number - 1]
        textpage = page.get_textpage()
        try:
            scale = max(0.5, min(3.0, PREVIEW_WIDTH_PX / max(1.0, page.get_width())))
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil().convert("RGBA")
            convert = bitmap.get_posconv(page)
            overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
            draw = ImageDraw.Draw(overlay)
            passage_range = _char_range(textpage, passage)
            ranges = [(passage_range, PASSAGE_FILL)] if passage_range else []
            for span in spans:
                found = _char_range(textpage, span)
                if found:
                    ranges.append((found, SPAN_FILL))
            painted: list[int] = []
            for (start, end), fill in ranges:
                for left, bottom, right, top in _rects(textpage, start, end):
                    x0, y0 = convert.to_bitmap(left, top)
                    x1, y1 = convert.to_bitmap(right, bottom)
                    draw.rectangle([min(x0, x1) - 1, min(y0, y1) - 1, max(x0, x1) + 1, max(y0, y1) + 1], fill=fill)
                    painted += [min(y0, y1), max(y0, y1)]
            image = Image.alpha_composite(image, overlay).convert("RGB")
            return _around(image, painted), bool(passage_range)
        finally:
            textpage.close()
            page.close()
    finally:
        pdf.close()


def _around(image, rows: list[int]):
    """The part of the page around the highlighted rows (the whole width, about a screen high)."""
    height = int(image.width * WINDOW_RATIO)
    if image.height <= height:
        return image
    if not rows:
        return image.crop((0, 0, image.width, height))
    top, bottom = min(rows), max(rows)
    height = max(height, bottom - top + 2 * MARGIN_PX)
    start = max(0, min(image.height - height, (top + bottom) // 2 - height // 2))
    return image.crop((0, start, image.width, min(image.height, start + height)))


def _char_range(textpage, needle: str) -> tuple[int, int] | None:
    """The range of PDFium character indices holding ``needle`` on the page."""
    raw = textpage.get_text_range()
    if len(raw) == textpage.count_chars():
        return locate(raw, needle)
    # Characters and text disagree (surrogate pairs): fall back to PDFium's own search for the head.
    head = " ".join(needle.split())[:EDGE_CHARS]
    found = textpage.search(head, match_case=False).get_next() if head else None
    return (found[0], found[0] + found[1]) if found else None


def _rects(textpage, start: int, end: int) -> list[tuple[float, float, float, float]]:
    count = textpage.count_rects(start, end - start)
    return [textpage.get_rect(i) for i in range(count)]


_HASHES: dict[tuple[str, int, int], str] = {}


def _unchanged(path: Path, sha256: str) -> bool:
    """Whether the file at ``path`` still holds the indexed content (hash cached by size and mtime)."""
    from rag.loading import sha256_of

    try:
        stat = path.stat()
    except OSError:
        return False
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = sha256_of(path)
    return _HASHES[key] == sha256


# -- the preview of one source -------------------------------------------------------------------
def preview_source(*, record, source: Source, spans: list[str], chunks_of_page, language: str = "en") -> PagePreview:
    """The preview of ``source`` of the document ``record`` (None: it was removed since).

    ``chunks_of_page()`` returns the page's indexed chunks; it is only called for the text preview.
    """
    head = page_label(source, language=language)
    if record is None:
        return PagePreview(None, f"<p class='folio-muted'>{escape_html(head)}: {escape_html(t(language, 'preview_gone'))}"
                                 f"</p><div class='folio-page'>{escape_html(source.text)}</div>", False)
    path = Path(record.path)
    note = ""
    if path.suffix.lower() == ".pdf":
        if path.is_file() and os.access(path, os.R_OK) and _unchanged(path, record.sha256):
            rendered = pdf_page_image(path, source.page, passage=source.text, spans=spans)
            if rendered is not None:
                image, found = rendered
                caption = t(language, "preview_highlighted" if found else "preview_not_located")
                return PagePreview(image, f"<p class='folio-muted'>{escape_html(head)}: {escape_html(caption)}</p>", found)
        note = ": " + t(language, "preview_changed")
    text = stitched_page(chunks_of_page())
    if not text:
        text = source.text
    body = page_html(text, passage=source.text, spans=spans)
    return PagePreview(None, f"<p class='folio-muted'>{escape_html(head + note)}</p><div class='folio-page'>{body}</div>",
                       "<mark" in body)
