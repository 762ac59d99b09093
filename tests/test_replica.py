"""Replicas: a writer publishes its document list on a real Chroma server; read-only instances sync from it.

The unit tests of :func:`rag.index.replica.plan_sync` run in milliseconds; the others use ``chroma run``
(the fixture of ``tests/test_chroma_server.py``), the real embedder and the service calls the CLI
and the web app make.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from app.factory import Folio, build, open_index_client
from app.service import (create_collection, drop_collection, ingest_paths, ingest_uploads, reindex_document,
                         remove_document, search_passages)
from app.settings import Settings
from rag.index import replica
from core.errors import FolioError
from rag.index.manifest import DocumentRecord, Manifest
from tests.docs_factory import make_pdf
from tests.test_chroma_server import chroma_url  # noqa: F401 - the server fixture, one per module


# -- plan_sync ---------------------------------------------------------------------------------
def record(doc_id: str, sha256: str = "aa", **changes) -> DocumentRecord:
    base = DocumentRecord(doc_id=doc_id, name=f"{doc_id}.txt", path=f"/d/{doc_id}.txt", sha256=sha256, pages=1,
                          chunks=1, language="en", added_at="2026-01-01T00:00:00Z")
    return replace(base, **changes)


def test_plan_sync_of_equal_lists_is_empty():
    assert replica.plan_sync([], []).empty
    assert replica.plan_sync([record("a"), record("b")], [record("b"), record("a")]).empty


def test_plan_sync_adds_new_and_drops_unpublished():
    plan = replica.plan_sync([record("a"), record("gone")], [record("a"), record("new")])
    assert plan.add == (record("new"),) and plan.drop == (record("gone"),)


def test_plan_sync_replaces_a_changed_document():
    plan = replica.plan_sync([record("a", "11")], [record("a", "22")])
    assert plan.add == (record("a", "22"),) and plan.drop == (record("a", "11"),)
    renamed = replica.plan_sync([record("a")], [record("a", path="/elsewhere/a.txt")])
    assert [r.path for r in renamed.add] == ["/elsewhere/a.txt"] and renamed.drop == (record("a"),)


def test_a_replica_needs_a_chroma_server(tmp_path):
    with pytest.raises(FolioError, match="FOLIO_REPLICA is set but FOLIO_CHROMA_URL is not"):
        build(Settings.for_tests(tmp_path / "home", replica=True), llm=False)


# -- writer and replica on one Chroma server -----------------------------------------------------
def open_folio(home: Path, url: str, embedder, *, collection: str, **settings) -> Folio:
    """A Folio like ``build`` makes, sharing the session's embedder (closed with :func:`close`)."""
    s = Settings.for_tests(home, chroma_url=url, collection=collection, chunk_tokens=60, **settings)
    return Folio(settings=s, embedder=embedder, manifest=Manifest(s.manifest_path), client=open_index_client(s))


def close(folio: Folio) -> None:
    folio.manifest.close()  # not folio.close(): the embedder is the session's


def listing(folio: Folio) -> list[tuple]:
    return [(d.name, d.pages, d.chunks, d.sha256) for d in folio.documents()]


def sources(folio: Folio, query: str, mode: str = "hybrid") -> list[str]:
    return [p.source for p in search_passages(folio, query, k=3, mode=mode)]


@pytest.fixture
def library(chroma_url, tmp_path, embedder):  # noqa: F811 - the imported fixture
    """A writer (home A) that has ingested three small files, and a replica of it (home B)."""
    collection = f"r{uuid.uuid4().hex[:10]}"
    files = tmp_path / "files"
    files.mkdir()
    make_pdf(files / "depot.pdf", ["The Oberfeld depot washes its trains every Tuesday morning.",
                                   "Brake pads on the regional fleet are replaced every 40,000 km."])
    (files / "bakery.txt").write_text("Our sourdough rests overnight in the cold room before baking at 240 degrees.")
    (files / "codes.txt").write_text("Signal box code QX7731 unlocks the northern siding gate.")
    writer = open_folio(tmp_path / "a", chroma_url, embedder, collection=collection)
    assert [r.status for r in ingest_paths(writer, [files])] == ["added"] * 3
    mirror = open_folio(tmp_path / "b", chroma_url, embedder, collection=collection, replica=True,
                        replica_sync_s=3600.0)
    assert len(mirror.documents()) == 3  # opened, so synced, now
    yield writer, mirror, files
    close(mirror)
    writer.store().drop()
    close(writer)


def test_a_replica_lists_and_searches_what_the_writer_ingested(library):
    writer, mirror, _ = library
    assert listing(mirror) == listing(writer)
    assert [(n, p, c) for n, p, c, _ in listing(mirror)] == [("bakery.txt", 1, 1), ("codes.txt", 1, 1),
                                                            ("depot.pdf", 2, 2)]
    # keyword only: a code the embedder knows nothing about, found through the replica's own keyword index
    assert sources(mirror, "QX7731", mode="keyword") == ["codes.txt"]
    assert sources(mirror, "QX7731")[0] == "codes.txt"
    # dense only: no word in common with the passage
    assert "depot.pdf" not in sources(mirror, "When are the locomotives cleaned?", mode="keyword")
    assert sources(mirror, "When are the locomotives cleaned?")[0] == "depot.pdf"


def test_removed_and_replaced_documents_reach_the_replica_at_its_next_sync(library):
    writer, mirror, files = library
    remove_document(writer, "bakery.txt")
    make_pdf(files / "depot.pdf", ["The Oberfeld depot washes its trains every Friday evening with Zyklonspray.",
                                   "Brake pads on the regional fleet are replaced every 40,000 km.",
                                   "A third page."])
    assert [r.status for r in ingest_paths(writer, [files / "depot.pdf"])] == ["replaced"]

    stale = listing(mirror)  # within replica_sync_s the replica answers from its cache
    assert [n for n, *_ in stale] == ["bakery.txt", "codes.txt", "depot.pdf"]
    mirror.settings = mirror.settings.with_(replica_sync_s=0.0)  # the next call finds the last sync too old
    assert listing(mirror) == listing(writer)
    assert [n for n, *_ in listing(mirror)] == ["codes.txt", "depot.pdf"]
    assert "bakery.txt" not in sources(mirror, "sourdough baking in the cold room")
    assert sources(mirror, "sourdough", mode="keyword") == []
    assert sources(mirror, "Zyklonspray", mode="keyword") == ["depot.pdf"]
    assert sources(mirror, "Tuesday morning", mode="keyword") == []
    text = " ".join(p.text for p in search_passages(mirror, "When are the trains washed?", k=3))
    assert "Friday evening" in text and "Tuesday" not in text


def test_a_replica_refuses_every_change_and_changes_nothing(library, tmp_path):
    writer, mirror, files = library
    before = (listing(mirror), listing(writer), writer.store().vectors.count())
    (tmp_path / "new.txt").write_text("A new document.")
    attempts = [lambda: ingest_paths(mirror, [tmp_path / "new.txt"]),
                lambda: ingest_uploads(mirror, [tmp_path / "new.txt"], names=["new.txt"]),
                lambda: remove_document(mirror, "codes.txt"),
                lambda: reindex_document(mirror, "codes.txt"),
                lambda: create_collection(mirror, "other"),
                lambda: drop_collection(mirror, mirror.settings.collection),
                lambda: mirror.store().remove("codes.txt"),
                lambda: mirror.store().drop(),
                lambda: mirror.store().vectors.delete(["x"])]  # what `doctor --check` would repair
    for attempt in attempts:
        with pytest.raises(FolioError) as refused:
            attempt()
        assert str(refused.value) == replica.REFUSAL
    mirror.store().recover()  # reads only
    assert (listing(mirror), listing(writer), writer.store().vectors.count()) == before
    assert not (mirror.settings.home / "files").exists(), "no upload was kept"


def test_the_cli_of_a_replica_refuses_ingest_in_one_sentence(chroma_url, tmp_path, monkeypatch, capsys):  # noqa: F811
    from app.cli import main

    monkeypatch.setenv("FOLIO_CHROMA_URL", chroma_url)
    monkeypatch.setenv("FOLIO_REPLICA", "1")
    (tmp_path / "a.txt").write_text("Anything.")
    assert main(["ingest", str(tmp_path / "a.txt")]) == 1
    assert capsys.readouterr().err.strip() == replica.REFUSAL


def test_a_crash_between_commit_and_publish_heals_at_the_writers_next_open(library, monkeypatch):
    writer, mirror, files = library
    mirror.settings = mirror.settings.with_(replica_sync_s=0.0)

    class Killed(BaseException):
        """The process dying: not an error a file's ingestion handles (those fail the file and go on)."""

    def crash(docs, records):
        raise Killed("killed after the commit")

    (files / "late.txt").write_text("The late shift starts at 22:00 in the Oberfeld depot.")
    with monkeypatch.context() as patch:
        patch.setattr("rag.index.store.publish", crash)
        with pytest.raises(Killed):
            list(ingest_paths(writer, [files / "late.txt"]))
    assert "late.txt" in [n for n, *_ in listing(writer)], "committed in the writer's manifest"
    assert "late.txt" not in [n for n, *_ in listing(mirror)], "but not published"
    stray = record("d-stray")
    replica.publish(writer.store()._published, [stray])  # published, but in no manifest
    assert "d-stray.txt" not in [n for n, *_ in listing(mirror)], "listed only once all its chunks are there"

    close(writer)
    reopened = open_folio(writer.settings.home, writer.settings.chroma_url, writer.embedder,
                          collection=writer.settings.collection)
    try:
        expected = listing(reopened)  # opened: recovered and published again
        assert listing(mirror) == expected
        assert "late.txt" in [n for n, *_ in listing(mirror)]
        assert sources(mirror, "22:00", mode="keyword") == ["late.txt"]
        assert "d-stray" not in [r.doc_id for r in replica.published(reopened.store()._published)]
    finally:
        reopened.store().drop()
        close(reopened)
        writer.manifest = Manifest(writer.settings.manifest_path)  # for the fixture's teardown
        writer._stores.clear()
