"""One Chroma collection of chunk vectors: add, delete, query, read back.

Embeddings are always passed in (Chroma's own embedding function would download a model), and
writes are cut into batches under the client's maximum batch size. Each chunk's metadata carries
what a :class:`~rag.documents.Chunk` needs, so a search result is a whole chunk again. Nothing here
knows about documents or the manifest: :class:`rag.index.store.Store` decides what to write when.

>>> import tempfile, pathlib, numpy as np
>>> from rag.index.client import open_client
>>> from rag.documents import Chunk
>>> client = open_client(pathlib.Path(tempfile.mkdtemp()))
>>> vectors = ChunkVectors(client.create_collection("demo", embedding_function=None), max_batch=2)
>>> chunks = [Chunk("d-1", "a.txt", 1, 0, 5, t, "en", i, "ab" * 32) for i, t in enumerate(["Hello", "there", "world"])]
>>> vectors.add(chunks, np.eye(3, dtype=np.float32))
>>> [p.text for p in vectors.query(np.array([0, 1, 0], dtype=np.float32), k=1)], vectors.count()
(['there'], 3)
>>> vectors.delete(vectors.ids()[:2]); [c.text for c in vectors.chunks()]
['world']
"""

from __future__ import annotations

import numpy as np

from rag.documents import Chunk, Passage

_PAGE = 5000  # ids read from Chroma per request


class ChunkVectors:
    """Chunk vectors in one Chroma collection (a :class:`~rag.index.replica.ReadOnlyCollection` for a replica)."""

    def __init__(self, collection, *, max_batch: int) -> None:
        self._collection = collection
        self._max_batch = max_batch

    @property
    def metadata(self) -> dict:
        return self._collection.metadata or {}

    @property
    def name(self) -> str:
        return self._collection.name

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, chunks: list[Chunk], vectors: np.ndarray, *, replace: bool = False) -> None:
        """Add chunks with their vectors (``replace``: chunks already there are overwritten, not refused)."""
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk is required")
        write = self._collection.upsert if replace else self._collection.add
        for start in range(0, len(chunks), self._max_batch):
            batch = chunks[start:start + self._max_batch]
            write(
                ids=[c.chunk_id for c in batch],
                embeddings=np.asarray(vectors[start:start + self._max_batch], dtype=np.float32),
                documents=[c.text for c in batch],
                metadatas=[{"doc_id": c.doc_id, "source": c.source, "page": c.page, "start": c.start, "end": c.end,
                            "language": c.language, "index": c.index, "sha256": c.sha256, "ocr": c.ocr,
                            "section": c.section}
                           for c in batch])

    def delete(self, ids: list[str]) -> None:
        """Delete chunks by id (ids not there are ignored)."""
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=ids[start:start + self._max_batch])

    def delete_document(self, doc_id: str, *, sha256: str | None = None) -> None:
        """Delete every chunk of ``doc_id`` (only those of version ``sha256`` if given), whatever their ids."""
        where = {"doc_id": doc_id} if sha256 is None else {"$and": [{"doc_id": doc_id}, {"sha256": sha256}]}
        self._collection.delete(where=where)

    def query(self, vector: np.ndarray, *, k: int, doc_ids: list[str] | None = None) -> list[Passage]:
        """The ``k`` chunks nearest to ``vector`` (cosine similarity as the score), optionally only from ``doc_ids``."""
        result = self._collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                        where=_only(doc_ids), include=["documents", "metadatas", "distances"])
        return [Passage(chunk=chunk_from(text, meta), score=1.0 - float(distance))
                for text, meta, distance in zip(result["documents"][0], result["metadatas"][0], result["distances"][0])]

    def get_with_vectors(self, ids: list[str]) -> tuple[list[Chunk], np.ndarray]:
        """The chunks of ``ids`` (all must be there), in that order, and their stored vectors."""
        found = self._collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        by_id = {i: (chunk_from(t, m), e) for i, t, m, e in
                 zip(found["ids"], found["documents"], found["metadatas"], found["embeddings"])}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise KeyError(f"{len(missing)} chunks are not in the index (first: {missing[0]})")
        return [by_id[i][0] for i in ids], np.asarray([by_id[i][1] for i in ids], dtype=np.float32)

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ``ids`` that are there, by id."""
        found = self._collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(found["ids"], found["embeddings"])}

    def get(self, ids: list[str]) -> dict[str, Chunk]:
        """The chunks of ``ids`` that are there, by id."""
        found = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: chunk_from(t, m) for i, t, m in zip(found["ids"], found["documents"], found["metadatas"])}

    def chunks(self, *, doc_ids: list[str] | None = None) -> list[Chunk]:
        """Every chunk (of ``doc_ids`` if given), in document order."""
        result = self._collection.get(where=_only(doc_ids), include=["documents", "metadatas"])
        chunks = [chunk_from(text, meta) for text, meta in zip(result["documents"], result["metadatas"])]
        return sorted(chunks, key=lambda c: (c.source, c.index))

    def ids(self) -> list[str]:
        """Every chunk id in the collection, read a page at a time."""
        ids: list[str] = []
        while True:
            page = self._collection.get(include=[], limit=_PAGE, offset=len(ids))["ids"]
            ids.extend(page)
            if len(page) < _PAGE:
                return ids


def _only(doc_ids: list[str] | None) -> dict | None:
    """The ``where`` filter keeping the chunks of ``doc_ids`` (None: all)."""
    if not doc_ids:
        return None
    return {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}


def chunk_from(text: str, meta: dict) -> Chunk:
    """The :class:`Chunk` stored as ``text`` with ``meta``."""
    return Chunk(doc_id=meta["doc_id"], source=meta["source"], page=int(meta["page"]), start=int(meta["start"]),
                 end=int(meta["end"]), text=text, language=meta["language"], index=int(meta["index"]),
                 sha256=meta["sha256"], ocr=bool(meta.get("ocr", False)), section=str(meta.get("section") or ""))
