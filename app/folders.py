"""Watched folders kept in step while Folio runs: a first pass, then a pass whenever a folder changes.

:class:`FolderWatcher` asks the operating system to report changes (``watchdog``: inotify, FSEvents,
ReadDirectoryChangesW) instead of polling. A change marks its folder; a pass over it
(:func:`rag.sync.sync_folder`) runs once nothing has changed in the folder for ``settle_s`` seconds,
so a file still being written, or a burst of saves, costs one pass. A pass finds what the events
imply (moves, deletes, new files) on its own, by size, mtime and hash, so no event needs to be
trusted; a pass also runs every ``rescan_s`` in case the system dropped events (too many watches).
Passes run in one thread, one at a time; the store serialises them with uploads.

>>> import tempfile, pathlib, time
>>> from app.factory import build
>>> from app.settings import Settings
>>> home = pathlib.Path(tempfile.mkdtemp()); docs = home / "docs"; docs.mkdir()
>>> _ = (docs / "a.txt").write_text("Depots open at six.")
>>> folio = build(Settings.for_tests(home / "folio", embedder="fake-hash-64"), llm=False)
>>> watcher = FolderWatcher(folio, settle_s=0.2)
>>> _ = watcher.watch(docs); watcher.wait_idle(30)
True
>>> _ = (docs / "b.txt").write_text("Trains are cleaned at night."); watcher.wait_idle(30, changed_after=time.time())
True
>>> sorted(d.name for d in folio.documents()), watcher.status()["indexed"]
(['docs/a.txt', 'docs/b.txt'], 2)
>>> watcher.stop(); folio.close()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.factory import Folio
from app.settings import WatchedFolder
from core.errors import FolioError
from rag.library import SETTLE_S
from rag.sync import PassReport

RESCAN_S = 600.0  # a full pass this often anyway, in case the system dropped change events


@dataclass
class _Folder:
    folder: WatchedFolder
    due: float | None = 0.0   # when the next pass should run (None: nothing to do)
    last: PassReport | None = None
    last_at: float = 0.0      # when the last pass ended (monotonic)
    error: str | None = None
    watch: object | None = field(default=None, repr=False)


class FolderWatcher:
    """Watches folders and keeps their collections in step (see the module docstring)."""

    def __init__(self, folio: Folio, *, settle_s: float = SETTLE_S, rescan_s: float = RESCAN_S,
                 on_report: Callable[[PassReport], None] | None = None) -> None:
        from watchdog.observers import Observer

        self.folio = folio
        self.settle_s = settle_s
        self.rescan_s = rescan_s
        self.on_report = on_report
        self._folders: dict[tuple[str, str], _Folder] = {}
        self._lock = threading.Condition()
        self._busy = False
        self._stopped = False
        self._changed_at = 0.0  # wall-clock time of the last change seen, for wait_idle
        self._changes = 0       # documents added, replaced, moved or removed by the passes so far
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="folio-folders", daemon=True)
        self._thread.start()

    # -- the folders ---------------------------------------------------------------------------
    def watch(self, path: Path | str, collection: str | None = None) -> WatchedFolder:
        """Keep ``collection`` in step with the folder at ``path`` from now on (a first pass runs at once)."""
        folder = WatchedFolder(Path(path).expanduser().resolve(), collection or self.folio.settings.collection)
        if not folder.path.is_dir():
            raise FolioError(f"{folder.path}: no such folder; check the path.")
        key = (str(folder.path), folder.collection)
        with self._lock:
            if key in self._folders:
                return folder
            for other in self._folders.values():
                if other.folder.collection == folder.collection and _nested(other.folder.path, folder.path):
                    raise FolioError(f"{folder.path}: it overlaps the watched folder {other.folder.path} of collection "
                                     f"'{folder.collection}'; watch one of the two.")
            entry = _Folder(folder)
            entry.watch = self._observer.schedule(_Changes(self, key), str(folder.path), recursive=True)
            self._folders[key] = entry
            self._lock.notify_all()
        return folder

    def unwatch(self, path: Path | str, collection: str | None = None) -> WatchedFolder:
        """Stop watching a folder (its documents stay until :func:`app.service.forget_folder` removes them)."""
        folder = WatchedFolder(Path(path).expanduser().resolve(), collection or self.folio.settings.collection)
        with self._lock:
            entry = self._folders.pop((str(folder.path), folder.collection), None)
            if entry is not None and entry.watch is not None:
                self._observer.unschedule(entry.watch)
        return folder

    def folders(self) -> list[WatchedFolder]:
        with self._lock:
            return [entry.folder for entry in self._folders.values()]

    # -- what it is doing ------------------------------------------------------------------------
    def status(self) -> dict:
        """Files seen, indexed, pending (still being written or waiting for a pass) and failed, over all folders."""
        with self._lock:
            entries = list(self._folders.values())
            busy = self._busy
        seen = sum(e.last.files for e in entries if e.last)
        pending = sum(len(e.last.pending) for e in entries if e.last) + sum(e.due is not None for e in entries)
        failed = sum(len(e.last.still_failing) + sum(r.status == "failed" for r in e.last.results)
                     for e in entries if e.last)
        indexed = sum(self.folio.store(e.folder.collection).count(origin=str(e.folder.path)) for e in entries)
        problems = [(r.name, r.reason or "") for e in entries if e.last for r in e.last.results
                    if r.status in ("skipped", "failed")]
        problems += [(Path(f.path).name, f.reason) for e in entries if e.last for f in e.last.still_failing]
        return {"folders": [e.folder.as_dict() | {"error": e.error} for e in entries], "seen": seen,
                "indexed": indexed, "pending": pending, "failed": failed, "busy": busy, "changes": self._changes,
                "not_indexed": problems}

    def wait_idle(self, timeout: float, *, changed_after: float | None = None) -> bool:
        """Wait until no pass is due or running (and, with ``changed_after``, a change after that time was seen)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                idle = not self._busy and all(e.due is None for e in self._folders.values())
                if idle and (changed_after is None or self._changed_at >= changed_after):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._observer.stop()
        self._observer.join(5)
        self._thread.join(30)

    # -- the passes ------------------------------------------------------------------------------
    def changed(self, key: tuple[str, str]) -> None:
        """A change in a folder: its pass runs once the folder has been quiet for ``settle_s``."""
        with self._lock:
            entry = self._folders.get(key)
            if entry is not None:
                entry.due = time.monotonic() + self.settle_s
                self._changed_at = time.time()
                self._lock.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                entry = self._next()
                if entry is None:
                    return
                entry.due, self._busy = None, True
            try:
                report = self._pass(entry.folder)
                entry.last, entry.error, entry.last_at = report, None, time.monotonic()
                self._changes += sum(r.status in ("added", "replaced", "moved", "removed") for r in report.results)
                if report.pending:  # files still being written: look again once they settle
                    with self._lock:
                        entry.due = time.monotonic() + self.settle_s
                if self.on_report is not None:
                    self.on_report(report)
            except FolioError as error:
                entry.error, entry.last_at = str(error), time.monotonic()
            except Exception as error:  # the watcher must outlive one bad pass; the status says what went wrong
                entry.error, entry.last_at = f"{entry.folder.path}: the pass failed ({type(error).__name__}: {error}).", \
                    time.monotonic()
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()

    def _next(self) -> _Folder | None:
        """The folder whose pass is due (waiting until one is), or None once stopped. Called with the lock held."""
        while not self._stopped:
            now = time.monotonic()
            for entry in self._folders.values():
                if entry.due is None and now - entry.last_at >= self.rescan_s:
                    entry.due = now
            ready = sorted((e for e in self._folders.values() if e.due is not None and e.due <= now),
                           key=lambda e: e.due)
            if ready:
                return ready[0]
            waits = [e.due - now if e.due is not None else e.last_at + self.rescan_s - now
                     for e in self._folders.values()]
            self._lock.wait(max(0.01, min(waits, default=self.rescan_s)))
        return None

    def _pass(self, folder: WatchedFolder) -> PassReport:
        from app import service

        return service.sync_folder(self.folio, folder.path, collection=folder.collection, settle_s=self.settle_s)


class _Changes:
    """watchdog's handler: any event under a folder marks it changed (the pass works out what changed)."""

    def __init__(self, watcher: FolderWatcher, key: tuple[str, str]) -> None:
        self.watcher, self.key = watcher, key

    def dispatch(self, event) -> None:
        if event.event_type in ("opened", "closed_no_write"):  # reading a file changes nothing
            return
        self.watcher.changed(self.key)


def _nested(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents
