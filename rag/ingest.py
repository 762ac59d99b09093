"""Files → index, one file at a time, each in isolation: a failed file never changes the index.

For each file: unchanged content is recognised by its sha256 before anything is parsed; otherwise
load → chunk → embed (all in memory) → :meth:`rag.index.store.Store.put`, which commits atomically.
Any :class:`~core.errors.DocumentError` becomes a ``failed`` result with its one-sentence reason.

Files are parsed in a worker process with a time and a memory limit (:mod:`rag.sandbox`), so a
decompression bomb or a parser crash fails that one file and nothing else; ``isolate=False`` parses
in this process instead (unit tests of the logic around it).

An e-mail's attachments that Folio can read become documents of their own, named
``mail.eml › report.pdf``, each with its own result, right after the mail's (see :func:`attachments_of`).

>>> import tempfile, pathlib
>>> from rag.embedding import FakeEmbedder
>>> from rag.index.manifest import Manifest
>>> from rag.index.client import open_client
>>> from rag.index.store import Store
>>> home = pathlib.Path(tempfile.mkdtemp()); (home / "a.txt").write_text("Depots open at six.")
19
>>> (home / "b.txt").write_text("")
0
>>> store = Store(client=open_client(home / "i"), manifest=Manifest(home / "m"), collection="default",
...               embedder="fake-hash-64", dim=64)
>>> [(r.name, r.status, r.reason) for r in ingest([home / "a.txt", home / "b.txt"], store=store, embedder=FakeEmbedder())]
[('a.txt', 'added', None), ('b.txt', 'failed', 'the file is empty')]
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.chunking import chunk_document
from rag.documents import Document
from rag.embedding import Embedder
from core.errors import DocumentError, FolioError
from rag.library import ATTACHMENT_SEPARATOR, discover
from rag.loading import DEFAULT_MAX_BYTES, attachments, check_file, load, sha256_of, sniff
from rag.sandbox import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, attachments_isolated, load_isolated
from rag.index.store import Store


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file."""

    path: str
    name: str
    status: str  # "added" | "replaced" | "unchanged" | "failed" | "skipped" (and "moved" | "removed" in a folder sync)
    pages: int = 0
    chunks: int = 0
    language: str = ""
    doc_id: str = ""
    reason: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def message(self) -> str:
        if self.status == "failed":
            return f"{self.name}: {self.reason}."
        if self.status == "skipped":
            return f"{self.name}: skipped: {self.reason}."
        if self.status in ("moved", "removed"):
            return f"{self.name}: {self.status}" + (f" ({self.reason})" if self.reason else "")
        return f"{self.name}: {self.status} ({self.pages} pages, {self.chunks} chunks, {self.language})"


def ingest(paths: list[Path], *, store: Store, embedder: Embedder, chunk_tokens: int = 200, overlap_tokens: int = 0,
           max_bytes: int = DEFAULT_MAX_BYTES, names: list[str] | None = None, digests: list[str | None] | None = None,
           on_file: Callable[[int, int, str], None] | None = None, isolate: bool = True,
           timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB,
           on_page: Callable[[str, int, int], None] | None = None, origin: str = "",
           exclude: list[Path] | None = None) -> Iterator[IngestResult]:
    """Ingest files and folders; yields one :class:`IngestResult` per file, as each finishes.

    Folders are walked by :func:`rag.library.discover`: a file of a type Folio does not read, or an
    editor's temporary file, is reported as ``skipped`` with the reason, first; nothing below ``exclude``
    is read. ``origin`` records the watched folder the documents come from (see :mod:`rag.sync`).

    ``names`` overrides the document names (for uploads whose temporary path differs from the name),
    and ``digests`` gives the files' sha256 where the caller has hashed them already (each file is
    hashed once on its way in).
    ``on_file(done, total, name)`` is called before each file, for progress bars. Parsing one file
    may take ``timeout_s`` seconds and ``memory_mb`` megabytes (see :mod:`rag.sandbox`); pages read
    by OCR get ``timeout_s`` each, and ``on_page(name, done, total)`` hears of each as it is read
    (from the thread that reads ahead, possibly while the previous file is still embedding).

    The next file is read (hashed, and parsed in the worker process) while this one is embedded,
    so parsing costs no wall time once the embedder is the slower stage. Small documents are embedded
    and written together, up to :data:`BATCH_CHUNKS` chunks (:func:`index_many`): a folder of
    thousands of notes is not written one slow index write per note.
    """
    if names is None:
        named, skipped = discover([Path(p) for p in paths], exclude=exclude or ())
        files, file_names = [path for path, _ in named], [name for _, name in named]
        for path, reason in skipped:
            yield IngestResult(path=str(path), name=path.name, status="skipped", reason=reason)
    else:
        files, file_names = [Path(p) for p in paths], list(names)

    def read(position: int) -> Document | IngestResult:
        return read_one(files[position], name=file_names[position], store=store, max_bytes=max_bytes, isolate=isolate,
                        timeout_s=timeout_s, memory_mb=memory_mb, sha256=digests[position] if digests else None,
                        on_page=on_page, origin=origin)

    def finish(waiting: list[tuple[Path, Document | IngestResult]]) -> Iterator[IngestResult]:
        """Index the parsed documents of ``waiting`` together; yield every result in the files' order."""
        indexed = iter(index_many([(d, p) for p, d in waiting if isinstance(d, Document)], store=store,
                                  embedder=embedder, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens))
        for path, item in waiting:
            result = item if isinstance(item, IngestResult) else next(indexed)
            yield result
            if result.status != "failed" and _is_mail(path):
                yield from _attachments(path, result.name)
        waiting.clear()

    def _attachments(path: Path, mail: str) -> Iterator[IngestResult]:
        names_now: set[str] = set()
        for attached in attachments_of(path, mail=mail, store=store, embedder=embedder, chunk_tokens=chunk_tokens,
                                       overlap_tokens=overlap_tokens, max_bytes=max_bytes, isolate=isolate,
                                       timeout_s=timeout_s, memory_mb=memory_mb, on_page=on_page, origin=origin):
            names_now.add(attached.name)
            yield attached
        yield from remove_attachments(store, mail=mail, keep=names_now)

    waiting: list[tuple[Path, Document | IngestResult]] = []
    size = 0  # characters of the documents waiting (a cheap stand-in for their chunks)
    ahead = _in_background(read, 0) if files else None
    for position, path in enumerate(files):
        current, ahead = ahead, _in_background(read, position + 1) if position + 1 < len(files) else None
        if on_file:
            on_file(position, len(files), file_names[position])
        item = current.result()
        big = isinstance(item, Document) and item.char_count >= BATCH_CHARS
        if big or isinstance(item, Document) and any(isinstance(d, Document) and d.doc_id == item.doc_id
                                                     for _, d in waiting):
            # A big document goes alone, after the small ones before it are in; the same name twice in one
            # run: the second replaces the first.
            yield from finish(waiting)
            size = 0
        waiting.append((path, item))
        size += item.char_count if isinstance(item, Document) else 0
        if size >= BATCH_CHARS or len(waiting) >= BATCH_DOCUMENTS or _is_mail(path):
            yield from finish(waiting)
            size = 0
    yield from finish(waiting)


def _in_background(fn: Callable, *args) -> Future:
    """``fn(*args)`` in a daemon thread: Ctrl-C during ingestion never waits for a read ahead to end."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as error:  # handed to whoever asks for the result
            future.set_exception(error)

    threading.Thread(target=run, name="folio-read", daemon=True).start()
    return future


def read_one(path: Path, *, name: str, store: Store, max_bytes: int, isolate: bool = True,
             timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB,
             sha256: str | None = None, on_page: Callable[[str, int, int], None] | None = None,
             origin: str = "") -> Document | IngestResult:
    """The parsed document, or the result that ends this file here: ``unchanged`` or ``failed``. Never raises.

    The file is hashed once (unless ``sha256`` is given): unchanged content is recognised before parsing.
    Its size and mtime are taken before, so a file changed while it was read looks changed next time.
    """
    progress = (lambda done, total: on_page(name, done, total)) if on_page is not None else None
    try:
        check_file(path, name=name, max_bytes=max_bytes)  # metadata only: nothing too big is read
        stat = path.stat()
        digest = sha256 or sha256_of(path)
        existing = store.find(name)
        if existing is not None and digest == existing.sha256:
            return IngestResult(path=str(path), name=name, status="unchanged", pages=existing.pages,
                                chunks=existing.chunks, language=existing.language, doc_id=existing.doc_id)
        if isolate:
            document = load_isolated(path, name=name, max_bytes=max_bytes, timeout_s=timeout_s, memory_mb=memory_mb,
                                     sha256=digest, on_page=progress)
        else:
            document = load(path, name=name, max_bytes=max_bytes, sha256=digest, on_page=progress)
        return dataclasses.replace(document, origin=origin, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    except DocumentError as error:
        return IngestResult(path=str(path), name=name, status="failed", reason=error.reason)
    except Exception as error:  # a parser bug on a hostile file must not stop the other files
        return IngestResult(path=str(path), name=name, status="failed",
                            reason=f"the file could not be parsed ({type(error).__name__}); it may be damaged")


#: Small documents are indexed together until they hold about this much text (~256 chunks of 200 tokens)...
BATCH_CHARS = 200_000
#: ... or this many documents.
BATCH_DOCUMENTS = 64


def index_one(document: Document, *, path: Path, store: Store, embedder: Embedder, chunk_tokens: int,
              overlap_tokens: int) -> IngestResult:
    """Chunk, embed and commit one parsed document (atomically, see :meth:`rag.index.store.Store.put`).

    An error of the embedder or of the index (a full disk, a Chroma server gone) fails this file, which
    leaves the index as it was, and the run goes on with the next one. Never raises, but for Ctrl-C.
    """
    return index_many([(document, path)], store=store, embedder=embedder, chunk_tokens=chunk_tokens,
                      overlap_tokens=overlap_tokens)[0]


def index_many(documents: list[tuple[Document, Path]], *, store: Store, embedder: Embedder, chunk_tokens: int,
               overlap_tokens: int) -> list[IngestResult]:
    """Chunk and embed several parsed documents in one pass of the embedder and commit them in one write
    (:meth:`rag.index.store.Store.put`); a result each, in order. If that fails, each document is
    tried on its own, so one bad document fails alone and the others go in. Never raises, but for Ctrl-C."""
    if not documents:
        return []
    try:
        chunked = [chunk_document(d, token_length=embedder.token_length, chunk_tokens=chunk_tokens,
                                  overlap_tokens=overlap_tokens) for d, _ in documents]
        vectors = embedder.embed_passages([c.indexed_text for chunks in chunked for c in chunks])  # text + section
        items, start = [], 0
        for (document, _), chunks in zip(documents, chunked):
            items.append((document, chunks, vectors[start:start + len(chunks)]))
            start += len(chunks)
        results = store.put(items)
    except Exception as error:
        if len(documents) > 1:
            return [index_many([one], store=store, embedder=embedder, chunk_tokens=chunk_tokens,
                               overlap_tokens=overlap_tokens)[0] for one in documents]
        document, path = documents[0]
        if isinstance(error, FolioError):  # e.g. a replica's refusal, said as it is
            return [IngestResult(path=str(path), name=document.name, status="failed", reason=str(error).rstrip("."))]
        detail = _one_line(error)
        return [IngestResult(path=str(path), name=document.name, status="failed",
                             reason=f"it could not be indexed ({type(error).__name__}{': ' + detail if detail else ''}); "
                                    f"the index was left as it was, try again")]
    return [IngestResult(path=str(path), name=document.name, status=r.status, pages=r.record.pages,
                         chunks=r.record.chunks, language=r.record.language, doc_id=r.record.doc_id)
            for (document, path), r in zip(documents, results)]


MAX_MAIL_DEPTH = 3  # a mail attached to a mail attached to a mail: deeper attachments are not unpacked


def attachments_of(path: Path, *, mail: str, store: Store, embedder: Embedder, chunk_tokens: int, overlap_tokens: int,
                   max_bytes: int, isolate: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S,
                   memory_mb: int = DEFAULT_MEMORY_MB, on_page: Callable[[str, int, int], None] | None = None,
                   origin: str = "") -> Iterator[IngestResult]:
    """Index each readable attachment of the e-mail at ``path`` as a document named ``{mail} › {file}``.

    Attachments are extracted in the worker (names and bytes; one over ``max_bytes`` fails with the
    reason), written to a temporary folder and ingested like files; a mail attached to a mail is
    unpacked in turn, down to :data:`MAX_MAIL_DEPTH`. A document's path records where it came from
    (``/mail/folder/mail.eml › report.pdf``), since the temporary copy is gone afterwards.
    """
    if mail.count(ATTACHMENT_SEPARATOR) >= MAX_MAIL_DEPTH - 1:
        return
    try:
        found = (attachments_isolated(path, name=mail, max_bytes=max_bytes, timeout_s=timeout_s, memory_mb=memory_mb)
                 if isolate else attachments(path, name=mail, max_bytes=max_bytes))
    except DocumentError as error:
        yield IngestResult(path=str(path), name=f"{mail}{ATTACHMENT_SEPARATOR}(attachments)", status="failed",
                           reason=f"its attachments could not be read: {error.reason}")
        return
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="folio-attachments-") as folder:
        for number, attachment in enumerate(found, 1):
            label = _unique(attachment.name, seen)
            name, where = f"{mail}{ATTACHMENT_SEPARATOR}{label}", f"{path}{ATTACHMENT_SEPARATOR}{label}"
            if attachment.data is None:
                yield IngestResult(path=where, name=name, status="failed",
                                   reason=f"the attachment is {attachment.size / 1e6:.0f} MB, over the "
                                          f"{max_bytes / 1e6:.0f} MB limit (raise FOLIO_MAX_FILE_MB to allow it)")
                continue
            copy = Path(folder) / f"{number}-{attachment.name}"
            copy.write_bytes(attachment.data)
            item = read_one(copy, name=name, store=store, max_bytes=max_bytes, isolate=isolate, timeout_s=timeout_s,
                            memory_mb=memory_mb, on_page=on_page, origin=origin)
            if isinstance(item, IngestResult):
                yield dataclasses.replace(item, path=where)
                continue
            yield index_one(dataclasses.replace(item, path=where), path=Path(where), store=store, embedder=embedder,
                            chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)
            if _is_mail(copy):
                yield from attachments_of(copy, mail=name, store=store, embedder=embedder, chunk_tokens=chunk_tokens,
                                          overlap_tokens=overlap_tokens, max_bytes=max_bytes, isolate=isolate,
                                          timeout_s=timeout_s, memory_mb=memory_mb, on_page=on_page, origin=origin)


def remove_attachments(store: Store, *, mail: str, keep: set[str] = frozenset()) -> Iterator[IngestResult]:
    """Remove the documents that were attachments of ``mail`` (but those in ``keep``): the mail changed or went."""
    for record in store.documents(match=f"{mail}{ATTACHMENT_SEPARATOR}"):
        if record.name.startswith(f"{mail}{ATTACHMENT_SEPARATOR}") and record.name not in keep:
            store.remove(record.doc_id)
            yield IngestResult(path=record.path, name=record.name, status="removed", doc_id=record.doc_id,
                               reason="no longer attached to its mail")


def _is_mail(path: Path) -> bool:
    try:
        return path.is_file() and sniff(path) == ".eml"
    except OSError:
        return False


def _unique(name: str, seen: set[str]) -> str:
    """``name``, or ``name (2)``... when a mail has two attachments of that name."""
    label, count = name, 1
    while label in seen:
        count += 1
        stem, dot, suffix = name.rpartition(".")
        label = f"{stem} ({count}).{suffix}" if dot else f"{name} ({count})"
    seen.add(label)
    return label


def _one_line(error: Exception, *, limit: int = 160) -> str:
    """An exception's message on one line, cut to ``limit`` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
