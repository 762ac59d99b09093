"""Parsing untrusted files in a child process, with a time limit and a memory limit.

A hostile or broken file (a decompression bomb, a page tree that loops, a bug in a C parser) can hang
the process that reads it, exhaust its memory or crash it. :func:`load_isolated` reads the file in a
worker process instead, so the worst a file can do is fail, with one sentence saying why:

- longer than ``timeout_s`` → the worker is killed: "the file took longer than 60 s to read (...)";
- more than ``memory_mb`` of memory (an address-space limit set in the worker) → "reading it needed
  more than 1024 MB of memory";
- the worker dies (a segfault in PDFium, an abort in libxml2) → "the parser crashed on it (...)".

The worker comes from a *forkserver* (never a plain fork of a process that has threads or torch
loaded) that has the parsers imported already, and it is reused for every file: a file costs one
round trip through a pipe (well under a millisecond). A worker that died, ran out of time or memory is
replaced on the next file (~20 ms); only the first file of a process pays the start (~0.4 s).
Only parsing happens there: the size check (metadata only) is done first, here, so a 20 GB file
is refused without being read, and hashing and language detection run here on the parsed text.

**Slow pages.** OCR takes seconds a page, so a 40-page scan would never fit one file's limit. A
task may report progress (:func:`report_progress`, e.g. after each page it read by OCR); each
report reaches the caller's ``on_progress(done, total)`` and starts the time limit afresh, so the
limit applies to each page rather than to the whole file ("page 8 of 40 took longer than 60 s").
The worker leads its own process group, so a worker killed for its time also kills the Tesseract
process it was waiting for.

>>> import pathlib, tempfile, time
>>> from functools import partial
>>> p = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
>>> _ = p.write_text("Depot hours are 6:00 to 22:00.")
>>> load_isolated(p, name="note.txt", max_bytes=10**6).pages[0].text
'Depot hours are 6:00 to 22:00.'
>>> Sandbox(memory_mb=256).call(partial(time.sleep, 30), name="slow.pdf", timeout_s=0.5)
Traceback (most recent call last):
...
core.errors.DocumentError: slow.pdf: the file took longer than 0.5 s to read (it may be a decompression bomb or damaged).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, TypeVar

from rag.documents import Document
from core.errors import DocumentError, UnsupportedFileError
from rag.loading import attachments, check_file, document_from, read_pages

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 1024
PRELOAD = ["rag.loading", "pypdfium2", "docx", "bs4", "lxml.etree", "pptx", "python_calamine", "ebooklib.epub",
           "striprtf.striprtf", "PIL.Image", "email.policy"]  # imported once, in the forkserver
_POLL_S = 0.05  # how often a slow parse's memory is looked at
T = TypeVar("T")


def load_isolated(path: Path | str, *, name: str, max_bytes: int, timeout_s: float = DEFAULT_TIMEOUT_S,
                  memory_mb: int = DEFAULT_MEMORY_MB, sha256: str | None = None,
                  on_page: Callable[[int, int], None] | None = None) -> Document:
    """:func:`rag.loading.load`, with the parsing done in a limited worker process (see the module doc).

    ``on_page(done, total)`` hears of the pages read by OCR as they are read (``timeout_s`` applies to each).
    """
    path = Path(path)
    check_file(path, name=name, max_bytes=max_bytes)
    pages = shared(memory_mb).call(partial(read_pages, path, name=name, max_bytes=max_bytes, on_page=report_progress),
                                   name=name, timeout_s=timeout_s, on_progress=on_page)
    return document_from(path, name=name, pages=pages, sha256=sha256)


def attachments_isolated(path: Path | str, *, name: str, max_bytes: int, timeout_s: float = DEFAULT_TIMEOUT_S,
                         memory_mb: int = DEFAULT_MEMORY_MB) -> list:
    """:func:`rag.loading.attachments` of an e-mail (name, size, bytes of each), parsed in the worker."""
    path = Path(path)
    check_file(path, name=name, max_bytes=max_bytes)
    return shared(memory_mb).call(partial(attachments, path, name=name, max_bytes=max_bytes), name=name,
                                  timeout_s=timeout_s)


class Sandbox:
    """One reusable worker process with a memory limit; :meth:`call` runs a task in it with a time limit.

    Thread-safe: calls from several threads take turns.
    """

    def __init__(self, *, memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._limit = 0  # the worker's address-space cap in bytes (0: none)
        self.started = 0  # workers started so far (a measure of how often one had to be replaced)

    def call(self, task: Callable[[], T], *, name: str, timeout_s: float,
             on_progress: Callable[[int, int], None] | None = None) -> T:
        """Run ``task()`` (picklable, e.g. a :func:`functools.partial` of a module-level function) in the worker.

        Returns what it returns; its :class:`DocumentError` is re-raised here, and a timeout, a memory
        error, a crash or any other exception becomes a :class:`DocumentError` naming ``name``.
        Each :func:`report_progress` of the task calls ``on_progress(done, total)`` here (in this
        thread) and gives the task another ``timeout_s``; an exception from it stops the task.
        """
        with self._lock:
            try:
                outcome = self._round_trip(task, timeout_s, on_progress)
            except OSError:
                self._stop()
                raise DocumentError(name, "the parser process could not start (this machine may be short of memory "
                                          "or processes); try again") from None
            except BaseException:  # e.g. Ctrl-C: a worker left mid-task would answer the next task with this one's result
                self._stop()
                raise
        kind = outcome[0]
        if kind == "ok":
            return outcome[1]
        if kind == "died" and self._limit and outcome[2] > self._limit - self.memory_mb * 1024 * 1024 // 2:
            outcome = ("memory",)  # it died after using more than half its allowance: an allocation failed
        raise _error_for(outcome, name=name, timeout_s=timeout_s, memory_mb=self.memory_mb)

    def warm(self) -> None:
        """Start the worker in the background (e.g. while models load), so the first file need not wait."""
        def start() -> None:
            with self._lock:
                try:
                    self._worker()
                except OSError:
                    pass  # the first call will try again, and report it

        threading.Thread(target=start, name="folio-parser-start", daemon=True).start()

    def _round_trip(self, task: Callable[[], Any], timeout_s: float,
                    on_progress: Callable[[int, int], None] | None = None) -> tuple:
        conn, process = self._worker()
        try:
            conn.send(task)
        except (OSError, EOFError):  # the worker died while idle: start another one
            self._stop()
            conn, process = self._worker()
            conn.send(task)
        peak, progress = 0, None
        while True:
            seen = self._wait(conn, process, timeout_s)  # each progress report starts the limit afresh
            if seen is None:
                self._stop()
                return ("timeout", progress)
            peak = max(peak, seen)
            try:
                outcome = conn.recv()
            except Exception:  # EOF or a message cut short: the worker died
                process.join(1)
                outcome = ("died", process.exitcode, peak)
            if outcome[0] != "progress":
                break
            progress = outcome[1:]
            if on_progress is not None:
                on_progress(*progress)
        if outcome[0] in ("died", "memory"):  # a worker that ran out of memory may be in a bad state
            self._stop()
        return outcome

    def _wait(self, conn: Connection, process, timeout_s: float) -> int | None:
        """Wait for the worker to answer or die; returns its peak address space seen meanwhile (None: time ran out).

        The peak tells a parser that aborted on a failed allocation (PDFium does) from one that crashed.
        """
        deadline = time.monotonic() + timeout_s
        peak = 0
        while not wait([conn, process.sentinel], min(_POLL_S, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return None
            peak = max(peak, _peak_bytes(process.pid))
        return peak

    def _worker(self) -> tuple[Connection, multiprocessing.process.BaseProcess]:
        if self._process is None or not self._process.is_alive():
            self._stop()
            context = _context()
            parent, child = context.Pipe(duplex=True)
            process = context.Process(target=_serve, args=(child, self.memory_mb), name="folio-parser", daemon=True)
            with _main_module_hidden():
                process.start()
            child.close()
            self._process, self._conn = process, parent
            self.started += 1
            if not wait([parent, process.sentinel], 60) or not parent.poll():
                self._stop()
                raise OSError("the parser worker did not start")
            self._limit = parent.recv()[1]
        return self._conn, self._process

    def _stop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                _kill_group(process.pid)
                process.kill()
            process.join(5)

    def close(self) -> None:
        """Stop the worker (it also stops by itself when this process exits or dies)."""
        with self._lock:
            if self._conn is not None and self._process is not None and self._process.is_alive():
                try:
                    self._conn.send(None)
                    self._process.join(2)
                except OSError:
                    pass
            self._stop()


def _error_for(outcome: tuple, *, name: str, timeout_s: float, memory_mb: int) -> DocumentError:
    kind = outcome[0]
    if kind == "error":
        error_type = UnsupportedFileError if outcome[1] == "UnsupportedFileError" else DocumentError
        return error_type(name, outcome[2])
    if kind == "timeout" and len(outcome) > 1 and outcome[1] is not None:
        done, total = outcome[1]
        return DocumentError(name, f"page {min(done + 1, total)} of {total} took longer than {timeout_s:g} s to read "
                                   f"(the scan may be damaged or unusually large)")
    if kind == "timeout":
        return DocumentError(name, f"the file took longer than {timeout_s:g} s to read (it may be a decompression bomb or damaged)")
    if kind == "memory" or (kind == "died" and outcome[1] == -signal.SIGKILL):  # SIGKILL: the kernel's OOM killer
        return DocumentError(name, f"reading it needed more than {memory_mb} MB of memory (it may be a decompression bomb or damaged)")
    if kind == "died":
        return DocumentError(name, "the parser crashed on it (the file is probably damaged); re-export or re-download it")
    return DocumentError(name, f"the file could not be parsed ({outcome[1]}); it may be damaged")


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a worker without it re-running the main script, as spawned children otherwise do.

    The worker only runs functions of :mod:`rag`; re-running ``__main__`` would cost an import of
    whatever the script is (pytest, the web app) per worker, and recurse in a script without an
    ``if __name__ == "__main__"`` guard.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _context() -> multiprocessing.context.BaseContext:
    """Forkserver where the platform has it (Linux, macOS), with the parsers preloaded; spawn elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # no effect once the forkserver runs; harmless
    return context


def _kill_group(pid: int) -> None:
    """Kill the process group that worker ``pid`` leads (itself and e.g. a Tesseract it started)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
    except (OSError, AttributeError):  # gone already, or no process groups (Windows)
        pass


# -- the worker side -------------------------------------------------------------------------
_CONN: Connection | None = None  # the worker's pipe to its parent, for report_progress


def report_progress(done: int, total: int) -> None:
    """Tell the caller of the current task that ``done`` of ``total`` steps are done (no-op outside a worker)."""
    if _CONN is not None:
        _CONN.send(("progress", done, total))


def _serve(conn: Connection, memory_mb: int) -> None:
    """The worker's loop: run each task received, send back its outcome; stop on ``None`` or EOF."""
    global _CONN
    limit = _limit_resources(memory_mb)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        os.setpgid(0, 0)  # lead a process group, so a kill reaches the programs it runs (Tesseract)
    except (OSError, AttributeError):
        pass
    _CONN = conn
    conn.send(("ready", limit))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        outcome = _outcome(task)
        try:
            conn.send(outcome)
        except MemoryError:
            conn.send(("memory",))
        except Exception as error:  # e.g. a result too deep to pickle
            conn.send(("bug", type(error).__name__))


def _outcome(task: Callable[[], Any]) -> tuple:
    try:
        return ("ok", task())
    except DocumentError as error:
        return ("error", type(error).__name__, error.reason)
    except MemoryError:
        return ("memory",)
    except Exception as error:
        return ("bug", type(error).__name__)


def _limit_resources(memory_mb: int) -> int:
    """Cap the worker's address space at what it uses now plus ``memory_mb``; no core dumps.

    Returns the cap in bytes, or 0 where there is none: only Linux enforces it (macOS ignores it,
    Windows has neither); the time limit applies everywhere.
    """
    try:
        import resource
    except ImportError:
        return 0
    limit = _virtual_size() + memory_mb * 1024 * 1024 if sys.platform.startswith("linux") else 0
    for which, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, limit)):
        if which == resource.RLIMIT_AS and not limit:
            continue
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            limit = 0 if which == resource.RLIMIT_AS else limit
    return limit


def _virtual_size() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes(pid: int) -> int:
    """The largest address space process ``pid`` has had (Linux; 0 elsewhere or once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


# -- one shared sandbox per memory limit, for the whole process ----------------------------
_SHARED: dict[int, Sandbox] = {}
_SHARED_LOCK = threading.Lock()


def shared(memory_mb: int = DEFAULT_MEMORY_MB) -> Sandbox:
    """The process-wide :class:`Sandbox` for ``memory_mb`` (created on first use, closed at exit)."""
    with _SHARED_LOCK:
        if memory_mb not in _SHARED:
            _SHARED[memory_mb] = Sandbox(memory_mb=memory_mb)
        return _SHARED[memory_mb]


@atexit.register
def close_all() -> None:
    """Stop every shared worker (called at exit; the workers also stop when this process dies)."""
    with _SHARED_LOCK:
        for sandbox in _SHARED.values():
            sandbox.close()
