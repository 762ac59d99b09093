"""The one place heavy things are built: embedder, index client, manifest, chat model.

Nothing heavy happens at import. ``build(settings)`` returns a :class:`Folio` holding them; the CLI
and the web app call it once at start-up and ``close()`` it at the end. The chat model sits in a
:class:`~app.chat_slot.ChatSlot` (``folio.chat``): each answer holds the model it started with, and
the web app may switch to another local model while it runs (:meth:`Folio.switch_model`).

With ``FOLIO_REPLICA`` every store is a read-only replica of the library its writer publishes on
the shared Chroma server (:mod:`rag.index.replica`): synced when it opens, then again by the first
:meth:`Folio.store` call that finds the last sync older than ``replica_sync_s``.

>>> from pathlib import Path; import tempfile
>>> folio = build(Settings.for_tests(Path(tempfile.mkdtemp()), embedder="fake-hash-64"), llm=False)
>>> folio.store().collection_name, folio.documents()
('default', [])
>>> folio.close()
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.chat_slot import ChatSlot, load_chat
from app.settings import Settings
from core.chat import ChatModel
from core.errors import FolioError
from rag.embedding import Embedder, build_embedder
from rag.index.client import open_client, open_server_client
from rag.index.manifest import DocumentRecord, Manifest
from rag.index.replica import refuse
from rag.index.store import Store


@dataclass
class Folio:
    """Everything the CLI and the web app use, built once."""

    settings: Settings
    embedder: Embedder
    manifest: Manifest
    client: object
    chat: ChatSlot = field(default_factory=ChatSlot)
    second_embedder: Embedder | None = None  # the second pass's (rag.backfill); None when there is none
    writer_lock: object | None = None
    _stores: dict[str, Store] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self, collection: str | None = None) -> Store:
        """The store of ``collection`` (the settings' one by default), opened once and recovered after a crash.

        A replica's store is synced here when its last sync is older than ``replica_sync_s``: lazily, on
        the request that needs it, so no thread outlives :meth:`close` and a failed sync reaches the user.
        """
        name = collection or self.settings.collection
        with self._lock:
            if name not in self._stores:
                second = self.second_embedder
                store = Store(client=self.client, manifest=self.manifest, collection=name,
                              embedder=self.embedder.name, dim=self.embedder.dim, replica=self.settings.replica,
                              second=(second.name, second.dim) if second is not None else None)
                store.recover()
                self._stores[name] = store
            store = self._stores[name]
        store.sync(older_than_s=self.settings.replica_sync_s)
        return store

    def require_writer(self) -> None:
        """Refuse a change to the library in a replica, in one sentence."""
        if self.settings.replica:
            refuse()

    def drop_collection(self, name: str) -> int:
        """Delete a collection; the next :meth:`store` of that name opens a fresh, empty one."""
        self.require_writer()
        store = self.store(name)
        count = len(store.documents())
        store.drop()
        with self._lock:
            self._stores.pop(name, None)
        return count

    def documents(self, collection: str | None = None) -> list[DocumentRecord]:
        return self.store(collection).documents()

    def collections(self) -> list[str]:
        """Collections in the manifest, in Chroma (created empty, or whose manifest rows were lost), and the default."""
        names = set(self.manifest.collections()) | {self.settings.collection}
        try:
            names |= {c.name.removeprefix("folio-") for c in self.client.list_collections()
                      if c.name.startswith("folio-") and "." not in c.name}  # "folio-<name>.<embedder>": a second index
        except Exception:  # a remote Chroma that refuses listing: the manifest's names are enough
            pass
        return sorted(names)

    def switch_model(self, name: str) -> dict:
        """Answer with the local model ``name`` from now on (:meth:`app.chat_slot.ChatSlot.switch`); the
        settings then name it too, so the doctor's report and the next save describe it."""
        info = self.chat.switch(name, settings=self.settings)
        self.settings = replace(self.settings, model=name)
        return info

    def close(self) -> None:
        self.chat.close()
        self.embedder.close()
        if self.second_embedder is not None:
            self.second_embedder.close()
        self.manifest.close()
        if self.writer_lock is not None:
            self.writer_lock.release()


def build(settings: Settings, *, llm: bool = True, chat: ChatModel | None = None, writer: bool = False) -> Folio:
    """Build the services; ``llm=False`` skips the language model (search, ingest, docs).

    ``writer=True`` (serve, ingest, remove) takes the home folder's writer lock first: one Chroma
    directory never has two writers. The OS releases the lock if the process dies.
    """
    if settings.replica and not settings.chroma_url:
        raise FolioError("FOLIO_REPLICA is set but FOLIO_CHROMA_URL is not: a replica reads the library from the "
                         "Chroma server its writer uses; set FOLIO_CHROMA_URL, or unset FOLIO_REPLICA.")
    settings.home.mkdir(parents=True, exist_ok=True)
    lock = acquire_writer_lock(settings.home) if writer else None
    try:
        embedder = build_embedder(embedder_source(settings.embedder, settings), threads=settings.threads)
        second = (build_embedder(embedder_source(settings.second_embedder, settings), threads=settings.threads)
                  if settings.second_embedder else None)
        folio = Folio(settings=settings, embedder=embedder, manifest=Manifest(settings.manifest_path),
                      client=open_index_client(settings), writer_lock=lock, second_embedder=second)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if chat is not None:
        folio.chat = ChatSlot(chat)
    elif llm:
        folio.chat = ChatSlot(*load_chat(settings))
    return folio


def open_index_client(settings: Settings):
    """Chroma on disk under FOLIO_HOME, or the Chroma server of ``FOLIO_CHROMA_URL`` (:mod:`rag.index.client`)."""
    if settings.chroma_url:
        return open_server_client(settings.chroma_url, token=settings.chroma_token)
    return open_client(settings.index_dir)


def acquire_writer_lock(home: Path):
    from filelock import FileLock, Timeout

    lock = FileLock(str(home / "writer.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise FolioError(f"Another Folio process ('folio serve' or 'folio ingest') is already writing to {home}; "
                         f"stop it first, or use another FOLIO_HOME.") from None
    return lock


def embedder_source(name: str, settings: Settings) -> str:
    """What :func:`rag.embedding.build_embedder` loads for the setting ``name``: a pulled embedder's folder
    (``folio models pull multilingual-e5-large``), or the name itself (bundled ones, a folder path)."""
    from inference.registry import PULLED_EMBEDDERS, embedder_dir, local_path

    spec = next((s for s in PULLED_EMBEDDERS if s.name == name), None)
    if spec is None:
        return name
    if local_path(spec, settings.models_dir) is None:
        raise FolioError(f"The embedder {name} is not on this machine; pull it first with 'folio models pull {name}'.")
    return str(embedder_dir(spec, settings.models_dir))
