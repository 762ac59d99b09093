"""The manifest: which documents a collection holds, and the commit marker that makes ingestion atomic.

SQLite (``FOLIO_HOME/manifest.sqlite3``). A document's row is written in one transaction *after*
all of its chunks are in the index, so a listed document always has all its chunks. Work in
progress is recorded first in ``pending`` and cleared last; start-up recovery removes the chunks of
any pending work a crash left behind (see :meth:`rag.index.store.Store.recover`).

>>> import tempfile, pathlib
>>> m = Manifest(pathlib.Path(tempfile.mkdtemp()) / "m.sqlite3")
>>> m.work("default").pending.begin("d-1", sha256="aa", old_sha256=None)
>>> m.commit("default", [(DocumentRecord(doc_id="d-1", name="a.txt", path="/a.txt", sha256="aa", pages=1,
...          chunks=3, language="en", added_at="2026-01-01T00:00:00Z"), [])])
>>> m.work("default").pending.done("d-1")
>>> [r.name for r in m.documents("default")], m.work("default").pending.items(), m.find("default", "a.txt").doc_id
(['a.txt'], [], 'd-1')

The keyword index (:mod:`rag.index.keyword`) lives in the same file: a document's keyword rows are
written and deleted in the same transaction as its row, and :meth:`Manifest.keywords` hands out one
collection's rows. Every SQL statement of the index is in this module or that one.

The ``meta`` table records the schema version, the Folio versions that created and last opened the
file, and each collection's embedder. A manifest of another schema is backed up, then migrated with
:data:`MIGRATIONS` or refused in one sentence (see :mod:`rag.index.upgrade`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.documents import Chunk
from rag.index import keyword
from rag.index.upgrade import folio_version, upgrade

SCHEMA_VERSION = 3
_RECORD_COLUMNS = "doc_id, name, path, sha256, pages, chunks, language, added_at, origin, size, mtime_ns"


def _add_origin_and_file_state(db: sqlite3.Connection) -> None:
    """Schema 2 → 3: where each document came from (a watched folder), and its file's size and mtime then."""
    have = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
    for column in ("origin TEXT NOT NULL DEFAULT ''", "size INTEGER NOT NULL DEFAULT 0",
                   "mtime_ns INTEGER NOT NULL DEFAULT 0"):
        if have and column.split()[0] not in have:
            db.execute(f"ALTER TABLE documents ADD COLUMN {column}")


# How to bring a manifest from schema N to N + 1 (run inside one transaction).
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: keyword.move_into_ranges,
                                                               2: _add_origin_and_file_state}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL,
    sha256 TEXT NOT NULL, pages INTEGER NOT NULL, chunks INTEGER NOT NULL, language TEXT NOT NULL,
    added_at TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '', size INTEGER NOT NULL DEFAULT 0,
    mtime_ns INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (collection, doc_id));
CREATE INDEX IF NOT EXISTS documents_by_name ON documents (collection, name);
CREATE TABLE IF NOT EXISTS pending (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, sha256 TEXT NOT NULL, old_sha256 TEXT,
    PRIMARY KEY (collection, doc_id));
CREATE TABLE IF NOT EXISTS backlog (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (collection, doc_id));
CREATE TABLE IF NOT EXISTS failures (
    collection TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL, PRIMARY KEY (collection, path));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class DocumentRecord:
    """What the manifest knows of one document.

    ``origin`` is the watched folder it was synced from ('' for a file added by hand: a sync never
    removes those); ``size`` and ``mtime_ns`` are its file's when it was read, so an unchanged file
    is recognised without being hashed again.
    """

    doc_id: str
    name: str
    path: str
    sha256: str
    pages: int
    chunks: int
    language: str
    added_at: str
    origin: str = ""
    size: int = 0
    mtime_ns: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PendingWork:
    doc_id: str
    sha256: str
    old_sha256: str | None


@dataclass(frozen=True)
class Failure:
    """A file of a watched folder that could not be indexed, as it was then: retried once it changes."""

    path: str
    size: int
    mtime_ns: int
    reason: str


class PendingLog:
    """One collection's work in progress: chunks about to be written (or deleted) for a document.

    Recovery after a crash (:meth:`rag.index.store.Store.recover`) reads it to undo what was interrupted.
    """

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, collection: str) -> None:
        self._db, self._lock, self.collection = db, lock, collection

    def begin(self, doc_id: str, *, sha256: str, old_sha256: str | None) -> None:
        """Record that chunks of ``doc_id`` at ``sha256`` are about to be written."""
        self.begin_all([PendingWork(doc_id, sha256, old_sha256)])

    def begin_all(self, works: list[PendingWork]) -> None:
        """:meth:`begin` for several documents at once (one write)."""
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?)",
                                 [(self.collection, w.doc_id, w.sha256, w.old_sha256) for w in works])

    def done(self, *doc_ids: str) -> None:
        """Clear these documents' entries: their work is finished, or undone."""
        with self._lock:
            self._db.executemany("DELETE FROM pending WHERE collection=? AND doc_id=?",
                                 [(self.collection, doc_id) for doc_id in doc_ids])

    def items(self) -> list[PendingWork]:
        rows = self._db.execute("SELECT doc_id, sha256, old_sha256 FROM pending WHERE collection=?", (self.collection,))
        return [PendingWork(*row) for row in rows.fetchall()]


class Backlog:
    """The documents of one collection still waiting for the slower second embedder's vectors.

    A document enters it in the same transaction as its row (``Manifest.commit(..., backlog=True)``),
    so a document is either *complete* or listed here, whatever crashed when; it leaves once the second
    pass has written its vectors (:meth:`done`, only for the version that was embedded).
    """

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, collection: str) -> None:
        self._db, self._lock, self.collection = db, lock, collection

    def items(self, *, limit: int | None = None) -> list[tuple[str, str]]:
        """``(doc_id, sha256)`` of the documents waiting, oldest first."""
        rows = self._db.execute("SELECT doc_id, sha256 FROM backlog WHERE collection=? ORDER BY rowid LIMIT ?",
                                (self.collection, -1 if limit is None else limit)).fetchall()
        return [(doc_id, sha) for doc_id, sha in rows]

    def waiting(self) -> tuple[int, int]:
        """How many documents, and how many of their chunks, wait."""
        row = self._db.execute("SELECT COUNT(*), COALESCE(SUM(d.chunks), 0) FROM backlog b JOIN documents d ON "
                               "d.collection = b.collection AND d.doc_id = b.doc_id AND d.sha256 = b.sha256 "
                               "WHERE b.collection=?", (self.collection,)).fetchone()
        return int(row[0]), int(row[1])

    def done(self, doc_id: str, sha256: str) -> bool:
        """Take ``doc_id`` at ``sha256`` off the backlog; False if it is not there (removed or replaced since)."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM backlog WHERE collection=? AND doc_id=? AND sha256=?",
                                      (self.collection, doc_id, sha256))
            return cursor.rowcount > 0

    def refill(self) -> int:
        """Put every document of the collection on the backlog (the second embedder changed); returns how many."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO backlog SELECT collection, doc_id, sha256 FROM documents "
                             "WHERE collection=?", (self.collection,))
            return int(self._db.execute("SELECT COUNT(*) FROM backlog WHERE collection=?",
                                        (self.collection,)).fetchone()[0])


@dataclass(frozen=True)
class WorkLogs:
    """A collection's bookkeeping beside its documents: work in progress, failed files, the second pass's backlog."""

    pending: PendingLog
    failed: FailedFiles
    backlog: Backlog


class FailedFiles:
    """The files of one collection's watched folders that failed, with their reason (reported once)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, collection: str) -> None:
        self._db, self._lock, self.collection = db, lock, collection

    def all(self) -> dict[str, Failure]:
        rows = self._db.execute("SELECT path, size, mtime_ns, reason FROM failures WHERE collection=?",
                                (self.collection,)).fetchall()
        return {row[0]: Failure(*row) for row in rows}

    def record(self, failure: Failure) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?)",
                             (self.collection, failure.path, failure.size, failure.mtime_ns, failure.reason))

    def clear(self, paths: list[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM failures WHERE collection=? AND path=?",
                                 [(self.collection, path) for path in paths])


class Manifest:
    """Documents per collection, and pending (uncommitted) work, in one SQLite file.

    ``index_dir`` is the Chroma folder that goes with it (default: ``index`` beside it), copied with
    it into a backup before a schema change.
    """

    def __init__(self, path: Path, *, index_dir: Path | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.migrated_from: int | None = None  # the schema this manifest had before it was migrated on open
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self.migrated_from = upgrade(self._db, path=path, index_dir=index_dir or path.parent / "index",
                                         current=SCHEMA_VERSION, migrations=MIGRATIONS)
            self._db.executescript(_SCHEMA + keyword.SCHEMA)
            self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                 [("schema", str(SCHEMA_VERSION)), ("created_by", folio_version())])
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('written_by', ?)", (folio_version(),))
        except BaseException:
            self._db.close()
            raise

    def meta(self, key: str, *, default: str | None = None, value: str | None = None) -> str | None:
        """A value of the ``meta`` table (``schema``, ``created_by``, ``written_by``, ``embedder:<collection>``,
        ``second:<collection>``). A given ``value`` is recorded; otherwise, like ``dict.setdefault``, a missing
        key with a ``default`` is recorded with it. Returns the value now recorded."""
        with self._lock:
            if value is not None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
                return value
            try:
                row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            except sqlite3.OperationalError:  # no meta table yet
                return None
            if row is None and default is not None:
                self._db.execute("INSERT INTO meta VALUES (?, ?)", (key, default))
                return default
            return row[0] if row else None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction: the caller's statements commit together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def keywords(self, collection: str) -> keyword.KeywordRows:
        """``collection``'s keyword rows: BM25 search, and the rows themselves for checks and repairs."""
        return keyword.KeywordRows(self._db, collection, transaction=self._transaction)

    def work(self, collection: str) -> WorkLogs:
        """``collection``'s work in progress (for recovery), failed files and backlog (see :class:`WorkLogs`)."""
        return WorkLogs(pending=PendingLog(self._db, self._lock, collection),
                        failed=FailedFiles(self._db, self._lock, collection),
                        backlog=Backlog(self._db, self._lock, collection))

    def documents(self, collection: str, *, match: str = "", limit: int | None = None, offset: int = 0,
                  origin: str | None = None) -> list[DocumentRecord]:
        """Documents by name; only names containing ``match`` (any case) and, if given, of one ``origin``."""
        where, args = _filter(collection, match, origin)
        rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM documents WHERE {where} ORDER BY name "
                                f"LIMIT ? OFFSET ?", (*args, -1 if limit is None else limit, offset)).fetchall()
        return [DocumentRecord(*row) for row in rows]

    def count(self, collection: str, *, match: str = "", origin: str | None = None) -> int:
        where, args = _filter(collection, match, origin)
        return int(self._db.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", args).fetchone()[0])

    def find(self, collection: str, key: str) -> DocumentRecord | None:
        """A document by id, else by name."""
        for column in ("doc_id", "name"):
            row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM documents WHERE collection=? AND {column}=?",
                                   (collection, key)).fetchone()
            if row:
                return DocumentRecord(*row)
        return None

    def commit(self, collection: str, entries: list[tuple[DocumentRecord, list[Chunk]]], *,
               backlog: bool = False) -> None:
        """The commit marker: each document's row and its chunks' keyword rows replace the old ones, in one
        transaction (all of these documents, or none); with ``backlog``, each also waits for the second pass.

        Their pending entries stay until the old versions' chunks are deleted (``work(...).pending.done`` then).
        """
        with self._transaction() as db:
            for record, chunks in entries:
                keyword.delete(db, collection, record.doc_id)
                keyword.add(db, collection, chunks)
            db.executemany(f"INSERT OR REPLACE INTO documents (collection, {_RECORD_COLUMNS}) "
                           f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(collection, r.doc_id, r.name, r.path, r.sha256, r.pages, r.chunks, r.language,
                             r.added_at, r.origin, r.size, r.mtime_ns) for r, _ in entries])
            if backlog:
                db.executemany("INSERT OR REPLACE INTO backlog VALUES (?, ?, ?)",
                               [(collection, r.doc_id, r.sha256) for r, _ in entries])

    def remove(self, collection: str, doc_id: str) -> None:
        """Forget a document: its row, its keyword rows and its pending entry, in one transaction."""
        with self._transaction() as db:
            keyword.delete(db, collection, doc_id)
            db.execute("DELETE FROM pending WHERE collection=? AND doc_id=?", (collection, doc_id))
            db.execute("DELETE FROM backlog WHERE collection=? AND doc_id=?", (collection, doc_id))
            db.execute("DELETE FROM documents WHERE collection=? AND doc_id=?", (collection, doc_id))

    def collections(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT collection FROM documents UNION SELECT DISTINCT collection FROM pending")
        return sorted(r[0] for r in rows.fetchall())

    def drop_collection(self, collection: str) -> None:
        """Forget a whole collection: its documents, pending work, keyword rows and recorded embedder."""
        with self._transaction() as db:
            keyword.drop(db, collection)
            db.execute("DELETE FROM documents WHERE collection=?", (collection,))
            db.execute("DELETE FROM pending WHERE collection=?", (collection,))
            db.execute("DELETE FROM failures WHERE collection=?", (collection,))
            db.execute("DELETE FROM backlog WHERE collection=?", (collection,))
            db.execute("DELETE FROM meta WHERE key IN (?, ?)", (f"embedder:{collection}", f"second:{collection}"))

    def close(self) -> None:
        self._db.close()


def _filter(collection: str, match: str, origin: str | None) -> tuple[str, tuple]:
    """The WHERE clause (and its arguments) of a collection's documents whose name holds ``match``."""
    where, args = "collection = ?", [collection]
    if match:
        where += " AND instr(lower(name), ?) > 0"
        args.append(match.lower())
    if origin is not None:
        where += " AND origin = ?"
        args.append(origin)
    return where, tuple(args)
