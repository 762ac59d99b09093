"""Ingestion into real Chroma with the real embedder: dedup, replace, remove, and bad files that change nothing."""

from __future__ import annotations

import pytest

from rag.ingest import ingest
from rag.index.manifest import Manifest
from rag.index.client import open_client
from rag.index.store import Store
from tests.docs_factory import make_blank_scan_pdf, make_encrypted_pdf, make_pdf, make_truncated_pdf


def snapshot(store: Store) -> tuple:
    """Everything a user could observe of the index: documents, chunk ids, their texts."""
    return tuple(store.documents()), tuple(sorted((c.chunk_id, c.text) for c in store.chunks()))


def run(store, embedder, *paths):
    return list(ingest(list(paths), store=store, embedder=embedder, chunk_tokens=60, overlap_tokens=10))


def test_add_then_unchanged_then_replaced_then_removed(tmp_path, store, embedder):
    path = make_pdf(tmp_path / "fleet.pdf", ["The fleet has 42 trains.", "The depot opens at 05:30."])
    [first] = run(store, embedder, path)
    assert (first.status, first.pages, first.chunks) == ("added", 2, 2)
    assert [p.page for p in store.vectors.query(embedder.embed_query("When does the depot open?"), k=1)] == [2]

    before = snapshot(store)
    [again] = run(store, embedder, path)
    assert again.status == "unchanged" and snapshot(store) == before

    make_pdf(path, ["The fleet has 57 trains.", "The depot opens at 06:15.", "Founded in 1987."])
    [replaced] = run(store, embedder, path)
    assert (replaced.status, replaced.pages, replaced.chunks) == ("replaced", 3, 3)
    texts = " ".join(c.text for c in store.chunks())
    assert "57 trains" in texts and "42 trains" not in texts, "the old version's chunks are gone"
    assert store.vectors.count() == 3

    store.remove("fleet.pdf")
    assert store.vectors.count() == 0 and store.documents() == []


def test_remove_by_id_and_unknown_document(tmp_path, store, embedder):
    (tmp_path / "a.txt").write_text("Bikes ride free on Sundays.")
    [result] = run(store, embedder, tmp_path / "a.txt")
    store.remove(result.doc_id)
    assert store.documents() == []
    with pytest.raises(Exception, match="No document 'nope' in collection 'default'"):
        store.remove("nope")


def test_every_bad_file_leaves_index_and_manifest_exactly_as_before(tmp_path, store, embedder):
    good = make_pdf(tmp_path / "good.pdf", ["Dogs travel on a leash.", "Cats travel in a basket."])
    run(store, embedder, good)
    before = snapshot(store)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.docx").write_bytes(b"\x00junk" * 50)
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "huge.txt").write_text("x" * 2000)
    bad = [make_encrypted_pdf(tmp_path / "locked.pdf", "Secret"), make_truncated_pdf(tmp_path / "cut.pdf", good),
           make_blank_scan_pdf(tmp_path / "scan.pdf"), tmp_path / "empty.txt", tmp_path / "junk.docx",
           tmp_path / "table.xlsx"]
    results = run(store, embedder, *bad)
    assert [r.status for r in results] == ["failed"] * len(bad)
    assert all(r.reason and "\n" not in r.reason for r in results)
    results = list(ingest([tmp_path / "huge.txt"], store=store, embedder=embedder, max_bytes=1000))
    assert results[0].status == "failed" and "limit" in results[0].reason
    assert snapshot(store) == before


def test_other_files_of_the_run_still_go_in(tmp_path, store, embedder):
    (tmp_path / "ok.md").write_text("# Tickets\n\nA day pass costs 12 EUR.")
    (tmp_path / "empty.txt").write_bytes(b"")
    results = run(store, embedder, tmp_path / "empty.txt", tmp_path / "ok.md")
    assert [(r.name, r.status) for r in results] == [("empty.txt", "failed"), ("ok.md", "added")]


def test_a_failure_while_writing_fails_that_file_leaves_nothing_behind_and_the_run_goes_on(
        tmp_path, store, embedder, monkeypatch):
    (tmp_path / "a.txt").write_text("The safety officer is Anna Keller.")
    run(store, embedder, tmp_path / "a.txt")
    before = snapshot(store)
    (tmp_path / "b.txt").write_text("The museum opens on Sundays. " * 50)
    (tmp_path / "c.txt").write_text("Bicycles travel free after 9:00.")
    original = store.vectors._collection.add

    def failing_add(**kwargs):
        original(**kwargs)
        if any(meta["source"] == "b.txt" for meta in kwargs["metadatas"]):
            raise RuntimeError("disk full")

    monkeypatch.setattr(store.vectors, "_max_batch", 2)
    monkeypatch.setattr(store.vectors._collection, "add", failing_add)
    failed, added = run(store, embedder, tmp_path / "b.txt", tmp_path / "c.txt")
    assert (failed.name, failed.status, added.name, added.status) == ("b.txt", "failed", "c.txt", "added")
    assert failed.reason == "it could not be indexed (RuntimeError: disk full); the index was left as it was, try again"
    assert store.documents() == [*before[0], store.find("c.txt")], "a.txt as it was, c.txt added, no b.txt"
    assert {c.source for c in store.chunks()} == {"a.txt", "c.txt"} and store.recover() == 0


def test_an_embedder_error_fails_that_file_only(tmp_path, store, embedder, monkeypatch):
    (tmp_path / "a.txt").write_text("The safety officer is Anna Keller.")
    (tmp_path / "b.txt").write_text("Bicycles travel free after 9:00.")
    real = embedder.embed_passages

    def flaky(texts):
        if any("Anna" in t for t in texts):
            raise MemoryError("out of memory")
        return real(texts)

    monkeypatch.setattr(embedder, "embed_passages", flaky)
    results = run(store, embedder, tmp_path / "a.txt", tmp_path / "b.txt")
    assert [(r.name, r.status) for r in results] == [("a.txt", "failed"), ("b.txt", "added")]
    assert "MemoryError" in results[0].reason and [d.name for d in store.documents()] == ["b.txt"]


def test_an_upload_is_hashed_once_on_its_way_in(tmp_path, monkeypatch):
    import hashlib

    from app import service
    from app.factory import build
    from app.settings import Settings
    from rag import loading

    hashed: list[int] = []

    class Counting:
        @staticmethod
        def sha256():
            hashed.append(1)
            return hashlib.sha256()

    folio = build(Settings.for_tests(tmp_path / "home", embedder="fake-hash-64"), llm=False)
    try:
        upload = tmp_path / "upload-1"
        upload.write_text("A day pass costs 12 EUR.")
        monkeypatch.setattr(loading, "hashlib", Counting)
        assert [r.status for r in service.ingest_uploads(folio, [upload], names=["tickets.txt"])] == ["added"]
        assert len(hashed) == 1, "the kept copy, the unchanged check and the record share one hash"
        assert [r.status for r in service.ingest_uploads(folio, [upload], names=["tickets.txt"])] == ["unchanged"]
        assert len(hashed) == 2
    finally:
        folio.close()


def test_recovery_after_a_crash_between_add_and_commit(tmp_path, embedder):
    """A crash after the chunks went in but before the commit marker: reopening removes them."""
    from rag.chunking import chunk_document
    from rag.loading import load

    def open_store():
        return Store(client=open_client(tmp_path / "index"), manifest=Manifest(tmp_path / "m.sqlite3"),
                     collection="default", embedder=embedder.name, dim=embedder.dim)

    store = open_store()
    (tmp_path / "a.txt").write_text("Trains are cleaned every night.")
    document = load(tmp_path / "a.txt")
    chunks = chunk_document(document, token_length=embedder.token_length)
    store._manifest.work("default").pending.begin(document.doc_id, sha256=document.sha256, old_sha256=None)
    store.vectors.add(chunks, embedder.embed_passages([c.text for c in chunks]))  # ... and then the process dies
    assert store.vectors.count() == len(chunks) and store.documents() == []

    reopened = open_store()
    assert reopened.recover() == 1
    assert reopened.vectors.count() == 0 and reopened.documents() == []


def test_mixing_embedders_in_one_collection_is_refused(tmp_path):
    from core.errors import IndexMismatchError

    client, manifest = open_client(tmp_path / "index"), Manifest(tmp_path / "m.sqlite3")
    Store(client=client, manifest=manifest, collection="default", embedder="use-multilingual-v3", dim=512)
    with pytest.raises(IndexMismatchError, match="indexed with the embedder 'use-multilingual-v3', not 'all-minilm-l6-v2'"):
        Store(client=client, manifest=manifest, collection="default", embedder="all-minilm-l6-v2", dim=384)


def test_results_come_in_the_files_order_while_the_next_file_is_read_ahead(tmp_path, store, embedder):
    names, folder = [], tmp_path / "docs"
    folder.mkdir()
    for number in range(6):
        path = folder / f"{number}-{'bad' if number % 3 == 1 else 'good'}.txt"
        path.write_text("" if number % 3 == 1 else f"Depot {number} opens at {number + 6} o'clock.\n" * 40)
        names.append(path.name)
    seen = []
    results = list(ingest([folder], store=store, embedder=embedder,
                          on_file=lambda done, total, name: seen.append((done, total, name))))
    assert [r.name for r in results] == names == [name for _, _, name in seen]
    assert [r.status for r in results] == ["added", "failed", "added", "added", "failed", "added"]
    assert [done for done, _, _ in seen] == list(range(6)) and {total for _, total, _ in seen} == {6}
    assert [r.status for r in ingest([folder], store=store, embedder=embedder)][:1] == ["unchanged"]


def test_the_default_embedder_gives_the_same_vectors_on_one_thread_and_on_several():
    import numpy as np

    from rag.embedding import UniversalSentenceEncoder

    texts = [f"Passage {i}: the depot in Brenzach opens at {i % 12} o'clock, Le dépôt ouvre à {i % 9} h." for i in range(80)]
    one, several = UniversalSentenceEncoder(threads=1), UniversalSentenceEncoder(threads=3)
    try:
        assert np.allclose(one.embed(texts), several.embed(texts), atol=1e-5)
        assert np.allclose(several.embed(texts[:5]), one.embed(texts[:5]), atol=1e-5)  # too few to split
    finally:
        one.close()
        several.close()
