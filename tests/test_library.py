"""Watched folders on real components (real files in tmp_path, real Chroma, the real embedder, watchdog):
new, changed, deleted, renamed and moved files, files still being written, temporary files, hidden folders,
link loops, failures reported once and retried when they change, uploads never removed by a sync, mail
attachments, many documents, and the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from app.cli import main
from rag import sync
from rag.index.manifest import SCHEMA_VERSION, Manifest
from rag.ingest import ingest
from tests.docs_factory import make_pdf

DEPOTS = "The Lausanne depot opens at 05:30 and closes at 23:00. Trucks load at bay 4."
BRAKES = "Brakes are inspected every 30 days by a certified technician."
OLD = time.time() - 3600  # files older than the settle time are read at once


def write(path: Path, text: str, *, mtime: float = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


def run(folder: Path, store, embedder, **options) -> sync.PassReport:
    return sync.sync_folder(folder, store=store, embedder=embedder, settle_s=2.0, **options)


def statuses(report: sync.PassReport) -> list[tuple[str, str]]:
    return [(r.name, r.status) for r in report.results]


def test_added_changed_moved_renamed_and_deleted_files_are_followed(tmp_path, store, embedder, monkeypatch):
    docs = tmp_path / "docs"
    write(docs / "depots.txt", DEPOTS)
    (docs / "manuals").mkdir()
    make_pdf(docs / "manuals" / "brakes.pdf", [BRAKES])
    os.utime(docs / "manuals" / "brakes.pdf", (OLD, OLD))
    assert sorted(statuses(run(docs, store, embedder))) == [("docs/depots.txt", "added"),
                                                            ("docs/manuals/brakes.pdf", "added")]
    again = run(docs, store, embedder)
    assert again.results == () and again.counts["unchanged"] == 2

    embedded: list[int] = []
    real = embedder.embed_passages
    monkeypatch.setattr(embedder, "embed_passages", lambda texts: (embedded.append(len(texts)), real(texts))[1])
    (docs / "manuals" / "brakes.pdf").rename(docs / "brakes-2026.pdf")  # moved up and renamed
    (docs / "depots.txt").rename(docs / "manuals" / "depots.txt")        # moved down
    report = run(docs, store, embedder)
    assert sorted((r.name, r.status, r.reason) for r in report.results) == [
        ("docs/brakes-2026.pdf", "moved", "from docs/manuals/brakes.pdf"),
        ("docs/manuals/depots.txt", "moved", "from docs/depots.txt")]
    assert embedded == [], "a moved file keeps its vectors"
    assert sorted(d.name for d in store.documents()) == ["docs/brakes-2026.pdf", "docs/manuals/depots.txt"]
    assert {c.source for c in store.chunks()} == {"docs/brakes-2026.pdf", "docs/manuals/depots.txt"}
    found = store.keyword_query("technician inspected", language="en", k=1)
    assert found and found[0].source == "docs/brakes-2026.pdf", "the keyword index follows the move"

    write(docs / "manuals" / "depots.txt", DEPOTS.replace("05:30", "06:15"), mtime=OLD + 10)  # changed
    (docs / "brakes-2026.pdf").unlink()                                    # deleted
    report = run(docs, store, embedder)
    assert sorted(statuses(report)) == [("docs/brakes-2026.pdf", "removed"), ("docs/manuals/depots.txt", "replaced")]
    assert "06:15" in " ".join(c.text for c in store.chunks()) and "05:30" not in " ".join(c.text for c in store.chunks())

    os.utime(docs / "manuals" / "depots.txt", (OLD + 60, OLD + 60))  # touched, same content: not re-embedded
    embedded.clear()
    assert statuses(run(docs, store, embedder)) == [("docs/manuals/depots.txt", "unchanged")] and embedded == []
    assert run(docs, store, embedder).results == (), "the new mtime was recorded: nothing is hashed again"


def test_what_is_skipped_and_what_waits(tmp_path, store, embedder):
    docs = tmp_path / "docs"
    write(docs / "notes.txt", DEPOTS)
    write(docs / "~$notes.docx", "lock")
    write(docs / ".~lock.sheet.ods#", "lock")
    write(docs / "notes.txt.swp", "swap")
    write(docs / "keynote.key", "binary")
    write(docs / ".git" / "config.txt", "hidden folder")
    write(docs / "_build" / "x.txt", "underscore folder")
    (docs / "sub").mkdir()
    (docs / "sub" / "loop").symlink_to(docs, target_is_directory=True)  # a link back up: a loop
    write(docs / "fresh.txt", BRAKES, mtime=time.time())  # still being written
    report = run(docs, store, embedder)
    assert sorted(statuses(report)) == [("docs/.~lock.sheet.ods#", "skipped"), ("docs/keynote.key", "skipped"),
                                        ("docs/notes.txt", "added"), ("docs/notes.txt.swp", "skipped"),
                                        ("docs/~$notes.docx", "skipped")]
    reasons = {r.name: r.reason for r in report.results}
    assert reasons["docs/keynote.key"].startswith("files of type '.key' are not supported")
    assert reasons["docs/~$notes.docx"] == "a temporary or lock file of an editor, not a document"
    assert report.pending == (str(docs / "fresh.txt"),) and report.files == 1
    os.utime(docs / "fresh.txt", (OLD, OLD))  # settled
    assert ("docs/fresh.txt", "added") in statuses(run(docs, store, embedder))


def test_a_failing_file_is_reported_once_and_retried_when_it_changes(tmp_path, store, embedder):
    docs = tmp_path / "docs"
    write(docs / "ok.txt", DEPOTS)
    write(docs / "empty.txt", "")
    first = run(docs, store, embedder)
    assert sorted(statuses(first)) == [("docs/empty.txt", "failed"), ("docs/ok.txt", "added")]
    assert first.failed and {r.name: r.reason for r in first.results}["docs/empty.txt"] == "the file is empty"
    second = run(docs, store, embedder)
    assert second.results == () and [f.reason for f in second.still_failing] == ["the file is empty"]
    write(docs / "empty.txt", BRAKES, mtime=OLD + 10)  # fixed
    assert statuses(run(docs, store, embedder)) == [("docs/empty.txt", "added")]
    assert not run(docs, store, embedder).still_failing


def test_documents_added_by_hand_are_never_removed_by_a_sync(tmp_path, store, embedder):
    docs, elsewhere = tmp_path / "docs", tmp_path / "uploads"
    write(docs / "depots.txt", DEPOTS)
    write(elsewhere / "brakes.txt", BRAKES)
    assert [r.status for r in ingest([elsewhere / "brakes.txt"], store=store, embedder=embedder)] == ["added"]
    run(docs, store, embedder)
    (docs / "depots.txt").unlink()
    assert statuses(run(docs, store, embedder)) == [("docs/depots.txt", "removed")]
    assert [d.name for d in store.documents()] == ["brakes.txt"]


def test_a_mails_attachments_follow_their_mail(tmp_path, store, embedder):
    from tests.formats_factory import make_eml

    docs = tmp_path / "docs"
    docs.mkdir()
    make_eml(docs / "mail.eml", subject="Brakes", body="See the attached manual.",
             attachments=[("brakes.txt", BRAKES.encode(), "text/plain")])
    os.utime(docs / "mail.eml", (OLD, OLD))
    assert sorted(statuses(run(docs, store, embedder))) == [("docs/mail.eml", "added"),
                                                            ("docs/mail.eml › brakes.txt", "added")]
    (docs / "mail.eml").unlink()
    assert sorted(statuses(run(docs, store, embedder))) == [("docs/mail.eml", "removed"),
                                                            ("docs/mail.eml › brakes.txt", "removed")]
    assert store.documents() == []


def test_an_unchanged_tree_is_not_hashed_again(tmp_path, store, monkeypatch):
    from rag import loading
    from rag.embedding import FakeEmbedder

    docs = tmp_path / "docs"
    for number in range(300):
        write(docs / f"part-{number // 100}" / f"note-{number:03d}.txt", f"Note {number}: depot {number}.")
    from rag.index.store import Store
    fake = Store(client=store._client, manifest=store._manifest, collection="many", embedder="fake-hash-64", dim=64)
    first = sync.sync_folder(docs, store=fake, embedder=FakeEmbedder(), settle_s=2.0, isolate=False)
    assert first.counts["added"] == 300
    hashed: list[Path] = []
    monkeypatch.setattr(loading, "sha256_of", lambda path: hashed.append(path))
    monkeypatch.setattr(sync, "sha256_of", lambda path: hashed.append(path))
    started = time.perf_counter()
    again = sync.sync_folder(docs, store=fake, embedder=FakeEmbedder(), settle_s=2.0, isolate=False)
    assert again.counts == {"unchanged": 300} and hashed == [], "size and mtime tell unchanged files apart"
    assert time.perf_counter() - started < 5


def test_the_folder_watcher_follows_changes_as_they_happen(tmp_path):
    from app.factory import build
    from app.folders import FolderWatcher
    from app.settings import Settings

    docs = tmp_path / "docs"
    write(docs / "depots.txt", DEPOTS)
    folio = build(Settings.for_tests(tmp_path / "home", embedder="fake-hash-64"), llm=False)
    reports = []
    watcher = FolderWatcher(folio, settle_s=0.3, on_report=reports.append)
    try:
        watcher.watch(docs)
        assert watcher.wait_idle(30)
        assert [d.name for d in folio.documents()] == ["docs/depots.txt"]
        changed = time.time()
        (docs / "depots.txt").rename(docs / "depots-2026.txt")
        write(docs / "brakes.txt", BRAKES, mtime=time.time())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sorted(d.name for d in folio.documents()) != ["docs/brakes.txt",
                                                                                              "docs/depots-2026.txt"]:
            time.sleep(0.2)
        assert sorted(d.name for d in folio.documents()) == ["docs/brakes.txt", "docs/depots-2026.txt"]
        assert watcher.wait_idle(30, changed_after=changed)
        status = watcher.status()
        assert (status["seen"], status["indexed"], status["pending"], status["failed"]) == (2, 2, 0, 0)
        assert any(r.status == "moved" for report in reports for r in report.results)
        with pytest.raises(Exception, match="overlaps the watched folder"):
            watcher.watch(docs / "..")
    finally:
        watcher.stop()
        folio.close()


def test_folio_watch_once_and_docs_pages(tmp_path, capsys):
    docs = tmp_path / "docs"
    for number in range(12):
        write(docs / f"note-{number:02d}.txt", f"Note {number}: depot {number} opens at {number} a.m.")
    write(docs / "slides.key", "binary")
    write(docs / "empty.txt", "")
    assert main(["watch", str(docs), "--once", "--json"]) == 1  # a file failed
    out = json.loads(capsys.readouterr().out)
    [folder] = out["folders"]
    assert sorted({r["status"] for r in folder["results"]}) == ["added", "failed", "skipped"]
    assert main(["watch", str(docs), "--once"]) == 1
    text = capsys.readouterr()
    assert "0 added, 0 replaced, 12 unchanged, 0 failed, 1 skipped" in text.out
    assert "empty.txt: the file is empty (unchanged since it failed)." in text.err

    assert main(["docs", "--limit", "5", "--offset", "10", "--json"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["total"] == 12 and [d["name"] for d in page["documents"]] == ["docs/note-10.txt", "docs/note-11.txt"]
    assert main(["docs", "--match", "NOTE-0"]) == 0
    assert capsys.readouterr().out.count("docs/note-0") == 10
    assert main(["watch", str(tmp_path / "nowhere"), "--once"]) == 1
    assert "no such folder" in capsys.readouterr().err


def test_ingest_reports_skipped_files_and_never_merges_two_files_of_one_name(tmp_path, capsys):
    write(tmp_path / "docs" / "a" / "notes.txt", DEPOTS)
    write(tmp_path / "docs" / "b" / "notes.txt", BRAKES)
    write(tmp_path / "docs" / "budget.numbers", "binary")
    assert main(["ingest", str(tmp_path / "docs"), "--json"]) == 0
    results = {r["name"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert {n: r["status"] for n, r in results.items()} == {
        "budget.numbers": "skipped", "docs/a/notes.txt": "added", "docs/b/notes.txt": "added"}
    assert "'.numbers' are not supported" in results["budget.numbers"]["reason"]


def test_a_schema_2_manifest_is_migrated_with_its_documents(tmp_path):
    path = tmp_path / "manifest.sqlite3"
    with sqlite3.connect(path) as db:  # the schema 2 layout, with one document
        db.executescript("""
            CREATE TABLE documents (collection TEXT NOT NULL, doc_id TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL,
                sha256 TEXT NOT NULL, pages INTEGER NOT NULL, chunks INTEGER NOT NULL, language TEXT NOT NULL,
                added_at TEXT NOT NULL, PRIMARY KEY (collection, doc_id));
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema', '2');
            INSERT INTO documents VALUES ('default', 'd-1', 'a.txt', '/a.txt', 'aa', 1, 2, 'en', '2026-01-01T00:00:00Z');
        """)
    manifest = Manifest(path)
    try:
        assert manifest.migrated_from == 2 and manifest.meta("schema") == str(SCHEMA_VERSION) == "3"
        record = manifest.find("default", "a.txt")
        assert (record.doc_id, record.origin, record.size, record.mtime_ns) == ("d-1", "", 0, 0)
        assert manifest.documents("default", match="A.T") == [record]
    finally:
        manifest.close()
    assert list(tmp_path.glob("backup-*-schema2")), "the old manifest was backed up first"
