"""Files → index, one file at a time, each in isolation: a failed file never changes the index.

For each file: unchanged content is recognised by its sha256 before anything is parsed; otherwise
load → chunk → embed (all in memory) → :meth:`rag.store.Store.put`, which commits atomically.
Any :class:`~rag.errors.DocumentError` becomes a ``failed`` result with its one-sentence reason.

Files are parsed in a worker process with a time and a memory limit (:mod:`rag.sandbox`), so a
decompression bomb or a parser crash fails that one file and nothing else; ``isolate=False`` parses
in this process instead (unit tests of the logic around it).

>>> import tempfile, pathlib
>>> from rag.embedding import FakeEmbedder
>>> from rag.manifest import Manifest
>>> from rag.store import Store, open_client
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

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.chunking import chunk_document
from rag.embedding import Embedder
from rag.errors import DocumentError
from rag.loading import DEFAULT_MAX_BYTES, discover, load, sha256_of
from rag.sandbox import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, load_isolated
from rag.store import Store


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file."""

    path: str
    name: str
    status: str  # "added" | "replaced" | "unchanged" | "failed"
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
        return f"{self.name}: {self.status} ({self.pages} pages, {self.chunks} chunks, {self.language})"


def ingest(paths: list[Path], *, store: Store, embedder: Embedder, chunk_tokens: int = 200, overlap_tokens: int = 40,
           max_bytes: int = DEFAULT_MAX_BYTES, names: list[str] | None = None,
           on_file: Callable[[int, int, str], None] | None = None, isolate: bool = True,
           timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB) -> Iterator[IngestResult]:
    """Ingest files and folders; yields one :class:`IngestResult` per file, as each finishes.

    ``names`` overrides the document names (for uploads whose temporary path differs from the name).
    ``on_file(done, total, name)`` is called before each file, for progress bars. Parsing one file
    may take ``timeout_s`` seconds and ``memory_mb`` megabytes (see :mod:`rag.sandbox`).
    """
    files = discover([Path(p) for p in paths]) if names is None else [Path(p) for p in paths]
    for position, path in enumerate(files):
        name = names[position] if names is not None else path.name
        if on_file:
            on_file(position, len(files), name)
        yield ingest_one(path, name=name, store=store, embedder=embedder, chunk_tokens=chunk_tokens,
                         overlap_tokens=overlap_tokens, max_bytes=max_bytes, isolate=isolate, timeout_s=timeout_s,
                         memory_mb=memory_mb)


def ingest_one(path: Path, *, name: str, store: Store, embedder: Embedder, chunk_tokens: int, overlap_tokens: int,
               max_bytes: int, isolate: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S,
               memory_mb: int = DEFAULT_MEMORY_MB) -> IngestResult:
    """Ingest one file; never raises for a bad file, returns a ``failed`` result instead."""
    existing = store.find(name)
    try:
        if existing is not None and path.is_file() and path.stat().st_size <= max_bytes \
                and sha256_of(path) == existing.sha256:
            return IngestResult(path=str(path), name=name, status="unchanged", pages=existing.pages,
                                chunks=existing.chunks, language=existing.language, doc_id=existing.doc_id)
        if isolate:
            document = load_isolated(path, name=name, max_bytes=max_bytes, timeout_s=timeout_s, memory_mb=memory_mb)
        else:
            document = load(path, name=name, max_bytes=max_bytes)
    except DocumentError as error:
        return IngestResult(path=str(path), name=name, status="failed", reason=error.reason)
    except Exception as error:  # a parser bug on a hostile file must not stop the other files
        return IngestResult(path=str(path), name=name, status="failed",
                            reason=f"the file could not be parsed ({type(error).__name__}); it may be damaged")
    chunks = chunk_document(document, token_length=embedder.token_length, chunk_tokens=chunk_tokens,
                            overlap_tokens=overlap_tokens)
    vectors = embedder.embed_passages([c.text for c in chunks])
    result = store.put(document, chunks, vectors)
    return IngestResult(path=str(path), name=name, status=result.status, pages=result.record.pages,
                        chunks=result.record.chunks, language=result.record.language, doc_id=result.record.doc_id)
