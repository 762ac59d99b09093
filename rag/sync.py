"""One pass that brings a collection in step with a watched folder: add, replace, move, remove.

:func:`sync_folder` walks the folder (:func:`rag.library.walk`), plans by name, size and mtime
(:func:`rag.library.plan`: an unchanged file is not even hashed), then:

1. hashes the new files and pairs those whose content is a vanished document's: the document is
   *moved* to its new name without being embedded again (:meth:`rag.index.store.Store.move`);
2. *removes* the documents whose file is gone (a mail's attachments with their mail);
3. ingests the new and changed files (*added*, *replaced*, or *unchanged* when only the mtime moved);
   a file that fails is recorded with its size and mtime and reported this once: it is tried again
   when it changes.

Only documents that came from this folder (their ``origin``) are touched: files added by hand or
uploaded are never removed by a sync. Every step is one of the store's atomic changes, so a pass
killed at any point leaves no document half-indexed, and the next pass finishes the job.

>>> import tempfile, pathlib
>>> from rag.embedding import FakeEmbedder
>>> from rag.index.client import open_client
>>> from rag.index.manifest import Manifest
>>> from rag.index.store import Store
>>> home = pathlib.Path(tempfile.mkdtemp()); docs = home / "docs"; docs.mkdir()
>>> _ = (docs / "a.txt").write_text("Depots open at six.")
>>> store = Store(client=open_client(home / "i"), manifest=Manifest(home / "m"), collection="default",
...               embedder="fake-hash-64", dim=64)
>>> sync = lambda: sync_folder(docs, store=store, embedder=FakeEmbedder(), settle_s=0, isolate=False)
>>> [(r.name, r.status) for r in sync().results]
[('docs/a.txt', 'added')]
>>> _ = (docs / "a.txt").rename(docs / "b.txt")
>>> [(r.name, r.status, r.reason) for r in sync().results]
[('docs/b.txt', 'moved', 'from docs/a.txt')]
>>> (docs / "b.txt").unlink(); [(r.name, r.status) for r in sync().results]
[('docs/b.txt', 'removed')]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.embedding import Embedder
from rag.index.manifest import Failure
from rag.index.store import Store
from rag.ingest import IngestResult, ingest
from rag.library import SETTLE_S, FileState, document_name, match_moves, plan, walk
from rag.loading import sha256_of


@dataclass(frozen=True)
class PassReport:
    """What one pass over a folder did: a result per file that changed (or was skipped), what is still
    being written, and the files that failed before and have not changed since (not retried)."""

    folder: str
    results: tuple[IngestResult, ...] = ()
    pending: tuple[str, ...] = ()
    still_failing: tuple[Failure, ...] = ()
    files: int = 0  # files seen (supported ones)
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.results) or bool(self.still_failing)


def sync_folder(root: Path, *, store: Store, embedder: Embedder, settle_s: float = SETTLE_S,
                exclude: list[Path] | None = None, on_file: Callable[[int, int, str], None] | None = None,
                **options) -> PassReport:
    """Make ``store`` hold exactly ``root``'s files (see the module docstring); ``options`` go to
    :func:`rag.ingest.ingest` (chunk sizes, limits, ``isolate``)."""
    started = time.perf_counter()
    root = Path(root).resolve()
    origin = str(root)
    walked = walk(root, settle_s=settle_s, exclude=exclude or ())
    failed_before = store.failed_files.all()
    work = plan(walked.files, store.documents(origin=origin), failures=failed_before)
    results = [IngestResult(path=str(path), name=document_name(root, path), status="skipped", reason=reason)
               for path, reason in walked.skipped]

    digests: dict[str, str] = {}
    for file in work.new:
        try:
            digests[file.name] = sha256_of(file.path)
        except OSError:
            pass  # gone or unreadable since the walk: ingest says why
    moves, to_add = match_moves(work.new, digests, work.missing)
    for record, file in moves:
        moved = store.move(record.doc_id, name=file.name, path=str(file.path), size=file.size, mtime_ns=file.mtime_ns)
        results.append(IngestResult(path=str(file.path), name=file.name, status="moved", pages=moved.pages,
                                    chunks=moved.chunks, language=moved.language, doc_id=moved.doc_id,
                                    reason=f"from {record.name}"))
    moved_away = {record.doc_id for record, _ in moves}
    for record in work.missing:
        if record.doc_id not in moved_away and store.find(record.doc_id) is not None:
            store.remove(record.doc_id)
            results.append(IngestResult(path=record.path, name=record.name, status="removed", doc_id=record.doc_id))

    reading = {f.name: f for f in [*to_add, *work.changed]}
    for result in ingest([f.path for f in reading.values()], names=list(reading), store=store, embedder=embedder,
                         digests=[digests.get(name) for name in reading], origin=origin, on_file=on_file, **options):
        results.append(result)  # a mail's attachments too, named "mail.eml › file"
        if result.name in reading:
            _remember(store, reading[result.name], result)
    present = {str(f.path) for f in walked.files}
    store.failed_files.clear([path for path in failed_before if path not in present])

    counts: dict[str, int] = {"unchanged": len(work.unchanged)}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return PassReport(folder=origin, results=tuple(results), pending=tuple(str(p) for p in walked.pending),
                      still_failing=work.known_failures, files=len(walked.files), counts=counts,
                      seconds=time.perf_counter() - started)


def _remember(store: Store, file: FileState, result: IngestResult) -> None:
    """Record a failure (reported once, retried when the file changes), forget it on success; an unchanged
    content under a new mtime gets the new mtime, so the next pass does not hash the file again."""
    if result.status == "failed":
        store.failed_files.record(Failure(path=str(file.path), size=file.size, mtime_ns=file.mtime_ns,
                                          reason=result.reason or "it could not be read"))
        return
    store.failed_files.clear([str(file.path)])
    record = store.find(file.name)
    if record is not None and (record.size, record.mtime_ns) != (file.size, file.mtime_ns):
        store.move(record.doc_id, name=file.name, path=str(file.path), size=file.size, mtime_ns=file.mtime_ns)
