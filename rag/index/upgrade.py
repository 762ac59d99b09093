"""Schema versions of the index: an older manifest is backed up then migrated; anything else is refused.

The manifest's ``meta`` table holds its ``schema`` and the Folio versions that created it and last
opened it (``created_by``, ``written_by``); each Chroma collection's metadata holds the same schema
and version (see :mod:`rag.index.store`). Before a manifest of another schema is touched, it and the
index folder beside it are copied into ``FOLIO_HOME/backup-<time>-schema<N>/`` (once per schema
version: a later attempt finds the copy). Then an older schema is migrated in one transaction where
``migrations`` knows each step; a newer one, or an older one with no way forward, stops with one
sentence saying what to do (:class:`~core.errors.IndexMismatchError`).

>>> import sqlite3, tempfile, pathlib
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> db = sqlite3.connect(home / "manifest.sqlite3", isolation_level=None)
>>> _ = db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema', '1');")
>>> upgrade(db, path=home / "manifest.sqlite3", index_dir=home / "index", current=2,
...         migrations={1: lambda db: db.execute("CREATE TABLE tags (doc_id TEXT)")})
1
>>> stored_schema(db), [p.name.endswith("-schema1") for p in home.glob("backup-*")]
(2, [True])
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from core.errors import IndexMismatchError


def folio_version() -> str:
    """The installed Folio's version (``unknown`` when run from a source tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("folio")
    except PackageNotFoundError:
        return "unknown"


def stored_schema(db: sqlite3.Connection) -> int | None:
    """The schema of an existing manifest (0: it predates versioning), or None for a new, empty file."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is not None:
            return int(row[0])
    return 0 if "documents" in tables else None


def upgrade(db: sqlite3.Connection, *, path: Path, index_dir: Path, current: int,
            migrations: Mapping[int, Callable[[sqlite3.Connection], None]]) -> int | None:
    """Bring the manifest at ``path`` to schema ``current``; returns the schema it was migrated from, if any."""
    stored = stored_schema(db)
    if stored is None or stored == current:
        return None
    backup = backup_index(path, index_dir, schema=stored)
    if stored > current:
        row = db.execute("SELECT value FROM meta WHERE key = 'written_by'").fetchone()
        raise IndexMismatchError(
            f"The index in {path.parent} was written by Folio {row[0] if row else 'of an unknown version'} "
            f"(schema {stored}), newer than this Folio {folio_version()} (schema {current}); upgrade Folio to use it "
            f"(a copy was saved in {backup}).")
    if any(version not in migrations for version in range(stored, current)):
        raise IndexMismatchError(
            f"The index in {path.parent} has schema {stored}, which this Folio {folio_version()} cannot migrate; "
            f"move it aside and ingest your files again (a copy was saved in {backup}).")
    db.execute("BEGIN IMMEDIATE")
    try:
        for version in range(stored, current):
            migrations[version](db)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(current),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return stored


def backup_index(manifest_path: Path, index_dir: Path, *, schema: int) -> Path:
    """Copy the manifest (consistently, through SQLite) and the index folder into ``backup-<time>-schema<N>/``.

    One backup per schema version: a later attempt finds the earlier copy and returns it.
    """
    home = manifest_path.parent
    existing = sorted(home.glob(f"backup-*-schema{schema}"))
    if existing:
        return existing[0]
    target = home / f"backup-{datetime.now():%Y%m%d-%H%M%S}-schema{schema}"
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    source, copy = sqlite3.connect(str(manifest_path)), sqlite3.connect(str(partial / manifest_path.name))
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    if index_dir.is_dir():
        shutil.copytree(index_dir, partial / index_dir.name)
    partial.rename(target)
    return target
