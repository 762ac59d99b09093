"""The one place heavy things are built: embedder, index client, manifest, chat model.

Nothing heavy happens at import. ``build(settings)`` returns a :class:`Folio` holding them; the CLI
and the web app call it once at start-up and ``close()`` it at the end. The web app may swap the chat
model for another local one while it runs (:meth:`Folio.switch_model`); each answer holds the model it
started with (:meth:`Folio.using_chat`), so a switch never breaks an answer in progress.

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

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings, save_settings
from core.chat import ChatModel
from rag.embedding import Embedder, build_embedder
from core.errors import FolioError
from rag.index.manifest import DocumentRecord, Manifest
from rag.index.replica import refuse
from rag.index.client import open_client, open_server_client
from rag.index.store import Store

if TYPE_CHECKING:
    from inference.registry import LocalModel

FULL_CTX = 32768  # Mixtral 8x7B's trained window: retrieval fills it
# The stand-in runs on the CPU; a 2,048-token window keeps its first token within seconds on 2 cores.
STAND_IN_CTX = 2048
STAND_IN_NOTE = ("The small bundled model {name} stands in for Mixtral 8x7B Instruct: it proves every path works, "
                 "not Folio's answer quality. Run 'folio models pull mixtral-8x7b-instruct:q4_k_m' for real answers.")


class ChatLeases:
    """How many answers are using each chat model, so that a replaced model is closed only once none is.

    >>> class Model:
    ...     closed = False
    ...     def close(self): self.closed = True
    >>> leases, old = ChatLeases(), Model()
    >>> leases.take(old); leases.retire(old); old.closed      # an answer still streams from it
    False
    >>> leases.give_back(old); old.closed                      # the answer ended: now it goes
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}
        self._retired: dict[int, ChatModel] = {}

    def take(self, model: ChatModel) -> None:
        with self._lock:
            self._users[id(model)] = self._users.get(id(model), 0) + 1

    def give_back(self, model: ChatModel) -> None:
        with self._lock:
            left = self._users.pop(id(model)) - 1
            if left:
                self._users[id(model)] = left
            close = not left and self._retired.pop(id(model), None) is not None
        if close:
            model.close()

    def retire(self, model: ChatModel) -> None:
        """Close ``model`` now if no answer uses it, else when the last one ends."""
        with self._lock:
            if self._users.get(id(model)):
                self._retired[id(model)] = model
                return
        model.close()


@dataclass
class Folio:
    """Everything the CLI and the web app use, built once."""

    settings: Settings
    embedder: Embedder
    manifest: Manifest
    client: object
    chat: ChatModel | None = None
    model_info: dict = field(default_factory=dict)
    writer_lock: object | None = None
    _stores: dict[str, Store] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _leases: ChatLeases = field(default_factory=ChatLeases)
    _switching: threading.Lock = field(default_factory=threading.Lock)

    def store(self, collection: str | None = None) -> Store:
        """The store of ``collection`` (the settings' one by default), opened once and recovered after a crash.

        A replica's store is synced here when its last sync is older than ``replica_sync_s``: lazily, on
        the request that needs it, so no thread outlives :meth:`close` and a failed sync reaches the user.
        """
        name = collection or self.settings.collection
        with self._lock:
            if name not in self._stores:
                store = Store(client=self.client, manifest=self.manifest, collection=name,
                              embedder=self.embedder.name, dim=self.embedder.dim, replica=self.settings.replica)
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
            names |= {c.name.removeprefix("folio-") for c in self.client.list_collections() if c.name.startswith("folio-")}
        except Exception:  # a remote Chroma that refuses listing: the manifest's names are enough
            pass
        return sorted(names)

    def require_chat(self) -> ChatModel:
        if self.chat is None:
            raise FolioError("No language model is loaded in this process; start it with the model enabled.")
        return self.chat

    @contextmanager
    def using_chat(self) -> Iterator[ChatModel]:
        """The chat model for one answer, held until the answer ends: a model switched away from meanwhile
        keeps serving it and is closed afterwards (``llama_cpp.Llama`` must not be closed mid-answer)."""
        with self._lock:
            chat = self.require_chat()
            self._leases.take(chat)
        try:
            yield chat
        finally:
            self._leases.give_back(chat)

    def model_choices(self) -> tuple[list[LocalModel], str | None]:
        """The local chat models one can switch to, and the ``name`` of the one in use.

        None with a remote engine (``FOLIO_LLM_URL``): it serves its own models. A model in use that
        lies outside ``FOLIO_HOME/models`` (``FOLIO_MODEL=/elsewhere/x.gguf``) is listed too.
        """
        from inference import registry

        if self.settings.llm_url:
            return [], None
        models = registry.local_llms(self.settings.models_dir)
        loaded = self.model_info.get("path")
        if not loaded:
            return models, None
        in_use = next((m.name for m in models if _same_file(m.path, loaded)), None)
        if in_use is None:
            models.append(registry.LocalModel(name=str(loaded), path=Path(loaded), label=Path(loaded).name))
            in_use = str(loaded)
        return models, in_use

    def switch_model(self, name: str) -> dict:
        """Answer with the local model ``name`` (a :meth:`model_choices` name) from now on; returns its description.

        The new model is built like at start-up and the choice saved as ``model`` in folio.toml (the next
        start uses it) before it replaces the old one, which is closed once no answer uses it. If
        anything fails (a missing or corrupt file, not enough memory) a :class:`FolioError` says why and
        the old model keeps answering. Both models are in memory for a moment, so on a GPU the new
        one is planned with the memory the old one leaves free: it may get fewer layers than after a restart.
        """
        if self.settings.llm_url:
            raise FolioError(f"The models are served by the engine at {self.settings.llm_url} (FOLIO_LLM_URL); "
                             "switch models there, or unset FOLIO_LLM_URL to use local ones.")
        with self._switching:
            models, in_use = self.model_choices()
            self._check_local(name, models)
            if name == in_use:  # nothing to load; the choice is still saved for the next start
                self._save_model(name)
                return self.model_info
            chat, info = build_chat(replace(self.settings, model=name))
            try:
                self._save_model(name)
            except BaseException:
                chat.close()
                raise
            with self._lock:
                old, self.chat, self.model_info = self.chat, chat, info
                self.settings = replace(self.settings, model=name)
            if old is not None:
                self._leases.retire(old)
            return info

    def _save_model(self, name: str) -> None:
        try:
            save_settings(self.settings, model=name)
        except OSError as error:
            raise FolioError(f"{self.settings.home / 'folio.toml'}: the choice of model could not be saved "
                             f"({error.strerror or error}); check that folder's permissions and free space.") from None

    def _check_local(self, name: str, models: list[LocalModel]) -> None:
        if any(m.name == name for m in models):
            return
        if Path(name).suffix == ".gguf":
            raise FolioError(f"The model file {name} is not among the local models (it was moved or deleted); "
                             f"pick one from the list, or put the file in {self.settings.models_dir}.")
        from inference import registry

        spec = registry.get(name)  # an unknown name: the error lists the known ones
        if spec.kind == "llm":
            resolve_model_path(replace(self.settings, model=spec.name))  # not pulled: says how to pull it
        raise FolioError(f"The model {spec.name} is not a local chat model; pick one from the list.")

    def close(self) -> None:
        if self.chat is not None:
            self.chat.close()
        self.embedder.close()
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
        embedder = build_embedder(settings.embedder, threads=settings.threads)
        folio = Folio(settings=settings, embedder=embedder, manifest=Manifest(settings.manifest_path),
                      client=open_index_client(settings), writer_lock=lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if chat is not None:
        folio.chat = chat
    elif llm:
        folio.chat, folio.model_info = build_chat(settings)
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


def _same_file(a: Path | str, b: Path | str) -> bool:
    """The same path, made absolute but with links kept (a link to a model is a model of its own)."""
    return os.path.abspath(a) == os.path.abspath(b)


def resolve_model_path(settings: Settings) -> tuple[Path, bool]:
    """The GGUF to load and whether it is the bundled stand-in."""
    from inference import registry

    if settings.model == registry.BUNDLED:
        return registry.bundled_llm_path(), True
    path = Path(settings.model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FolioError(f"FOLIO_MODEL points at {path}, which does not exist; fix the path or unset it to use the bundled model.")
        return path, False
    from inference.download import verify

    spec = registry.get(settings.model)
    local = registry.local_path(spec, settings.models_dir)
    if local is None:
        raise FolioError(f"The model {spec.name} is not downloaded yet; run 'folio models pull {spec.name}' first.")
    # Size and header checks reject a truncated or tampered file before llama.cpp parses it.
    return verify(local, spec, check_hash=False), spec.bundled


def build_chat(settings: Settings) -> tuple[ChatModel, dict]:
    """The chat model the settings ask for, and a description of it for the UI and doctor."""
    if settings.llm_url:
        from inference.remote import OpenAIChatModel

        model = OpenAIChatModel(settings.llm_url, n_ctx=settings.n_ctx or FULL_CTX, api_key=settings.llm_api_key or None)
        return model, {"name": model.name, "backend": "openai-compatible", "url": settings.llm_url,
                       "n_ctx": model.n_ctx, "stand_in": False}
    from inference.loading import load_with_fallback

    path, stand_in = resolve_model_path(settings)
    n_ctx = window_for(settings, path, stand_in=stand_in)
    n_gpu_layers = gpu_layers_for(settings, path, n_ctx=n_ctx)
    model, fallback = load_with_fallback(path, n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=settings.threads)
    info = {"name": model.name, "backend": "llama.cpp in-process", "path": str(path), "n_ctx": model.n_ctx,
            "n_gpu_layers": model.n_gpu_layers, "stand_in": stand_in}
    if fallback:
        info["fallback"] = fallback
    if stand_in:
        info["note"] = STAND_IN_NOTE.format(name=model.name)
    return model, info


def window_for(settings: Settings, path: Path, *, stand_in: bool) -> int:
    """The context window: the setting, else Mixtral's full 32K (2K for the CPU stand-in), capped by the model's."""
    from inference.llama import trained_context

    return min(settings.n_ctx or (STAND_IN_CTX if stand_in else FULL_CTX), trained_context(path))


def gpu_layers_for(settings: Settings, path: Path, *, n_ctx: int) -> int:
    """Layers to offload: the setting if given, else what the offload plan says fits (0 without GPU offload)."""
    if settings.n_gpu_layers >= 0:
        return settings.n_gpu_layers
    from inference import gguf_info, hardware, planning

    hw = hardware.probe()
    if hw.usable_vram_bytes <= 0:
        return 0
    plan = planning.plan(gguf_info.read_info(path), vram_bytes=hw.usable_vram_bytes, ram_bytes=hw.ram_bytes,
                         n_ctx=n_ctx)
    return plan.n_gpu_layers
