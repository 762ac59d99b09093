"""The records that flow through the pipeline: pages, documents, chunks and passages.

>>> doc = Document(name="guide.pdf", path="/tmp/guide.pdf", sha256="ab" * 32,
...                pages=(Page(1, "Hello"), Page(2, "World")), language="en")
>>> doc.doc_id, doc.page_count, doc.char_count
('d-e39cbcf44f', 2, 10)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

LANGUAGES = ("en", "fr", "de", "es", "it")


def doc_id_for(name: str) -> str:
    """A document's id: stable for its file name within a collection (re-ingesting it replaces it)."""
    return "d-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Page:
    """One page of text; ``number`` is 1-based as printed on a PDF viewer's page counter.

    ``ocr`` marks a page whose text Tesseract read from an image (a scanned PDF page, a photo, a
    TIFF frame), so citations can say so: its words may be misread. ``headings`` are the page's
    title and section headings, in order, each a whole line of ``text`` (an HTML page's; none for
    formats that do not mark them): :mod:`rag.chunking` gives each chunk the one it falls under.
    """

    number: int
    text: str
    ocr: bool = False
    headings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A loaded file: its pages with text, where it came from and what language it is in."""

    name: str
    path: str
    sha256: str
    pages: tuple[Page, ...]
    language: str = "unknown"
    doc_id: str = field(default="")
    origin: str = ""    # the watched folder it comes from ('' when added by hand)
    size: int = 0       # the file's size and mtime when it was read (before it was hashed)
    mtime_ns: int = 0

    def __post_init__(self) -> None:
        if not self.doc_id:
            object.__setattr__(self, "doc_id", doc_id_for(self.name))

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def char_count(self) -> int:
        return sum(len(p.text) for p in self.pages)


@dataclass(frozen=True)
class Chunk:
    """A piece of one page that is embedded and indexed; ``start``/``end`` are offsets in the page text.

    ``text`` is what is shown and quoted (exactly the page text between ``start`` and ``end``);
    ``section`` is the title of the section it falls under ('' when the page has none), and
    :attr:`indexed_text` (both together) is what is embedded and keyword-indexed, so a passage is
    found by its section's words too:

    >>> Chunk("d-1", "guide.html", 1, 40, 70, "fdisk: partitions a disk", "en", 3, "ab" * 32,
    ...       section="6.3. Partitioning Tools").indexed_text
    '6.3. Partitioning Tools\\nfdisk: partitions a disk'
    """

    doc_id: str
    source: str
    page: int
    start: int
    end: int
    text: str
    language: str
    index: int
    sha256: str
    ocr: bool = False  # the page was read by OCR (see Page.ocr)
    section: str = ""  # the heading it falls under, or the page's title (see Page.headings)

    @property
    def indexed_text(self) -> str:
        """``section`` and ``text`` on two lines (just ``text`` when it has no section or starts with it)."""
        if not self.section or self.text.startswith(self.section):
            return self.text
        return f"{self.section}\n{self.text}"

    @property
    def chunk_id(self) -> str:
        return chunk_id_for(self.doc_id, self.sha256, self.index)


def chunk_id_for(doc_id: str, sha256: str, index: int) -> str:
    """Chunk ids carry the document version, so a replacement never collides with the old chunks."""
    return f"{doc_id}:{sha256[:12]}:{index}"


@dataclass(frozen=True)
class Passage:
    """A chunk found by a search, with its score (higher is better)."""

    chunk: Chunk
    score: float

    @property
    def source(self) -> str:
        return self.chunk.source

    @property
    def page(self) -> int:
        return self.chunk.page

    @property
    def text(self) -> str:
        return self.chunk.text

    def as_dict(self) -> dict:
        return {"source": self.source, "page": self.page, "text": self.text, "score": round(self.score, 4),
                "doc_id": self.chunk.doc_id, "language": self.chunk.language, "ocr": self.chunk.ocr}


@dataclass(frozen=True)
class Source:
    """A passage as the ``n``-th numbered source of an answer: what the prompt shows and the answer cites.

    >>> chunk = Chunk("d-1", "guide.pdf", 2, 0, 24, "Depots open at six a.m.", "en", 0, "ab" * 32)
    >>> [s.label for s in Source.numbered([Passage(chunk, 0.71)])]
    ['[1] guide.pdf, p. 2']
    """

    n: int
    source: str
    page: int
    text: str
    score: float
    doc_id: str
    ocr: bool = False  # the page's text was read from an image: it may hold misread words

    @classmethod
    def numbered(cls, passages) -> list["Source"]:
        """``passages`` (in prompt order) as sources numbered from 1."""
        return [cls(n=i, source=p.source, page=p.page, text=p.text, score=round(p.score, 4), doc_id=p.chunk.doc_id,
                    ocr=p.chunk.ocr) for i, p in enumerate(passages, 1)]

    @property
    def label(self) -> str:
        return f"[{self.n}] {self.source}, p. {self.page}"

    def as_dict(self) -> dict:
        return asdict(self)
