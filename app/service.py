"""The calls the CLI and the web app share: each passes the settings into ``rag`` and nothing more.

No retrieval or prompt logic lives here; it only wires :class:`app.factory.Folio` to ``rag``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from app.factory import Folio
from rag.answering import Event, answer_stream
from rag.chat import Message
from rag.documents import Passage
from rag.ingest import IngestResult, ingest
from rag.retrieval import search

SAMPLES_MARKER = ".samples-indexed"


def ingest_paths(folio: Folio, paths: Sequence[Path], *, names: list[str] | None = None, collection: str | None = None,
                 on_file: Callable[[int, int, str], None] | None = None) -> Iterator[IngestResult]:
    s = folio.settings
    return ingest(list(paths), store=folio.store(collection), embedder=folio.embedder, chunk_tokens=s.chunk_tokens,
                  overlap_tokens=s.chunk_overlap, max_bytes=s.max_file_mb * 1024 * 1024, names=names, on_file=on_file)


def search_passages(folio: Folio, query: str, *, k: int | None = None, collection: str | None = None,
                    doc_ids: list[str] | None = None, mode: str = "hybrid") -> list[Passage]:
    return search(query, store=folio.store(collection), embedder=folio.embedder, k=k or folio.settings.top_k,
                  doc_ids=doc_ids, mode=mode)


def answer_events(folio: Folio, question: str, *, language: str | None = None, history: Sequence[Message] = (),
                  collection: str | None = None, doc_ids: list[str] | None = None,
                  stop: threading.Event | None = None) -> Iterator[Event]:
    s = folio.settings
    return answer_stream(question, store=folio.store(collection), embedder=folio.embedder, chat=folio.require_chat(),
                         language=language or s.language, history=history, k=s.candidates,
                         answer_tokens=s.answer_tokens, temperature=s.temperature, doc_ids=doc_ids, stop=stop)


def index_samples_once(folio: Folio) -> list[IngestResult]:
    """On the very first start, index ``sample_docs/`` so there is something to ask about."""
    marker = folio.settings.home / SAMPLES_MARKER
    samples = folio.settings.sample_docs
    if marker.exists() or not samples.is_dir() or folio.documents():
        return []
    results = list(ingest_paths(folio, [samples]))
    marker.write_text("sample_docs indexed on first start; delete this file to index them again\n")
    return results
