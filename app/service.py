"""The calls the CLI and the web app share: each passes the settings into ``rag`` and nothing more.

No retrieval or prompt logic lives here; it only wires :class:`app.factory.Folio` to ``rag``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from app.factory import Folio
from app.pacing import Pacing
from app.settings import WatchedFolder, save_settings
from core.chat import ChatModel, Message
from core.errors import FolioError
from rag import sync
from rag.answering import Answer, Event, Stats, answer_stream, final
from rag.documents import Passage
from rag.index.store import check_collection_name
from rag.ingest import IngestResult, ingest, remove_attachments
from rag.library import SETTLE_S
from rag.retrieval import search
from rag.sync import PassReport
from rag.translation import ChatTranslator

SAMPLES_MARKER = ".samples-indexed"


def ingest_paths(folio: Folio, paths: Sequence[Path], *, names: list[str] | None = None,
                 digests: list[str | None] | None = None, collection: str | None = None,
                 on_file: Callable[[int, int, str], None] | None = None) -> Iterator[IngestResult]:
    folio.require_writer()
    s = folio.settings
    return ingest(list(paths), store=folio.store(collection), embedder=folio.embedder, chunk_tokens=s.chunk_tokens,
                  overlap_tokens=s.chunk_overlap, max_bytes=s.max_file_mb * 1024 * 1024, names=names, digests=digests,
                  on_file=on_file, timeout_s=s.parse_timeout_s, memory_mb=s.parse_memory_mb, exclude=[s.home])


def search_passages(folio: Folio, query: str, *, k: int | None = None, collection: str | None = None,
                    doc_ids: list[str] | None = None, mode: str = "hybrid") -> list[Passage]:
    return search(query, store=folio.store(collection), embedder=folio.embedder, k=k or folio.settings.top_k,
                  doc_ids=doc_ids, mode=mode, second=folio.second_embedder)


def answer_events(folio: Folio, question: str, *, language: str | None = None, history: Sequence[Message] = (),
                  collection: str | None = None, doc_ids: list[str] | None = None,
                  stop: threading.Event | None = None, whole_window: bool = False) -> Iterator[Event]:
    """The events of one answer; the chat model in use when it starts serves it to the end, even across a switch.

    The sources are sized to the first-word target at this machine's measured speed for that model
    (:mod:`app.pacing`; the whole window with ``whole_window``), and the answer's own timing refines it.
    """
    s = folio.settings
    with folio.chat.serving() as (chat, info):
        key = info.get("pacing_key")
        pacing = Pacing(s.home) if key else None
        speed = pacing.speed(key) if pacing else None
        for event in answer_stream(question, store=folio.store(collection), embedder=folio.embedder, chat=chat,
                                   language=language or s.language, history=history, k=s.candidates or None,
                                   answer_tokens=s.answer_tokens, temperature=s.temperature, doc_ids=doc_ids, stop=stop,
                                   prompt_tps=speed.prompt_tps if speed else None, ttft_target_s=s.ttft_target_s,
                                   whole_window=whole_window, second=folio.second_embedder,
                                   translator=_translator(folio, chat)):
            if isinstance(event, Stats) and pacing is not None and not (stop and stop.is_set()):
                pacing.refine(key, event)
            yield event


def sync_folder(folio: Folio, path: Path, *, collection: str | None = None, settle_s: float = SETTLE_S) -> PassReport:
    """One pass over a watched folder (:func:`rag.sync.sync_folder`) with the settings' ingestion limits."""
    folio.require_writer()
    s = folio.settings
    return sync.sync_folder(Path(path), store=folio.store(collection), embedder=folio.embedder, settle_s=settle_s,
                            exclude=[s.home], chunk_tokens=s.chunk_tokens, overlap_tokens=s.chunk_overlap,
                            max_bytes=s.max_file_mb * 1024 * 1024, timeout_s=s.parse_timeout_s,
                            memory_mb=s.parse_memory_mb)


def watch_folder(folio: Folio, path: Path | str, *, collection: str | None = None) -> WatchedFolder:
    """Add a folder to the watched ones saved in folio.toml (``folio serve`` keeps it in step)."""
    folio.require_writer()
    folder = WatchedFolder(Path(path).expanduser().resolve(), check_collection_name(collection or folio.settings.collection))
    if not folder.path.is_dir():
        raise FolioError(f"{folder.path}: no such folder; check the path.")
    if folio.settings.home.resolve() in (folder.path, *folder.path.parents):
        raise FolioError(f"{folder.path}: it is inside Folio's own data folder ({folio.settings.home}); watch another folder.")
    if folder not in folio.settings.folders:
        _save_folders(folio, (*folio.settings.folders, folder))
    return folder


def forget_folder(folio: Folio, path: Path | str, *, collection: str | None = None) -> int:
    """Stop watching a folder and remove the documents that came from it; returns how many were removed."""
    folio.require_writer()
    folder = WatchedFolder(Path(path).expanduser().resolve(), collection or folio.settings.collection)
    _save_folders(folio, tuple(f for f in folio.settings.folders if f != folder))
    store = folio.store(folder.collection)
    records = store.documents(origin=str(folder.path))
    for record in records:
        store.remove(record.doc_id)
    return len(records)


def _save_folders(folio: Folio, folders: tuple[WatchedFolder, ...]) -> None:
    save_settings(folio.settings, folders=folders)
    folio.settings = folio.settings.with_(folders=folders)


def answer(folio: Folio, question: str, *, on_event: Callable[[Event], None] | None = None, **options) -> Answer:
    """:func:`answer_events` run to its end (each event also handed to ``on_event``): the final :class:`Answer`."""
    return final(answer_events(folio, question, **options), on_event=on_event)


def doc_ids(folio: Folio, keys: Sequence[str] | None, *, collection: str | None = None) -> list[str] | None:
    """The ids of the documents named (by name or id) in ``keys``; None for none, meaning the whole collection."""
    if not keys:
        return None
    store = folio.store(collection)
    ids = []
    for key in keys:
        record = store.find(key)
        if record is None:
            raise FolioError(f"No document '{key}' in collection '{store.collection_name}'; 'folio docs' lists them.")
        ids.append(record.doc_id)
    return ids


def index_samples_once(folio: Folio) -> list[IngestResult]:
    """On the very first start, index ``sample_docs/`` so there is something to ask about (not in a replica)."""
    marker = folio.settings.home / SAMPLES_MARKER
    samples = folio.settings.sample_docs
    if folio.settings.replica or marker.exists() or not samples.is_dir() or folio.documents():
        return []
    results = list(ingest_paths(folio, [samples]))
    marker.write_text("sample_docs indexed on first start; delete this file to index them again\n")
    return results


# -- the web app's library: kept copies of uploads, removal, re-indexing, collections ------------
# Uploads arrive as temporary files that vanish; a copy is kept under FOLIO_HOME/files so that the
# cited-page preview and "re-index" still find the file later. One folder per collection and
# content hash: a replaced version's copy is deleted once the new one is committed.
FILES_DIR = "files"


def kept_files_dir(folio: Folio, collection: str | None = None) -> Path:
    return folio.settings.home / FILES_DIR / folio.store(collection).collection_name


def ingest_uploads(folio: Folio, paths: Sequence[Path], *, names: list[str], collection: str | None = None,
                   on_file: Callable[[int, int, str], None] | None = None) -> list[IngestResult]:
    """Ingest uploaded files under their original ``names``, keeping a copy of each added or replaced one."""
    import shutil

    from rag.loading import sha256_of

    folio.require_writer()  # before any upload is copied
    store = folio.store(collection)
    folder = kept_files_dir(folio, collection)
    kept: list[Path] = []
    digests: list[str | None] = []
    for path, name in zip(paths, names):
        try:
            digest = sha256_of(Path(path))  # once: the copy's folder, then ingest's unchanged check and record
            target = folder / digest[:16] / Path(name).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            kept.append(target)
            digests.append(digest)
        except OSError:
            kept.append(Path(path))  # unreadable: ingest reports why, per file
            digests.append(None)
    before = {name: store.find(name) for name in names}
    results = list(ingest_paths(folio, kept, names=list(names), digests=digests, collection=collection,
                                on_file=on_file))
    for copy, result in zip(kept, results):
        old = before.get(result.name)
        old_path = Path(old.path) if old is not None else None
        if result.status == "failed" or (result.status == "unchanged" and old_path != copy):
            _forget_copy(folio, copy, collection)
        elif result.status == "replaced" and old_path is not None and old_path != copy:
            _forget_copy(folio, old_path, collection)
    return results


def _forget_copy(folio: Folio, path: Path, collection: str | None) -> None:
    """Delete a kept copy (never anything outside FOLIO_HOME/files/<collection>)."""
    folder = kept_files_dir(folio, collection).resolve()
    path = path.resolve()
    if folder in path.parents and path.is_file():
        path.unlink()
        try:
            path.parent.rmdir()
        except OSError:
            pass


def remove_document(folio: Folio, key: str, *, collection: str | None = None):
    """Remove a document (by id or name), the documents that were its attachments, and its kept copy."""
    folio.require_writer()
    store = folio.store(collection)
    record = store.remove(key)
    list(remove_attachments(store, mail=record.name))
    _forget_copy(folio, Path(record.path), collection)
    return record


def reindex_document(folio: Folio, key: str, *, collection: str | None = None) -> IngestResult:
    """Ingest a document again from the file it was added from (replaced if the file changed)."""
    folio.require_writer()
    record = folio.store(collection).find(key)
    if record is None:
        raise FolioError(f"No document '{key}' in collection '{folio.store(collection).collection_name}'.")
    if not Path(record.path).is_file():
        raise FolioError(f"{record.name}: the file it was added from ({record.path}) is gone; add it again.")
    return next(iter(ingest_paths(folio, [Path(record.path)], names=[record.name], collection=collection)))


def collection_names(folio: Folio) -> list[str]:
    """Collections with documents, the default one, and empty ones created in this FOLIO_HOME."""
    return folio.collections()


def create_collection(folio: Folio, name: str) -> str:
    """Create an empty collection (its name is checked); returns the name."""
    folio.require_writer()
    name = check_collection_name((name or "").strip())
    folio.store(name)
    return name


def drop_collection(folio: Folio, name: str) -> int:
    """Delete a collection: its chunks, its documents and their kept copies; returns how many documents it held."""
    import shutil

    count = folio.drop_collection(name)
    shutil.rmtree(folio.settings.home / FILES_DIR / name, ignore_errors=True)
    return count


def page_chunks(folio: Folio, doc_id: str, page: int, *, collection: str | None = None) -> list:
    """The indexed chunks of one page of a document, in order (the text preview when the file is gone)."""
    return [c for c in folio.store(collection).chunks(doc_ids=[doc_id]) if c.page == page]


_TRANSLATORS: "weakref.WeakKeyDictionary[ChatModel, ChatTranslator]" = weakref.WeakKeyDictionary()


def _translator(folio: Folio, chat: ChatModel) -> ChatTranslator | None:
    """The question's translations come from capable models only: not the stand-in, which cannot follow the
    instruction (see :mod:`rag.translation`); one cache per loaded model."""
    if not folio.settings.translate_questions or folio.chat.info.get("stand_in", True) or chat is not folio.chat.current:
        return None
    if chat not in _TRANSLATORS:
        _TRANSLATORS[chat] = ChatTranslator(chat)
    return _TRANSLATORS[chat]
