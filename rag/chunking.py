"""Document → chunks sized in the embedder's tokens, with overlap; each keeps its page and offsets.

Chunks never cross a page, so every passage cites exactly one page. Splitting is
langchain-text-splitters' ``RecursiveCharacterTextSplitter`` (paragraphs, then lines, then
sentences, then words), measured with the embedder's tokenizer.

>>> from rag.documents import Document, Page
>>> doc = Document(name="a.txt", path="a.txt", sha256="0" * 64, language="en",
...                pages=(Page(1, "First page."), Page(2, "Second page. " * 40)))
>>> chunks = chunk_document(doc, token_length=lambda t: len(t.split()), chunk_tokens=30, overlap_tokens=5)
>>> [(c.page, c.start) for c in chunks][:3]
[(1, 0), (2, 0), (2, 195)]
>>> doc.pages[1].text[chunks[2].start:chunks[2].end] == chunks[2].text
True
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.documents import Chunk, Document

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
        for piece in splitter.create_documents([page.text]):
            start = int(piece.metadata["start_index"])
            if start < 0:
                start = page.text.find(piece.page_content)
            chunks.append(Chunk(doc_id=document.doc_id, source=document.name, page=page.number, start=start,
                                end=start + len(piece.page_content), text=piece.page_content,
                                language=document.language, index=len(chunks), sha256=document.sha256,
                                ocr=page.ocr))
    return chunks
