"""The published document list, and read-only replicas that keep a local cache of it.

Every :class:`~rag.index.store.Store` publishes its collection's documents into a small Chroma
collection, ``foliodocs-<collection>``: one record per document (id ``doc_id``, a 1-dimensional
embedding, the :class:`~rag.index.manifest.DocumentRecord` fields as metadata), upserted right after the
manifest commit, deleted before a removal's chunks go, and made exact again at every open
(:func:`republish`), so a crash between commit and publish heals at the next start. A document is
published only once all of its chunks are in Chroma.

A replica (``FOLIO_REPLICA``) never writes to Chroma. Its manifest and keyword index are a cache of
the published list, brought up to date by :meth:`rag.index.store.Store.sync`, which applies what
:func:`plan_sync` finds by comparing the two lists. A document whose record differs (a new version:
another ``sha256``) is dropped and added:

>>> def record(doc_id, sha256):
...     return DocumentRecord(doc_id=doc_id, name=f"{doc_id}.txt", path=f"/docs/{doc_id}.txt", sha256=sha256,
...                           pages=1, chunks=2, language="en", added_at="2026-01-01T00:00:00Z")
>>> local = [record("a", "11"), record("b", "22"), record("c", "33")]
>>> published = [record("a", "11"), record("b", "2b"), record("d", "44")]
>>> plan = plan_sync(local, published)
>>> [(r.doc_id, r.sha256) for r in plan.add], [(r.doc_id, r.sha256) for r in plan.drop]
([('b', '2b'), ('d', '44')], [('b', '22'), ('c', '33')])
>>> plan_sync(published, published).empty
True
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.errors import FolioError
from rag.index.manifest import DocumentRecord

REFUSAL = ("This Folio is a read-only replica (FOLIO_REPLICA); "
           "add and remove documents through the instance that owns the library.")
_PAGE = 1000  # records read from Chroma per request
_FIELDS = tuple(f.name for f in fields(DocumentRecord))


def refuse() -> None:
    """Raise the one sentence a replica answers every write with."""
    raise FolioError(REFUSAL)


def docs_collection_name(collection: str) -> str:
    """The Chroma collection holding ``collection``'s published document list (not ``folio-``: that lists collections)."""
    return f"foliodocs-{collection}"


@dataclass(frozen=True)
class SyncPlan:
    """What to change so that a local list matches a published one."""

    add: tuple[DocumentRecord, ...] = ()   # published records missing or different locally
    drop: tuple[DocumentRecord, ...] = ()  # local records not published as they are

    @property
    def empty(self) -> bool:
        return not (self.add or self.drop)


def plan_sync(local: list[DocumentRecord], published: list[DocumentRecord]) -> SyncPlan:
    """The records to add and to drop so that ``local`` equals ``published`` (a changed record is both)."""
    have = {r.doc_id: r for r in local}
    want = {r.doc_id: r for r in published}
    return SyncPlan(add=tuple(r for r in published if have.get(r.doc_id) != r),
                    drop=tuple(r for r in local if want.get(r.doc_id) != r))


# -- the published list, in Chroma ---------------------------------------------------------------
def open_published(client, collection: str, *, create: bool):
    """The ``foliodocs-<collection>`` Chroma collection; None if it does not exist and not ``create``."""
    name = docs_collection_name(collection)
    if create:
        return client.get_or_create_collection(name=name, embedding_function=None)
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name=name, embedding_function=None)
    except NotFoundError:
        return None


def published(docs) -> list[DocumentRecord]:
    """Every record of a published list (``docs``: its Chroma collection, or None for none)."""
    records: list[DocumentRecord] = []
    while docs is not None:
        page = docs.get(include=["metadatas"], limit=_PAGE, offset=len(records))
        # A writer of an older Folio published fewer fields: the record's defaults fill them in.
        records.extend(DocumentRecord(**{f: meta[f] for f in _FIELDS if f in meta}) for meta in page["metadatas"])
        if len(page["ids"]) < _PAGE:
            break
    return records


def publish(docs, records: list[DocumentRecord], *, batch: int = _PAGE) -> None:
    """Upsert ``records`` into the published list."""
    for start in range(0, len(records), batch):
        part = records[start:start + batch]
        docs.upsert(ids=[r.doc_id for r in part], embeddings=[[1.0]] * len(part), metadatas=[r.as_dict() for r in part])


def unpublish(docs, doc_ids: list[str], *, batch: int = _PAGE) -> None:
    """Delete ``doc_ids`` from the published list (ids not there are ignored)."""
    for start in range(0, len(doc_ids), batch):
        docs.delete(ids=doc_ids[start:start + batch])


def republish(docs, records: list[DocumentRecord], *, batch: int = _PAGE) -> SyncPlan:
    """Make the published list exactly ``records`` (the writer's manifest); returns what changed."""
    plan = plan_sync(published(docs), records)
    publish(docs, list(plan.add), batch=batch)
    kept = {r.doc_id for r in plan.add}
    unpublish(docs, [r.doc_id for r in plan.drop if r.doc_id not in kept], batch=batch)
    return plan


class ReadOnlyCollection:
    """A Chroma collection whose writes raise :data:`REFUSAL` (a replica's chunks; reads pass through)."""

    _WRITES = frozenset({"add", "upsert", "update", "delete", "modify"})

    def __init__(self, collection) -> None:
        self._collection = collection

    def __getattr__(self, name: str):
        if name in self._WRITES:
            refuse()
        return getattr(self._collection, name)
