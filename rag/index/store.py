"""The index: one Chroma collection per Folio collection, plus the manifest of its documents.

The store is the one owner of a collection's index: the vectors (:mod:`rag.index.vectors`), the
manifest rows and keyword rows (:mod:`rag.index.manifest`), and the published document list
(:mod:`rag.index.replica`) change only through it. The Chroma collection records the embedder that filled it, the schema and the Folio version (in its metadata,
and the embedder in the manifest too); opening it with another embedder, or a newer schema, is
refused, since vectors of two models cannot be compared. :mod:`rag.index.integrity` checks and repairs a collection against its manifest.

Ingesting a document is atomic (see :mod:`rag.index.manifest`): pending entry → new chunks added →
manifest row committed → document published (:mod:`rag.index.replica`) → old version's chunks deleted.
:meth:`Store.recover` undoes whatever a crash interrupted, so every document has all of its chunks
or none, and publishes the manifest again. A replica store (``replica=True``) never writes to
Chroma: it refuses every change and :meth:`Store.sync` fills its manifest from the published list.

>>> import tempfile, pathlib, numpy as np
>>> from rag.index.client import open_client
>>> from rag.index.manifest import Manifest
>>> from rag.documents import Document, Page
>>> from rag.chunking import chunk_document
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> store = Store(client=open_client(home / "index"), manifest=Manifest(home / "m.sqlite3"),
...               collection="default", embedder="fake", dim=3)
>>> doc = Document(name="a.txt", path="a.txt", sha256="ab" * 32, pages=(Page(1, "Hello there."),), language="en")
>>> chunks = chunk_document(doc, token_length=len)
>>> store.put([(doc, chunks, np.ones((len(chunks), 3), dtype=np.float32))])[0].status
'added'
>>> [p.source for p in store.vectors.query(np.ones(3, dtype=np.float32), k=2)]
['a.txt']
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np

from core.errors import FolioError, IndexMismatchError
from rag.documents import Chunk, Document, Passage, chunk_id_for, doc_id_for
from rag.index.replica import (ReadOnlyCollection, SyncPlan, open_published, plan_sync, publish, published, refuse,
                               republish, unpublish)
from rag.index.manifest import SCHEMA_VERSION, DocumentRecord, Manifest, PendingWork
from rag.index.upgrade import folio_version
from rag.index.vectors import ChunkVectors

REMOVING = "-removing-"  # the pending marker of a removal in progress
_COLLECTION_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,48}[a-zA-Z0-9]$|^[a-zA-Z0-9]$")


def check_collection_name(name: str) -> str:
    if not _COLLECTION_NAME.match(name):
        raise FolioError(f"'{name}' is not a valid collection name; use 1-50 letters, digits, '-' or '_', starting and ending with a letter or digit.")
    return name


def chunks_collection_name(collection: str) -> str:
    """The Chroma collection holding ``collection``'s chunk vectors."""
    return f"folio-{collection}"


@dataclass(frozen=True)
class PutResult:
    status: str  # "added" | "replaced" | "unchanged"
    record: DocumentRecord


class Store:
    """One collection: vectors in Chroma, documents and keyword rows in the manifest (a cache of the
    published list if ``replica``).

    ``vectors`` and ``keywords`` are its two indexes: searches read them and :mod:`rag.index.integrity`
    repairs them; every other change goes through the store's own methods, which keep them, the
    manifest and the published list in step.
    """

    def __init__(self, *, client, manifest: Manifest, collection: str, embedder: str, dim: int,
                 replica: bool = False, second: tuple[str, int] | None = None) -> None:
        self.collection_name = check_collection_name(collection)
        self._client = client
        self._manifest = manifest
        self.embedder = embedder
        self.replica = replica
        self._synced_at = float("-inf")
        self._syncing = threading.Lock()
        self._dim = dim
        self._max_batch = int(client.get_max_batch_size())
        self.vectors = self._open_vectors()
        _check_recorded(self.vectors.metadata, manifest=manifest, collection=collection, embedder=embedder)
        self.keywords = manifest.keywords(collection)
        work = manifest.work(collection)
        self._pending = work.pending
        self.failed_files = work.failed  # files of watched folders that failed (rag.sync)
        self.backlog = work.backlog      # documents waiting for the second embedder's vectors (rag.backfill)
        self._writing = threading.RLock()  # one change at a time: uploads and a folder watcher share a store
        self._published = None if replica else open_published(client, collection, create=True)
        self.second = self._open_second(second)  # the second embedder's vectors of the same chunks, or None

    def _open_vectors(self) -> ChunkVectors:
        """The chunk collection: created if missing by a writer; a replica's view of the one its writer fills."""
        vectors = _open_chunks(self._client, chunks_collection_name(self.collection_name), replica=self.replica,
                               max_batch=self._max_batch,
                               metadata={"folio_embedder": self.embedder, "folio_dim": self._dim,
                                         "folio_schema": SCHEMA_VERSION, "folio_version": folio_version()})
        if vectors is None:
            raise FolioError(f"Collection '{self.collection_name}' is not in the shared index yet; create it through "
                             f"the instance that owns the library, then open it here.")
        return vectors

    def _open_second(self, second: tuple[str, int] | None) -> ChunkVectors | None:
        """The second embedder's chunk collection (``folio-<collection>.<embedder>``), filled by a later pass.

        When the second embedder is new to the collection (none before, or another one), its vectors are
        rebuilt: every document goes on the backlog (a replica only reads what its writer filled).
        """
        if second is None:
            return None
        name, dim = second
        key, base = f"second:{self.collection_name}", chunks_collection_name(self.collection_name)
        recorded = None if self.replica else self._manifest.meta(key)
        if not self.replica and recorded != name:
            for old in {recorded, name} - {None}:
                _delete_if_there(self._client, f"{base}.{old}")
        vectors = _open_chunks(self._client, f"{base}.{name}", replica=self.replica, max_batch=self._max_batch,
                               metadata={"folio_embedder": name, "folio_dim": dim})
        if not self.replica and recorded != name:
            self.backlog.refill()
            self._manifest.meta(key, value=name)
        return vectors

    # -- documents ---------------------------------------------------------------------------
    def documents(self, *, match: str = "", limit: int | None = None, offset: int = 0,
                  origin: str | None = None) -> list[DocumentRecord]:
        """The documents by name (those whose name holds ``match``; ``limit`` of them from ``offset``)."""
        return self._manifest.documents(self.collection_name, match=match, limit=limit, offset=offset, origin=origin)

    def count(self, *, match: str = "", origin: str | None = None) -> int:
        return self._manifest.count(self.collection_name, match=match, origin=origin)

    def find(self, key: str) -> DocumentRecord | None:
        """A document by id or by name."""
        return self._manifest.find(self.collection_name, key)

    def put(self, items: list[tuple[Document, list[Chunk], np.ndarray]]) -> list[PutResult]:
        """Add each ``(document, chunks, vectors)`` (or replace its older version) atomically; unchanged content
        is not re-added. Several documents go in one write to each index (a Chroma write costs ~30 ms however
        small, so a folder of small files goes several times faster), committed together: each document is in
        with all its chunks, or none is."""
        self._refuse_in_replica()
        if any(len(chunks) != len(vectors) for _, chunks, vectors in items):
            raise ValueError("one vector per chunk is required")
        with self._writing:
            results: list[PutResult | None] = []
            writes: list[tuple[DocumentRecord, list[Chunk], np.ndarray, DocumentRecord | None]] = []
            for document, chunks, vectors in items:
                old = self._manifest.find(self.collection_name, document.doc_id)
                if old is not None and old.sha256 == document.sha256:
                    results.append(PutResult("unchanged", old))
                    continue
                record = DocumentRecord(doc_id=document.doc_id, name=document.name, path=document.path,
                                        sha256=document.sha256, pages=document.page_count, chunks=len(chunks),
                                        language=document.language, added_at=_now(), origin=document.origin,
                                        size=document.size, mtime_ns=document.mtime_ns)
                writes.append((record, chunks, vectors, old))
                results.append(PutResult("replaced" if old else "added", record))
            if len({record.doc_id for record, *_ in writes}) < len(writes):
                raise ValueError("each document may be given once")
            if writes:
                self._write(writes)
            return results

    def move(self, key: str, *, name: str, path: str, size: int = 0, mtime_ns: int = 0) -> DocumentRecord:
        """Give a document a new name and path (its file was renamed or moved) without embedding it again.

        Its chunks are copied, vectors and all, under the new name's id, committed, and only then is the
        old entry removed, each step crash-safe as in :meth:`put` and :meth:`remove`: a crash in between
        leaves both, and the next sync of the folder removes the old one.
        """
        self._refuse_in_replica()
        with self._writing:
            old = self.find(key)
            if old is None:
                raise FolioError(f"No document '{key}' in collection '{self.collection_name}'; 'folio docs' lists them.")
            doc_id = doc_id_for(name)
            ids = [chunk_id_for(old.doc_id, old.sha256, i) for i in range(old.chunks)]
            chunks, vectors = self.vectors.get_with_vectors(ids)
            moved = [replace(c, doc_id=doc_id, source=name) for c in chunks]
            record = replace(old, doc_id=doc_id, name=name, path=path, size=size or old.size,
                             mtime_ns=mtime_ns or old.mtime_ns)
            if doc_id == old.doc_id:  # the same name: only where the file lies changed
                self._manifest.commit(self.collection_name, [(record, moved)])
                publish(self._published, [record])
                return record
            second = self._second_vectors(ids)
            self._write([(record, moved, vectors, self._manifest.find(self.collection_name, doc_id))])
            if second is not None:  # its second vectors move too (else the second pass embeds it again)
                self.complete(doc_id, record.sha256, moved, second)
            self.remove(old.doc_id)
            return record

    def complete(self, doc_id: str, sha256: str, chunks: list[Chunk], vectors: np.ndarray) -> bool:
        """The second pass's write: the second embedder's ``vectors`` of the document's ``chunks`` go in, and the
        document leaves the backlog. False (nothing written) if the document was removed or replaced meanwhile."""
        with self._writing:
            record = self._manifest.find(self.collection_name, doc_id)
            if self.second is None or record is None or record.sha256 != sha256 or len(chunks) != record.chunks:
                return False
            self.second.add(chunks, vectors, replace=True)
            return self.backlog.done(doc_id, sha256)

    def _second_vectors(self, ids: list[str]) -> np.ndarray | None:
        """The second index's vectors of these chunk ids, if it holds them all."""
        if self.second is None:
            return None
        try:
            return self.second.get_with_vectors(ids)[1]
        except KeyError:
            return None

    def _write(self, writes: list[tuple[DocumentRecord, list[Chunk], np.ndarray, DocumentRecord | None]]) -> None:
        """Pending entries → new chunks added → manifest rows committed → published → old versions' chunks deleted."""
        self._pending.begin_all([PendingWork(r.doc_id, r.sha256, old.sha256 if old else None)
                                 for r, _, _, old in writes])
        ids = [r.doc_id for r, *_ in writes]
        try:
            chunks = [c for _, cs, _, _ in writes for c in cs]
            if chunks:
                self.vectors.add(chunks, np.concatenate([np.asarray(v, dtype=np.float32) for _, cs, v, _ in writes
                                                         if len(cs)]))
        except BaseException:
            self._delete_chunks([chunk_id_for(r.doc_id, r.sha256, i) for r, chunks, _, _ in writes
                                 for i in range(len(chunks))])
            self._pending.done(*ids)
            raise
        self._manifest.commit(self.collection_name, [(r, chunks) for r, chunks, _, _ in writes],
                              backlog=self.second is not None)
        publish(self._published, [r for r, *_ in writes])
        self._delete_chunks([chunk_id_for(old.doc_id, old.sha256, i) for r, _, _, old in writes
                             if old is not None and old.sha256 != r.sha256 for i in range(old.chunks)])
        self._pending.done(*ids)

    def remove(self, key: str) -> DocumentRecord:
        """Delete a document (by id or name): its published record, its chunks, then its manifest entry."""
        self._refuse_in_replica()
        with self._writing:
            record = self.find(key)
            if record is None:
                raise FolioError(f"No document '{key}' in collection '{self.collection_name}'; 'folio docs' lists them.")
            self._pending.begin(record.doc_id, sha256=REMOVING, old_sha256=record.sha256)
            unpublish(self._published, [record.doc_id])
            self._delete_chunks([chunk_id_for(record.doc_id, record.sha256, i) for i in range(record.chunks)])
            self._manifest.remove(self.collection_name, record.doc_id)
            return record

    def recover(self) -> int:
        """Remove the chunks of work a crash interrupted and publish the manifest again (a replica:
        forget local pending rows and sync, touching nothing in Chroma); returns how many documents needed it."""
        pending = self._pending.items()
        if self.replica:
            for work in pending:
                self._pending.done(work.doc_id)
            self.sync()
            return len(pending)
        with self._writing:
            for work in pending:
                committed = self._manifest.find(self.collection_name, work.doc_id)
                if work.sha256 == REMOVING:
                    self._delete_document(work.doc_id)
                    self._manifest.remove(self.collection_name, work.doc_id)
                    continue
                if committed is not None and committed.sha256 == work.sha256:
                    if work.old_sha256 and work.old_sha256 != work.sha256:
                        self._delete_document(work.doc_id, sha256=work.old_sha256)
                else:
                    self._delete_document(work.doc_id, sha256=work.sha256)
                self._pending.done(work.doc_id)
            republish(self._published, self.documents(), batch=self._max_batch)
        return len(pending)

    def sync(self, *, older_than_s: float = 0.0) -> SyncPlan | None:
        """A replica: bring its documents and keyword rows up to the published list; returns the plan applied.

        Skipped (None) when the last sync is younger than ``older_than_s``, while another thread
        syncs (its caller reads the cache as it is), and always on a writer, whose manifest is the truth.
        """
        if not self.replica or time.monotonic() - self._synced_at < older_than_s:
            return None
        if not self._syncing.acquire(blocking=False):
            return None
        try:
            self.vectors = self._open_vectors()  # the writer may have dropped and re-created it
            listed = published(open_published(self._client, self.collection_name, create=False))
            plan = plan_sync(self.documents(), listed)
            self._apply(plan)
            self._synced_at = time.monotonic()
            return plan
        finally:
            self._syncing.release()

    def _apply(self, plan: SyncPlan) -> None:
        """A replica's half of :meth:`sync`: each new or changed document gets its manifest row and keyword rows
        in one transaction, from its chunks in Chroma. A document whose chunks are not all there (its writer is
        replacing or removing it right now) is left out this time and dropped locally if an older version was
        listed; the next sync picks it up. Nothing is written to Chroma."""
        added: set[str] = set()
        for record in plan.add:
            chunks = [c for c in self.chunks(doc_ids=[record.doc_id]) if c.sha256 == record.sha256]
            if len(chunks) == record.chunks:
                self._manifest.commit(self.collection_name, [(record, chunks)])
                added.add(record.doc_id)
        for record in plan.drop:
            if record.doc_id not in added:
                self._manifest.remove(self.collection_name, record.doc_id)

    def drop(self) -> None:
        """Delete the whole collection: its manifest entries, its published list, its chunks."""
        self._refuse_in_replica()
        with self._writing:
            self._manifest.drop_collection(self.collection_name)
            self._client.delete_collection(self._published.name)
            self._client.delete_collection(chunks_collection_name(self.collection_name))
            if self.second is not None:
                self._client.delete_collection(self.second.name)

    # -- search --------------------------------------------------------------------------------
    def keyword_query(self, question: str, *, language: str, k: int, doc_ids: list[str] | None = None) -> list[Passage]:
        """The ``k`` best BM25 matches for ``question`` (see :mod:`rag.index.keyword`), best first."""
        hits = self.keywords.search(question, language=language, k=k, doc_ids=doc_ids)
        if not hits:
            return []
        by_id = self.vectors.get([chunk_id for chunk_id, _ in hits])
        return [Passage(chunk=by_id[chunk_id], score=score) for chunk_id, score in hits if chunk_id in by_id]

    def chunks(self, *, doc_ids: list[str] | None = None) -> list[Chunk]:
        """Every chunk (of ``doc_ids`` if given), in document order."""
        return self.vectors.chunks(doc_ids=doc_ids)

    # -- helpers -------------------------------------------------------------------------------
    def _refuse_in_replica(self) -> None:
        if self.replica:
            refuse()

    def _delete_chunks(self, ids: list[str]) -> None:
        """Delete chunks by id from both dense indexes."""
        for index in (self.vectors, self.second):
            if index is not None and ids:
                index.delete(ids)

    def _delete_document(self, doc_id: str, *, sha256: str | None = None) -> None:
        """Delete every chunk of a document (of one version) from both dense indexes, whatever their ids."""
        for index in (self.vectors, self.second):
            if index is not None:
                index.delete_document(doc_id, sha256=sha256)


def _open_chunks(client, name: str, *, replica: bool, max_batch: int, metadata: dict) -> ChunkVectors | None:
    """A chunk collection: a writer creates it if missing; a replica gets a read-only view, or None if it is not there."""
    if not replica:
        return ChunkVectors(client.get_or_create_collection(name=name, embedding_function=None, metadata=metadata,
                                                            configuration={"hnsw": {"space": "cosine"}}),
                            max_batch=max_batch)
    from chromadb.errors import NotFoundError

    try:
        return ChunkVectors(ReadOnlyCollection(client.get_collection(name=name, embedding_function=None)),
                            max_batch=max_batch)
    except NotFoundError:
        return None


def _delete_if_there(client, name: str) -> None:
    from chromadb.errors import NotFoundError

    try:
        client.delete_collection(name)
    except NotFoundError:
        pass


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    manifest.meta(f"embedder:{collection}", default=embedder)
