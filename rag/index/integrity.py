"""Index ↔ manifest consistency: what disagrees (:func:`check`), and putting it right (:func:`repair`).

Ingestion and removal are atomic and :meth:`rag.index.store.Store.recover` undoes interrupted work, so a
healthy index never disagrees with its manifest; this is for the unhealthy ones (a disk that lost
writes, a copy of ``FOLIO_HOME`` taken while Folio was writing, a hand-edited database). The
manifest is the truth about which documents exist, and a document's chunk ids follow from its row
(``doc_id:sha256[:12]:index`` for each of its ``chunks``), so:

- chunks in Chroma, and keyword rows, that no listed document owns are *orphans*: deleted;
- a listed document missing some of its chunks is removed (what is left of it too), with a message
  asking for the file to be ingested again; its text cannot be rebuilt without the file;
- a listed document whose chunks are all there but whose keyword rows are not gets them rebuilt
  from its chunks' text.

>>> import tempfile, pathlib, numpy as np
>>> from rag.index.manifest import Manifest
>>> from rag.documents import Document, Page
>>> from rag.chunking import chunk_document
>>> from rag.index.client import open_client
>>> from rag.index.store import Store
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> store = Store(client=open_client(home / "index"), manifest=Manifest(home / "m.sqlite3"),
...               collection="default", embedder="fake", dim=3)
>>> doc = Document(name="a.txt", path="/docs/a.txt", sha256="ab" * 32, pages=(Page(1, "Hello there."),), language="en")
>>> _ = store.put([(doc, chunk_document(doc, token_length=len), np.ones((1, 3), dtype=np.float32))])
>>> lost = Document(name="lost.txt", path="/docs/lost.txt", sha256="cd" * 32, pages=(Page(1, "Gone."),), language="en")
>>> store.vectors.add(chunk_document(lost, token_length=len), np.ones((1, 3), dtype=np.float32))  # no manifest row
>>> report = check(store)
>>> report.consistent, report.orphan_chunks
(False, ('d-857fab2be0:cdcdcdcdcdcd:0',))
>>> repair(store, report)
["Deleted 1 chunk that no document owns from collection 'default'."]
>>> check(store).consistent
True
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rag.documents import chunk_id_for
from rag.index.manifest import DocumentRecord
from rag.index.store import Store


@dataclass(frozen=True)
class Report:
    """How a collection's index, keyword rows and manifest disagree (nothing, when ``consistent``)."""

    collection: str
    documents: int
    manifest_chunks: int
    index_chunks: int
    incomplete: tuple[tuple[DocumentRecord, int], ...] = ()  # (document, how many of its chunks are missing)
    orphan_chunks: tuple[str, ...] = ()
    orphan_keywords: tuple[str, ...] = ()
    stale_keywords: tuple[DocumentRecord, ...] = field(default=())  # all chunks there, keyword rows not
    orphan_second: tuple[str, ...] = ()  # second-pass vectors of chunks no listed document owns

    @property
    def consistent(self) -> bool:
        return not (self.incomplete or self.orphan_chunks or self.orphan_keywords or self.stale_keywords
                    or self.orphan_second)

    def as_dict(self) -> dict:
        return {"documents": self.documents, "manifest_chunks": self.manifest_chunks,
                "index_chunks": self.index_chunks, "consistent": self.consistent,
                "incomplete": [{"name": d.name, "missing": n, "chunks": d.chunks} for d, n in self.incomplete],
                "orphan_chunks": len(self.orphan_chunks), "orphan_keywords": len(self.orphan_keywords),
                "stale_keywords": [d.name for d in self.stale_keywords], "orphan_second": len(self.orphan_second)}


def check(store: Store) -> Report:
    """Compare every chunk id in the index and every keyword row with what the manifest lists."""
    documents = store.documents()
    expected = {d.doc_id: {chunk_id_for(d.doc_id, d.sha256, i) for i in range(d.chunks)} for d in documents}
    owned = set().union(*expected.values()) if expected else set()
    in_index = set(store.vectors.ids())
    keyword_rows = store.keywords.rows()
    by_doc: dict[str, list[str]] = defaultdict(list)
    for doc_id, chunk_id in keyword_rows:
        by_doc[doc_id].append(chunk_id)
    incomplete = tuple((d, len(expected[d.doc_id] - in_index)) for d in documents if expected[d.doc_id] - in_index)
    broken = {d.doc_id for d, _ in incomplete}
    stale = tuple(d for d in documents if d.doc_id not in broken
                  and sorted(by_doc.get(d.doc_id, [])) != sorted(expected[d.doc_id]))
    in_second = set(store.second.ids()) if store.second is not None else set()
    return Report(collection=store.collection_name, documents=len(documents), orphan_second=tuple(sorted(in_second - owned)),
                  manifest_chunks=sum(d.chunks for d in documents), index_chunks=len(in_index),
                  incomplete=incomplete, orphan_chunks=tuple(sorted(in_index - owned)),
                  orphan_keywords=tuple(sorted({c for _, c in keyword_rows} - owned)), stale_keywords=stale)


def repair(store: Store, report: Report) -> list[str]:
    """Put right what :func:`check` found; returns one sentence per thing done, for the user."""
    messages: list[str] = []
    name = store.collection_name
    if report.orphan_chunks:
        store.vectors.delete(list(report.orphan_chunks))
        messages.append(f"Deleted {_count(len(report.orphan_chunks), 'chunk')} that no document owns from collection '{name}'.")
    if report.orphan_second:
        store.second.delete(list(report.orphan_second))
        messages.append(f"Deleted {_count(len(report.orphan_second), 'second-pass vector')} that no document owns "
                        f"from collection '{name}'.")
    if report.orphan_keywords:
        store.keywords.delete_chunks(list(report.orphan_keywords))
        messages.append(f"Deleted {_count(len(report.orphan_keywords), 'keyword row')} that no document owns "
                        f"from collection '{name}'.")
    for record, missing in report.incomplete:
        store.remove(record.doc_id)
        messages.append(f"{record.name}: {missing} of its {record.chunks} chunks were missing from the index, so it "
                        f"was removed from collection '{name}'; add it again with 'folio ingest \"{record.path}\"'.")
    for record in report.stale_keywords:
        chunks = store.chunks(doc_ids=[record.doc_id])
        store.keywords.replace(record.doc_id, chunks)
        messages.append(f"{record.name}: its keyword index rows were rebuilt from its {len(chunks)} chunks.")
    return messages


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
