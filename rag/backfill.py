"""The second pass: the slower, stronger embedder's vectors for the documents that are already searchable.

A document is searchable as soon as it is committed (keyword rows and the fast embedder's vectors);
it is also on the store's *backlog* (:class:`rag.index.manifest.Backlog`) until the second embedder
has embedded its chunks into the second index. :func:`backfill` works the backlog off, a document at
a time, in slices of a few dozen chunks, so Stop (``stop``) takes effect within seconds and a document
half done is simply done again later: the backlog lives in the manifest, so a pass killed or stopped
resumes where it stopped at the next start. Search uses whatever is ready (:func:`rag.retrieval.search`
fuses the second index for the documents it holds).

>>> import tempfile, pathlib
>>> from rag.embedding import FakeEmbedder
>>> from rag.index.client import open_client
>>> from rag.index.manifest import Manifest
>>> from rag.index.store import Store
>>> from rag.ingest import ingest
>>> home = pathlib.Path(tempfile.mkdtemp()); _ = (home / "a.txt").write_text("Depots open at six.")
>>> store = Store(client=open_client(home / "i"), manifest=Manifest(home / "m"), collection="default",
...               embedder="fake-hash-64", dim=64, second=("fake-hash-64", 64))
>>> _ = list(ingest([home / "a.txt"], store=store, embedder=FakeEmbedder(), isolate=False))
>>> store.backlog.waiting()
(1, 1)
>>> backfill(store, FakeEmbedder()).documents, store.backlog.waiting(), store.second.count()
(1, (0, 0), 1)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from rag.embedding import Embedder
from rag.index.store import Store

SLICE = 32  # chunks embedded between two looks at Stop


@dataclass(frozen=True)
class Progress:
    """How far the second pass is: documents and chunks done in this run, and what is still waiting."""

    documents: int = 0
    chunks: int = 0
    waiting_documents: int = 0
    waiting_chunks: int = 0
    stopped: bool = False


def backfill(store: Store, embedder: Embedder, *, stop: threading.Event | None = None,
             on_progress: Callable[[Progress], None] | None = None, limit: int | None = None) -> Progress:
    """Embed the backlog's documents with ``embedder`` into ``store.second`` until none waits (or ``limit``
    documents are done, or ``stop`` is set); returns the progress at the end."""
    documents = chunks_done = 0
    while limit is None or documents < limit:
        if stop is not None and stop.is_set():
            return _progress(store, documents, chunks_done, stopped=True)
        waiting = store.backlog.items(limit=1)
        if not waiting:
            break
        doc_id, sha256 = waiting[0]
        chunks = [c for c in store.chunks(doc_ids=[doc_id]) if c.sha256 == sha256]
        vectors = []
        for start in range(0, len(chunks), SLICE):
            if stop is not None and stop.is_set():
                return _progress(store, documents, chunks_done, stopped=True)
            vectors.extend(embedder.embed_passages([c.indexed_text for c in chunks[start:start + SLICE]]))
            if on_progress is not None:
                on_progress(_progress(store, documents, chunks_done + len(vectors)))
        if not store.complete(doc_id, sha256, chunks, _stack(vectors, embedder.dim)):
            store.backlog.done(doc_id, sha256)  # removed or replaced meanwhile: its new version waits on its own
            continue
        documents, chunks_done = documents + 1, chunks_done + len(chunks)
    progress = _progress(store, documents, chunks_done)
    if on_progress is not None:
        on_progress(progress)
    return progress


def _stack(vectors: list, dim: int):
    import numpy as np

    return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), dim)


def _progress(store: Store, documents: int, chunks: int, *, stopped: bool = False) -> Progress:
    waiting_documents, waiting_chunks = store.backlog.waiting()
    return Progress(documents=documents, chunks=chunks, waiting_documents=waiting_documents,
                    waiting_chunks=waiting_chunks, stopped=stopped)
