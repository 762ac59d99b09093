"""The index: one Chroma collection per Folio collection, plus the manifest of its documents.

Embeddings are always passed in (Chroma's own embedding function would download a model). The
collection records the embedder that filled it, the schema and the Folio version (in its metadata,
and the embedder in the manifest too); opening it with another embedder, or a newer schema, is
refused, since vectors of two models cannot be compared. Adds are batched under the client's
maximum batch size. :mod:`rag.integrity` checks and repairs a collection against its manifest.

Ingesting a document is atomic (see :mod:`rag.manifest`): pending entry → new chunks added →
manifest row committed → document published (:mod:`rag.replica`) → old version's chunks deleted.
:meth:`Store.recover` undoes whatever a crash interrupted, so every document has all of its chunks
or none, and publishes the manifest again. A replica store (``replica=True``) never writes to
Chroma: it refuses every change and :meth:`Store.sync` fills its manifest from the published list.

>>> import tempfile, pathlib, numpy as np, chromadb
>>> from rag.manifest import Manifest
>>> from rag.documents import Document, Page
>>> from rag.chunking import chunk_document
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> store = Store(client=open_client(home / "index"), manifest=Manifest(home / "m.sqlite3"),
...               collection="default", embedder="fake", dim=3)
>>> doc = Document(name="a.txt", path="a.txt", sha256="ab" * 32, pages=(Page(1, "Hello there."),), language="en")
>>> chunks = chunk_document(doc, token_length=len)
>>> store.put(doc, chunks, np.ones((len(chunks), 3), dtype=np.float32)).status
'added'
>>> [p.source for p in store.query(np.ones(3, dtype=np.float32), k=2)]
['a.txt']
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from rag import keyword
from rag.documents import Chunk, Document, Passage, chunk_id_for
from rag.errors import FolioError, IndexMismatchError
from rag.manifest import SCHEMA_VERSION, DocumentRecord, Manifest
from rag.replica import (ReadOnlyCollection, SyncPlan, open_published, publish, refuse, republish, unpublish,
                         sync as sync_replica)
from rag.upgrade import folio_version

REMOVING = "-removing-"  # the pending marker of a removal in progress
_COLLECTION_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,48}[a-zA-Z0-9]$|^[a-zA-Z0-9]$")


def open_client(path: Path):
    """A Chroma client on disk, with telemetry off (nothing leaves the machine)."""
    import chromadb
    from chromadb.config import Settings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False))


def check_collection_name(name: str) -> str:
    if not _COLLECTION_NAME.match(name):
        raise FolioError(f"'{name}' is not a valid collection name; use 1-50 letters, digits, '-' or '_', starting and ending with a letter or digit.")
    return name


@dataclass(frozen=True)
class PutResult:
    status: str  # "added" | "replaced" | "unchanged"
    record: DocumentRecord


class Store:
    """One collection: vectors in Chroma, documents in the manifest (a cache of the published list if ``replica``)."""

    def __init__(self, *, client, manifest: Manifest, collection: str, embedder: str, dim: int,
                 replica: bool = False) -> None:
        self.collection_name = check_collection_name(collection)
        self._client = client
        self._manifest = manifest
        self.embedder = embedder
        self.replica = replica
        self._synced_at = float("-inf")
        self._syncing = threading.Lock()
        if replica:
            self._collection = self._open_shared()
        else:
            self._collection = client.get_or_create_collection(
                name=f"folio-{collection}", embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata={"folio_embedder": embedder, "folio_dim": dim, "folio_schema": SCHEMA_VERSION,
                          "folio_version": folio_version()})
        _check_recorded(self._collection.metadata or {}, manifest=manifest, collection=collection, embedder=embedder)
        self._docs = None if replica else open_published(client, collection, create=True)  # see rag.replica
        self._max_batch = int(client.get_max_batch_size())
        manifest.db.executescript(keyword.SCHEMA)

    def _open_shared(self) -> ReadOnlyCollection:
        """A replica's view of the chunk collection its writer fills."""
        from chromadb.errors import NotFoundError

        try:
            return ReadOnlyCollection(self._client.get_collection(name=f"folio-{self.collection_name}",
                                                                  embedding_function=None))
        except NotFoundError:
            raise FolioError(f"Collection '{self.collection_name}' is not in the shared index yet; create it through "
                             f"the instance that owns the library, then open it here.") from None

    # -- documents ---------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        return self._manifest.documents(self.collection_name)

    def find(self, key: str) -> DocumentRecord | None:
        """A document by id or by name."""
        return next((r for r in self.documents() if key in (r.doc_id, r.name)), None)

    def count(self) -> int:
        return int(self._collection.count())

    def put(self, document: Document, chunks: list[Chunk], vectors: np.ndarray) -> PutResult:
        """Add ``document`` (or replace its older version) atomically; unchanged content is not re-added."""
        if self.replica:
            refuse()
        old = self._manifest.get(self.collection_name, document.doc_id)
        if old is not None and old.sha256 == document.sha256:
            return PutResult("unchanged", old)
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk is required")
        self._manifest.begin(self.collection_name, doc_id=document.doc_id, sha256=document.sha256,
                             old_sha256=old.sha256 if old else None)
        try:
            self._add(chunks, vectors)
        except BaseException:
            self._delete_version(document.doc_id, document.sha256, len(chunks))
            self._manifest.abandon(self.collection_name, document.doc_id)
            raise
        record = DocumentRecord(doc_id=document.doc_id, name=document.name, path=document.path,
                                sha256=document.sha256, pages=document.page_count, chunks=len(chunks),
                                language=document.language,
                                added_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self._index(record, chunks)
        publish(self._docs, [record])
        if old is not None:
            self._delete_version(old.doc_id, old.sha256, old.chunks)
        self._manifest.abandon(self.collection_name, document.doc_id)
        return PutResult("replaced" if old else "added", record)

    def _index(self, record: DocumentRecord, chunks: list[Chunk]) -> None:
        """The commit marker: ``record``'s manifest row and its chunks' keyword rows, in one transaction."""
        def index_keywords(db) -> None:
            keyword.delete(db, self.collection_name, record.doc_id)
            keyword.add(db, self.collection_name, chunks)

        self._manifest.commit(self.collection_name, record, also=index_keywords)

    def remove(self, key: str) -> DocumentRecord:
        """Delete a document (by id or name): its published record, its chunks, then its manifest entry."""
        if self.replica:
            refuse()
        record = self.find(key)
        if record is None:
            raise FolioError(f"No document '{key}' in collection '{self.collection_name}'; 'folio docs' lists them.")
        self._manifest.begin(self.collection_name, doc_id=record.doc_id, sha256=REMOVING, old_sha256=record.sha256)
        unpublish(self._docs, [record.doc_id])
        self._delete_version(record.doc_id, record.sha256, record.chunks)
        self._finish_removal(record.doc_id)
        return record

    def _finish_removal(self, doc_id: str) -> None:
        def drop_keywords_and_pending(db) -> None:
            keyword.delete(db, self.collection_name, doc_id)
            db.execute("DELETE FROM pending WHERE collection = ? AND doc_id = ?", (self.collection_name, doc_id))

        self._manifest.remove(self.collection_name, doc_id, also=drop_keywords_and_pending)

    def recover(self) -> int:
        """Remove the chunks of work a crash interrupted and publish the manifest again (a replica:
        forget local pending rows and sync, touching nothing in Chroma); returns how many documents needed it."""
        pending = self._manifest.pending(self.collection_name)
        if self.replica:
            for work in pending:
                self._manifest.abandon(self.collection_name, work.doc_id)
            self.sync()
            return len(pending)
        for work in pending:
            committed = self._manifest.get(self.collection_name, work.doc_id)
            if work.sha256 == REMOVING:
                self._collection.delete(where={"doc_id": work.doc_id})
                self._finish_removal(work.doc_id)
                continue
            if committed is not None and committed.sha256 == work.sha256:
                if work.old_sha256 and work.old_sha256 != work.sha256:
                    self._collection.delete(where={"$and": [{"doc_id": work.doc_id}, {"sha256": work.old_sha256}]})
            else:
                self._collection.delete(where={"$and": [{"doc_id": work.doc_id}, {"sha256": work.sha256}]})
            self._manifest.abandon(self.collection_name, work.doc_id)
        republish(self._docs, self.documents(), batch=self._max_batch)
        return len(pending)

    def sync(self, *, older_than_s: float = 0.0) -> SyncPlan | None:
        """A replica: refresh its documents and keyword rows from the published list (:func:`rag.replica.sync`).

        Skipped (None) when the last sync is younger than ``older_than_s``, while another thread
        syncs (its caller reads the cache as it is), and always on a writer, whose manifest is the truth.
        """
        if not self.replica or time.monotonic() - self._synced_at < older_than_s:
            return None
        if not self._syncing.acquire(blocking=False):
            return None
        try:
            self._collection = self._open_shared()  # the writer may have dropped and re-created it
            plan = sync_replica(self)
            self._synced_at = time.monotonic()
            return plan
        finally:
            self._syncing.release()

    # -- vectors -----------------------------------------------------------------------------
    def _add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), self._max_batch):
            batch = chunks[start:start + self._max_batch]
            self._collection.add(
                ids=[c.chunk_id for c in batch],
                embeddings=np.asarray(vectors[start:start + self._max_batch], dtype=np.float32),
                documents=[c.text for c in batch],
                metadatas=[{"doc_id": c.doc_id, "source": c.source, "page": c.page, "start": c.start, "end": c.end,
                            "language": c.language, "index": c.index, "sha256": c.sha256} for c in batch])

    def _delete_version(self, doc_id: str, sha256: str, chunks: int) -> None:
        ids = [chunk_id_for(doc_id, sha256, i) for i in range(chunks)]
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=ids[start:start + self._max_batch])

    def query(self, vector: np.ndarray, *, k: int, doc_ids: list[str] | None = None) -> list[Passage]:
        """The ``k`` chunks nearest to ``vector`` (cosine), optionally only from ``doc_ids``."""
        where = None
        if doc_ids:
            where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
        result = self._collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                        where=where, include=["documents", "metadatas", "distances"])
        passages = []
        for text, meta, distance in zip(result["documents"][0], result["metadatas"][0], result["distances"][0]):
            passages.append(Passage(chunk=chunk_from(text, meta), score=1.0 - float(distance)))
        return passages

    def keyword_query(self, question: str, *, language: str, k: int, doc_ids: list[str] | None = None) -> list[Passage]:
        """The ``k`` best BM25 matches for ``question`` (see :mod:`rag.keyword`), best first."""
        hits = keyword.search(self._manifest.db, self.collection_name, question, language=language, k=k, doc_ids=doc_ids)
        if not hits:
            return []
        found = self._collection.get(ids=[chunk_id for chunk_id, _ in hits], include=["documents", "metadatas"])
        by_id = {i: chunk_from(t, m) for i, t, m in zip(found["ids"], found["documents"], found["metadatas"])}
        return [Passage(chunk=by_id[chunk_id], score=score) for chunk_id, score in hits if chunk_id in by_id]

    def chunks(self, *, doc_ids: list[str] | None = None) -> list[Chunk]:
        """Every chunk (of ``doc_ids`` if given), in document order."""
        where = None
        if doc_ids:
            where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
        result = self._collection.get(where=where, include=["documents", "metadatas"])
        chunks = [chunk_from(text, meta) for text, meta in zip(result["documents"], result["metadatas"])]
        return sorted(chunks, key=lambda c: (c.source, c.index))

    def drop(self) -> None:
        """Delete the whole collection: its manifest entries, its published list, its chunks."""
        if self.replica:
            refuse()

        def drop_rows(db) -> None:
            db.execute("DELETE FROM keywords WHERE collection = ?", (self.collection_name,))
            db.execute("DELETE FROM meta WHERE key = ?", (f"embedder:{self.collection_name}",))

        self._manifest.drop_collection(self.collection_name, also=drop_rows)
        self._client.delete_collection(self._docs.name)
        self._client.delete_collection(f"folio-{self.collection_name}")


def _check_recorded(recorded: dict, *, manifest: Manifest, collection: str, embedder: str) -> None:
    """Refuse a collection filled by another embedder, or written with a newer schema; record the embedder."""
    filled_by = recorded.get("folio_embedder") or manifest.meta(f"embedder:{collection}")
    if filled_by and filled_by != embedder:
        raise IndexMismatchError(
            f"Collection '{collection}' was indexed with the embedder '{filled_by}', not '{embedder}'; "
            f"set FOLIO_EMBEDDER={filled_by} or ingest into a new collection with --collection.")
    schema = int(recorded.get("folio_schema") or SCHEMA_VERSION)
    if schema > SCHEMA_VERSION:
        raise IndexMismatchError(
            f"Collection '{collection}' was written by Folio {recorded.get('folio_version', 'unknown')} (schema {schema}), "
            f"newer than this Folio {folio_version()} (schema {SCHEMA_VERSION}); upgrade Folio to use it.")
    if manifest.meta(f"embedder:{collection}") is None:
        manifest.set_meta(f"embedder:{collection}", embedder)


def chunk_from(text: str, meta: dict) -> Chunk:
    return Chunk(doc_id=meta["doc_id"], source=meta["source"], page=int(meta["page"]), start=int(meta["start"]),
                 end=int(meta["end"]), text=text, language=meta["language"], index=int(meta["index"]),
                 sha256=meta["sha256"])
