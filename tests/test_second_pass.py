"""The second pass on real Chroma and the real first embedder: documents are searchable at once and wait on
the backlog for the second embedder's vectors; the pass can stop, resumes after a restart, follows replaced,
removed and moved documents, and starts over when the second embedder changes."""

from __future__ import annotations

import threading

from rag.backfill import backfill
from rag.embedding import FakeEmbedder
from rag.index.client import open_client
from rag.index.manifest import Manifest
from rag.index.store import Store
from rag.ingest import ingest

SECOND = FakeEmbedder()  # the slow one's stand-in here; the real multilingual-e5-small is in test_embedding_e5


def open_store(home, embedder, *, second=(SECOND.name, SECOND.dim)) -> Store:
    return Store(client=open_client(home / "index"), manifest=Manifest(home / "m.sqlite3"), collection="default",
                 embedder=embedder.name, dim=embedder.dim, second=second)


def write_docs(folder, count: int, *, version: int = 0) -> None:
    folder.mkdir(exist_ok=True)
    for number in range(count):
        (folder / f"doc{number}.txt").write_text(
            "\n\n".join(f"Depot {number} rule {version}.{i}: trucks load at bay {i}." * 8 for i in range(6)))


def test_documents_are_searchable_at_once_and_complete_after_the_pass(tmp_path, embedder):
    write_docs(tmp_path / "docs", 3)
    store = open_store(tmp_path, embedder)
    assert [r.status for r in ingest([tmp_path / "docs"], store=store, embedder=embedder)] == ["added"] * 3
    waiting_docs, waiting_chunks = store.backlog.waiting()
    assert waiting_docs == 3 and waiting_chunks == store.vectors.count() and store.second.count() == 0
    found = store.keyword_query("bay trucks depot 2", language="en", k=3)
    assert found and found[0].source == "doc2.txt", "searchable before the second pass"
    done = backfill(store, SECOND)
    assert (done.documents, done.waiting_documents) == (3, 0)
    assert store.second.count() == store.vectors.count() and store.backlog.items() == []


def test_a_stopped_pass_resumes_where_it_stopped_after_a_restart(tmp_path, embedder):
    write_docs(tmp_path / "docs", 4)
    store = open_store(tmp_path, embedder)
    list(ingest([tmp_path / "docs"], store=store, embedder=embedder))
    stop = threading.Event()
    seen = []

    def on_progress(progress) -> None:
        seen.append(progress)
        if progress.documents == 1:
            stop.set()  # Stop after the first document

    first = backfill(store, SECOND, stop=stop, on_progress=on_progress)
    assert first.stopped and 1 <= first.documents < 4 and first.waiting_documents == 4 - first.documents
    store._manifest.close()
    reopened = open_store(tmp_path, embedder)  # a restart: the backlog is in the manifest
    assert reopened.backlog.waiting()[0] == 4 - first.documents
    assert backfill(reopened, SECOND).documents == 4 - first.documents
    assert reopened.second.count() == reopened.vectors.count()


def test_replaced_removed_and_moved_documents_keep_the_second_index_exact(tmp_path, embedder):
    write_docs(tmp_path / "docs", 2)
    store = open_store(tmp_path, embedder)
    list(ingest([tmp_path / "docs"], store=store, embedder=embedder))
    backfill(store, SECOND)
    write_docs(tmp_path / "docs", 1, version=1)  # doc0 changes: its new version waits again
    assert [r.status for r in ingest([tmp_path / "docs"], store=store, embedder=embedder)] == ["replaced", "unchanged"]
    [(doc_id, sha)] = store.backlog.items()
    assert doc_id == store.find("doc0.txt").doc_id and sha == store.find("doc0.txt").sha256
    assert store.second.count() == store.find("doc1.txt").chunks, "the old version's second vectors are gone"
    backfill(store, SECOND)
    assert store.second.count() == store.vectors.count()

    moved = store.move("doc1.txt", name="renamed.txt", path=str(tmp_path / "renamed.txt"))
    assert store.backlog.items() == [], "a moved document keeps its second vectors"
    assert {c.doc_id for c in store.second.chunks()} == {store.find("doc0.txt").doc_id, moved.doc_id}
    store.remove("renamed.txt")
    assert store.second.count() == store.find("doc0.txt").chunks == store.vectors.count()


def test_another_second_embedder_starts_the_pass_over(tmp_path, embedder):
    write_docs(tmp_path / "docs", 2)
    store = open_store(tmp_path, embedder)
    list(ingest([tmp_path / "docs"], store=store, embedder=embedder))
    backfill(store, SECOND)
    store._manifest.close()

    class Other(FakeEmbedder):
        name = "other-fake"

    again = open_store(tmp_path, embedder, second=(Other.name, Other.dim))
    assert again.backlog.waiting()[0] == 2 and again.second.count() == 0
    assert backfill(again, Other()).documents == 2
    without = open_store(tmp_path, embedder, second=None)
    assert without.second is None and [r.status for r in ingest([tmp_path / "docs"], store=without,
                                                                embedder=embedder)] == ["unchanged"] * 2
