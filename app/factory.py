"""The one place heavy things are built: embedder, index client, manifest, chat model.

Nothing heavy happens at import. ``build(settings)`` returns a :class:`Folio` holding them; the CLI
and the web app call it once at start-up and ``close()`` it at the end.

>>> from pathlib import Path; import tempfile
>>> folio = build(Settings.for_tests(Path(tempfile.mkdtemp()), embedder="fake-hash-64"), llm=False)
>>> folio.store().collection_name, folio.documents()
('default', [])
>>> folio.close()
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.settings import Settings
from rag.chat import ChatModel
from rag.embedding import Embedder, build_embedder
from rag.errors import FolioError
from rag.manifest import DocumentRecord, Manifest
from rag.store import Store, open_client

FULL_CTX = 32768  # Mixtral 8x7B's trained window: retrieval fills it
# The stand-in runs on the CPU; a 2,048-token window keeps its first token within seconds on 2 cores.
STAND_IN_CTX = 2048
STAND_IN_NOTE = ("The small bundled model {name} stands in for Mixtral 8x7B Instruct: it proves every path works, "
                 "not Folio's answer quality. Run 'folio models pull mixtral-8x7b-instruct:q4_k_m' for real answers.")


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

    def store(self, collection: str | None = None) -> Store:
        """The store of ``collection`` (the settings' one by default), opened once and recovered after a crash."""
        name = collection or self.settings.collection
        with self._lock:
            if name not in self._stores:
                store = Store(client=self.client, manifest=self.manifest, collection=name,
                              embedder=self.embedder.name, dim=self.embedder.dim)
                store.recover()
                self._stores[name] = store
            return self._stores[name]

    def drop_collection(self, name: str) -> int:
        """Delete a collection; the next :meth:`store` of that name opens a fresh, empty one."""
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
    """Chroma on disk under FOLIO_HOME, or a Chroma server when ``FOLIO_CHROMA_URL`` is set.

    The token goes as ``Authorization: Bearer`` to the proxy that guards the server (Chroma's own
    server has no authentication: never expose it without one; see docs/deploying.md).
    """
    if not settings.chroma_url:
        return open_client(settings.index_dir)
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise FolioError(f"FOLIO_CHROMA_URL '{settings.chroma_url}' is not an http(s) URL; use e.g. http://127.0.0.1:8000.")
    headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
    try:
        return chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80),
                                   ssl=url.scheme == "https", headers=headers,
                                   settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as error:  # chromadb raises ValueError / httpx errors when the server is not there
        raise FolioError(f"The Chroma server at {settings.chroma_url} could not be reached ({type(error).__name__}); "
                         f"start it or unset FOLIO_CHROMA_URL.") from None


def acquire_writer_lock(home: Path):
    from filelock import FileLock, Timeout

    lock = FileLock(str(home / "writer.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise FolioError(f"Another Folio process ('folio serve' or 'folio ingest') is already writing to {home}; "
                         f"stop it first, or use another FOLIO_HOME.") from None
    return lock


def resolve_model_path(settings: Settings) -> tuple[Path, bool]:
    """The GGUF to load and whether it is the bundled stand-in."""
    from inference import registry

    if settings.model == "bundled":
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
