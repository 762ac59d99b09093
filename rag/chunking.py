"""Document → chunks sized in the embedder's tokens, with overlap; each keeps its page, offsets and section.

Chunks never cross a page, so every passage cites exactly one page. Splitting is
langchain-text-splitters' ``RecursiveCharacterTextSplitter`` (blank lines, then lines, then
sentences, then words), measured with the embedder's tokenizer. A piece that fits is never split,
so a line (a table row as the HTML reader writes it, with its column labels) stays whole. Chunks are
not cut at each heading: on the real set (``bench/bench_retrieval_real.py``) a blank line before each
heading made more, smaller chunks and lost same-language hit@1 (0.51 against 0.54); the section
title, added to what is indexed, does the work instead.

Each chunk knows its *section*: the nearest heading above its start on the page (the page's
title before the first heading; see :attr:`rag.documents.Page.headings`). It is what
:attr:`rag.documents.Chunk.indexed_text` adds to the text that is embedded and keyword-indexed.

>>> from rag.documents import Document, Page
>>> doc = Document(name="a.txt", path="a.txt", sha256="0" * 64, language="en",
...                pages=(Page(1, "First page."), Page(2, "Second page. " * 40)))
>>> chunks = chunk_document(doc, token_length=lambda t: len(t.split()), chunk_tokens=30, overlap_tokens=5)
>>> [(c.page, c.start) for c in chunks][:3]
[(1, 0), (2, 0), (2, 195)]
>>> doc.pages[1].text[chunks[2].start:chunks[2].end] == chunks[2].text
True
>>> page = Page(1, "Tools\\n\\nPartitioning\\nfdisk edits tables.\\nBooting\\nGRUB loads Linux.",
...             headings=("Tools", "Partitioning", "Booting"))
>>> [(c.section, c.text) for c in chunk_document(Document(name="t.html", path="t.html", sha256="0" * 64, pages=(page,)),
...                                               token_length=lambda t: len(t.split()), chunk_tokens=4)]
[('Tools', 'Tools'), ('Partitioning', 'Partitioning\\nfdisk edits tables.'), ('Booting', 'Booting\\nGRUB loads Linux.')]
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.documents import Chunk, Document, Page

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def chunk_document(document: Document, *, token_length: Callable[[str], int], chunk_tokens: int = 200,
                   overlap_tokens: int = 0) -> list[Chunk]:
    """Split each page of ``document`` into chunks of at most ``chunk_tokens`` tokens, overlapping by ``overlap_tokens``."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_tokens, chunk_overlap=overlap_tokens, length_function=token_length,
        separators=SEPARATORS, keep_separator="end", add_start_index=True, strip_whitespace=True)
    chunks: list[Chunk] = []
    for page in document.pages:
        if not page.text.strip():
            continue
        starts, titles = section_starts(page)
        for piece in splitter.create_documents([page.text]):
            start = int(piece.metadata["start_index"])
            if start < 0:
                start = page.text.find(piece.page_content)
            at = bisect.bisect_right(starts, start) - 1
            chunks.append(Chunk(doc_id=document.doc_id, source=document.name, page=page.number, start=start,
                                end=start + len(piece.page_content), text=piece.page_content,
                                language=document.language, index=len(chunks), sha256=document.sha256,
                                ocr=page.ocr, section=titles[at] if at >= 0 else ""))
    return chunks


def section_starts(page: Page) -> tuple[list[int], list[str]]:
    """Where each of the page's headings starts in its text, and the heading: two lists, in page order.

    Each heading is looked for as a whole line, after the one before it; one that is not there is left out.

    >>> section_starts(Page(1, "Guide\\n\\nIntro\\nHello.\\nSetup\\nRun it.", headings=("Guide", "Setup", "Missing")))
    ([0, 20], ['Guide', 'Setup'])
    """
    padded = f"\n{page.text}\n"
    starts: list[int] = []
    titles: list[str] = []
    cursor = 0
    for heading in page.headings:
        if not heading:
            continue
        found = padded.find(f"\n{heading}\n", cursor)
        if found < 0:
            continue
        starts.append(found)  # the padded text's "\n" before it stands where the heading starts in the page text
        titles.append(heading)
        cursor = found + len(heading) + 1
    return starts, titles
