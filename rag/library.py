"""Folders → what a collection must do to match them: the walk, and the plan (pure).

:func:`walk` lists the files under a folder the way every part of Folio sees them: hidden entries
and ``_``-prefixed folders are not read, editor and office temporary files (``~$report.docx``,
``.~lock.report.odt#``, ``notes.txt.swp``, ``.#notes.txt``) are skipped with the reason, so are files
of types Folio does not read; symbolic links are followed, but a link back up the tree (a loop) is
not. A file modified in the last ``settle_s`` seconds is still being written: it is *pending*, read
by a later pass.

:func:`plan` compares a walk with what the collection holds from that folder, by name, size and
mtime alone (nothing is hashed): unchanged files cost nothing, so a pass over an unchanged tree of
10,000 files takes a stat each. :func:`match_moves` then pairs the new files with the documents
whose files vanished, by content hash: a renamed or moved file keeps its vectors.

>>> from rag.index.manifest import DocumentRecord
>>> def record(name, sha, size=10, mtime=1):
...     return DocumentRecord(doc_id=name, name=name, path="/" + name, sha256=sha, pages=1, chunks=1, language="en",
...                           added_at="", origin="/docs", size=size, mtime_ns=mtime)
>>> files = [FileState(Path("/docs/a.txt"), "docs/a.txt", 10, 1), FileState(Path("/docs/b.txt"), "docs/b.txt", 12, 5),
...          FileState(Path("/docs/new/c.txt"), "docs/new/c.txt", 7, 2)]
>>> work = plan(files, [record("docs/a.txt", "aa"), record("docs/b.txt", "bb"), record("docs/c.txt", "cc")])
>>> [f.name for f in work.unchanged], [f.name for f in work.changed], [f.name for f in work.new]
(['docs/a.txt'], ['docs/b.txt'], ['docs/new/c.txt'])
>>> [r.name for r in work.missing]
['docs/c.txt']
>>> moves, added = match_moves(work.new, {"docs/new/c.txt": "cc"}, work.missing)
>>> [(record.name, file.name) for record, file in moves], added
([('docs/c.txt', 'docs/new/c.txt')], [])
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.index.manifest import DocumentRecord, Failure
from rag.loading import unsupported_reason

#: Files editors and office suites write beside the real one while it is open or being saved.
TEMPORARY_FILES = ("~$*", ".~lock.*", "*.swp", "*.swo", "*.swx", ".#*", "*~", "*.tmp", "*.part", "*.crdownload")
#: A document named "mail.eml › report.pdf" is an attachment of the mail before the separator.
ATTACHMENT_SEPARATOR = " › "
SETTLE_S = 2.0  # a file modified more recently than this is still being written


@dataclass(frozen=True)
class FileState:
    """A file as a walk saw it: where it is, the document name it gets, its size and mtime."""

    path: Path
    name: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Walk:
    """What :func:`walk` found: files to index, files skipped (with why), files still being written."""

    files: tuple[FileState, ...] = ()
    skipped: tuple[tuple[Path, str], ...] = ()
    pending: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What a collection must do to match a walk of one folder (see :func:`plan`)."""

    unchanged: tuple[FileState, ...] = ()
    changed: tuple[FileState, ...] = ()       # same name, other size or mtime: read (hashed) again
    new: tuple[FileState, ...] = ()           # a name the collection does not hold: added, or a move
    missing: tuple[DocumentRecord, ...] = ()  # documents of this folder whose file is gone: removed, or moved
    known_failures: tuple[Failure, ...] = field(default=())  # failed before and unchanged since: not retried


def is_temporary(name: str) -> bool:
    """Whether ``name`` is an editor's or office suite's temporary or lock file.

    >>> [is_temporary(n) for n in ("~$report.docx", ".~lock.sheet.ods#", "notes.txt.swp", ".#notes.txt", "notes.txt")]
    [True, True, True, True, False]
    """
    return any(fnmatch.fnmatch(name, pattern) for pattern in TEMPORARY_FILES)


def document_name(root: Path, path: Path) -> str:
    """A watched file's document name: the folder's own name, then the path below it (``manuals/de/guide.pdf``).

    >>> document_name(Path("/home/anna/manuals"), Path("/home/anna/manuals/de/guide.pdf"))
    'manuals/de/guide.pdf'
    """
    return "/".join((root.name, *path.relative_to(root).parts))


def walk(root: Path, *, settle_s: float = SETTLE_S, now_ns: int | None = None, exclude: Sequence[Path] = ()) -> Walk:
    """Every file below ``root`` (see the module docstring), in name order; nothing below ``exclude``
    (Folio's own data folder, should it lie inside a folder the user names)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    excluded = {os.path.realpath(p) for p in exclude}
    files: list[FileState] = []
    skipped: list[tuple[Path, str]] = []
    pending: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        here = os.stat(folder)
        if (here.st_dev, here.st_ino) in seen_dirs:  # a link back to a folder already walked: a loop
            dirs[:] = []
            continue
        seen_dirs.add((here.st_dev, here.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_"))
                         and os.path.realpath(os.path.join(folder, d)) not in excluded)
        for name in sorted(names):
            if name.startswith(".") and not is_temporary(name):  # hidden: the user's own business
                continue
            path = Path(folder) / name
            reason = _why_not(path, name)
            if reason is not None:
                skipped.append((path, reason))
                continue
            stat = path.stat()
            if now_ns - stat.st_mtime_ns < settle_s * 1e9:
                pending.append(path)
                continue
            files.append(FileState(path=path, name=document_name(root, path), size=stat.st_size,
                                   mtime_ns=stat.st_mtime_ns))
    return Walk(files=tuple(files), skipped=tuple(skipped), pending=tuple(pending))


def discover(paths: Sequence[Path], *, exclude: Sequence[Path] = ()) -> tuple[list[tuple[Path, str]],
                                                                            list[tuple[Path, str]]]:
    """The files to ingest for ``paths`` (files, or folders walked), each with its document name, and the
    files skipped with why. A file is named by its file name, or, when one run finds two files of the
    same name below a folder, by its path below it (``docs/a/notes.txt``, ``docs/b/notes.txt``): two
    files never share a name, so one never replaces the other. Files named explicitly are kept whatever
    their type, so that an unsupported one is reported by ingestion, not left out.
    """
    found: list[tuple[Path, Path | None]] = []
    skipped: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            walked = walk(path, settle_s=0, exclude=exclude)
            found += [(f.path, path) for f in walked.files]
            skipped += walked.skipped
        else:
            found.append((path, None))
    counts: dict[str, int] = {}
    for path, _ in found:
        counts[path.name] = counts.get(path.name, 0) + 1
    named = [(path, document_name(root, path) if root is not None and counts[path.name] > 1 else path.name)
             for path, root in found]
    return named, skipped


def _why_not(path: Path, name: str) -> str | None:
    """Why a file under a folder is not read (None: it is)."""
    if is_temporary(name):
        return "a temporary or lock file of an editor, not a document"
    if not path.exists():
        return "a broken link (what it points to is gone)"
    if not path.is_file():
        return "not a regular file"
    return unsupported_reason(path)


def plan(files: Sequence[FileState], documents: Iterable[DocumentRecord],
         failures: Mapping[str, Failure] | None = None) -> Plan:
    """What to do so that ``documents`` (the collection's, from this folder) match ``files``, by name,
    size and mtime. A mail's attachments ("mail.eml › x.pdf") are missing only when their mail is."""
    failures = failures or {}
    held = {d.name: d for d in documents}
    unchanged, changed, new, known = [], [], [], []
    for file in files:
        failed = failures.get(str(file.path))
        if failed is not None and (failed.size, failed.mtime_ns) == (file.size, file.mtime_ns):
            known.append(failed)
            continue
        record = held.get(file.name)
        if record is None:
            new.append(file)
        elif (record.size, record.mtime_ns) == (file.size, file.mtime_ns):
            unchanged.append(file)
        else:
            changed.append(file)
    present = {f.name for f in files}
    missing = [d for d in held.values() if d.name.split(ATTACHMENT_SEPARATOR)[0] not in present]
    return Plan(unchanged=tuple(unchanged), changed=tuple(changed), new=tuple(new),
                missing=tuple(sorted(missing, key=lambda d: d.name)), known_failures=tuple(known))


def match_moves(new: Sequence[FileState], digests: Mapping[str, str], missing: Sequence[DocumentRecord]
                ) -> tuple[list[tuple[DocumentRecord, FileState]], list[FileState]]:
    """Pair each new file (by its sha256 in ``digests``, keyed by name) with a missing document of the same
    content: (moves, files left to add). Each missing document moves at most once; attachments never move."""
    by_content: dict[str, list[DocumentRecord]] = {}
    for record in missing:
        if ATTACHMENT_SEPARATOR not in record.name:
            by_content.setdefault(record.sha256, []).append(record)
    moves, added = [], []
    for file in new:
        candidates = by_content.get(digests.get(file.name, ""))
        if candidates:
            moves.append((candidates.pop(0), file))
        else:
            added.append(file)
    return moves, added
