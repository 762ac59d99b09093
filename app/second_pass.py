"""The second pass in the background while Folio serves: the stronger embedder's vectors, a document at a time.

:class:`SecondPass` runs :func:`rag.backfill.backfill` in one thread over every collection whose
backlog is not empty, whenever it is told new documents came in (:meth:`SecondPass.nudge`) and once
at start (the backlog survives a restart: the pass resumes where it stopped). It yields between
documents to whatever else needs the machine only in the sense that everything else keeps working:
searches use the second index for the documents it holds already. :meth:`SecondPass.status` is what
the library's status line shows.

>>> import tempfile, pathlib
>>> from app.factory import build
>>> from app.service import ingest_paths
>>> from app.settings import Settings
>>> home = pathlib.Path(tempfile.mkdtemp()); _ = (home / "a.txt").write_text("Depots open at six.")
>>> folio = build(Settings.for_tests(home / "folio", embedder="fake-hash-64", second_embedder="fake-hash-64"), llm=False)
>>> _ = list(ingest_paths(folio, [home / "a.txt"]))
>>> second = SecondPass(folio); second.nudge(); second.wait_idle(30)
True
>>> second.status()["waiting_chunks"], folio.store().second.count()
(0, 1)
>>> second.stop(); folio.close()
"""

from __future__ import annotations

import threading

from app.factory import Folio
from rag.backfill import Progress, backfill


class SecondPass:
    """One background thread working off the backlogs of all collections (see the module docstring)."""

    def __init__(self, folio: Folio, *, poll_s: float = 5.0) -> None:
        self.folio = folio
        self.poll_s = poll_s  # how often the backlogs are looked at without a nudge (uploads, folder passes)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._lock = threading.Lock()
        self._progress: dict[str, Progress] = {}
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="folio-second-pass", daemon=True)
        self._thread.start()
        self.nudge()  # what a previous run left on the backlog

    def nudge(self) -> None:
        """New documents came in: look at the backlogs again."""
        self._idle.clear()
        self._wake.set()

    def status(self) -> dict:
        """Chunks and documents still waiting (over all collections), and whether the pass is working now."""
        with self._lock:
            progress = list(self._progress.values())
        return {"waiting_documents": sum(p.waiting_documents for p in progress),
                "waiting_chunks": sum(p.waiting_chunks for p in progress),
                "running": not self._idle.is_set(), "error": self.error}

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            try:
                for name in self.folio.collections():
                    store = self.folio.store(name)
                    if store.second is None or self._stop.is_set():
                        continue
                    self._set(name, backfill(store, self.folio.second_embedder, stop=self._stop,
                                             on_progress=lambda p, name=name: self._set(name, p)))
                self.error = None
            except Exception as error:  # the app keeps working without the second index; the status says why
                self.error = f"The second pass stopped ({type(error).__name__}: {error}); it resumes at the next start."
            if not self._wake.is_set():
                self._idle.set()

    def _set(self, name: str, progress: Progress) -> None:
        with self._lock:
            self._progress[name] = progress
