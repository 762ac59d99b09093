"""Hostile files: every one is added or fails with one sentence, the process stays up, and the failed
ones change nothing in the index, the manifest or the keyword rows.

The corpus (``tests/hostile_factory.py``) is built into ``tmp_path`` and ingested in one run through
the real pipeline: parsing in the sandboxed worker, the real embedder, real Chroma.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from functools import partial

import pytest

from core.errors import DocumentError, UnsupportedFileError
from rag.ingest import ingest
from rag.loading import read_pages
from rag.sandbox import Sandbox, load_isolated
from rag.index.store import Store
from tests.hostile_factory import CASES, MB, build_corpus


def snapshot(store: Store) -> dict:
    """What a user could observe: documents, chunk ids and texts, keyword rows."""
    return {"documents": {d.doc_id: d for d in store.documents()},
            "chunks": {c.chunk_id: c.text for c in store.chunks()},
            "keywords": {chunk_id: doc_id for doc_id, chunk_id in store.keywords.rows()}}


def one_sentence(reason: str) -> bool:
    return "\n" not in reason and "Traceback" not in reason and (reason.count(". ") == 0 or "e.g." in reason)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory limit is enforced on Linux only")
def test_every_hostile_file_is_added_or_fails_in_one_sentence_and_failures_change_nothing(tmp_path, store, embedder):
    (tmp_path / "baseline.md").write_text("# Lost property\n\nItems are kept for 90 days at the main depot.")
    list(ingest([tmp_path / "baseline.md"], store=store, embedder=embedder))
    before = snapshot(store)
    paths = build_corpus(tmp_path / "hostile")
    (tmp_path / "canary.txt").write_text("After all of that, this file still goes in.")

    started = time.monotonic()
    results = list(ingest([*paths, tmp_path / "canary.txt"], store=store, embedder=embedder, chunk_tokens=60,
                          overlap_tokens=10, max_bytes=64 * MB, names=[c.name for c in CASES] + ["canary.txt"],
                          timeout_s=30))
    elapsed = time.monotonic() - started

    assert len(results) == len(CASES) + 1 and results[-1].status == "added", "the run went on to the end"
    wrong = [(case.name, result.status, result.reason) for case, result in zip(CASES, results)
             if result.status != case.expect or (case.expect == "failed" and case.reason not in result.reason)]
    assert wrong == [], wrong
    assert all(one_sentence(r.reason) for r in results if r.status == "failed"), [r.reason for r in results]
    print(f"\n{len(CASES)} hostile files in {elapsed:.1f} s: "
          f"{sum(r.status == 'added' for r in results[:-1])} added, {sum(r.status == 'failed' for r in results)} failed")

    after = snapshot(store)
    added = {r.doc_id: r for r in results if r.status == "added"}
    for key in ("documents", "chunks", "keywords"):
        kept = {k: v for k, v in after[key].items() if (k if key == "documents" else k.split(":")[0]) not in added}
        assert kept == before[key], f"failed files changed the {key}"
    for case, result in zip(CASES, results):
        if result.status == "added":
            texts = [t for chunk_id, t in after["chunks"].items() if chunk_id.startswith(result.doc_id + ":")]
            assert len(texts) == after["documents"][result.doc_id].chunks == result.chunks
            assert sum(k.startswith(result.doc_id + ":") for k in after["keywords"]) == result.chunks
            assert case.text in " ".join(texts), (case.name, texts)
    assert not any("root:" in text for text in after["chunks"].values()), "an external entity was resolved"


def test_a_20_gb_file_is_refused_by_its_size_without_being_read(tmp_path):
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        handle.truncate(20 * 1024**3)
    started = time.monotonic()
    with pytest.raises(DocumentError, match="over the 105 MB limit"):
        load_isolated(path, name="huge.pdf", max_bytes=100 * MB)
    assert time.monotonic() - started < 1.0


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(memory_mb=512)
    yield box
    box.close()


def test_a_parse_that_runs_too_long_is_killed(sandbox):
    started = time.monotonic()
    with pytest.raises(DocumentError) as info:
        sandbox.call(partial(time.sleep, 30), name="slow.pdf", timeout_s=0.5)
    assert str(info.value) == "slow.pdf: the file took longer than 0.5 s to read (it may be a decompression bomb or damaged)."
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("task, reason", [
    (partial(ctypes.string_at, 0), "the parser crashed on it (the file is probably damaged); re-export or re-download it"),
    (partial(os.abort), "the parser crashed on it (the file is probably damaged); re-export or re-download it"),
    (partial(bytearray, 8 * 1024**3), "reading it needed more than 512 MB of memory (it may be a decompression bomb or damaged)"),
    (partial(int, "not a number"), "the file could not be parsed (ValueError); it may be damaged"),
])
def test_crashes_and_memory_errors_become_one_sentence_and_the_next_file_still_parses(sandbox, tmp_path, task, reason):
    with pytest.raises(DocumentError) as info:
        sandbox.call(task, name="bad.pdf", timeout_s=30)
    assert info.value.reason == reason
    (tmp_path / "ok.txt").write_text("Still working.")
    pages = sandbox.call(partial(read_pages, tmp_path / "ok.txt", name="ok.txt"), name="ok.txt", timeout_s=30)
    assert pages[0].text == "Still working."


def test_document_errors_cross_the_process_boundary_with_their_type(sandbox, tmp_path):
    (tmp_path / "a.numbers").write_bytes(b"PK")
    with pytest.raises(UnsupportedFileError, match="a.numbers: files of type '.numbers' are not supported"):
        sandbox.call(partial(read_pages, tmp_path / "a.numbers", name="a.numbers"), name="a.numbers", timeout_s=30)


def test_the_worker_is_reused_and_replaced_only_when_it_died(sandbox, tmp_path):
    (tmp_path / "a.txt").write_text("Alpha.")
    task = partial(read_pages, tmp_path / "a.txt", name="a.txt")
    sandbox.call(task, name="a.txt", timeout_s=30)
    started = sandbox.started
    for _ in range(20):
        sandbox.call(task, name="a.txt", timeout_s=30)
    assert sandbox.started == started, "one worker for many files"
    with pytest.raises(DocumentError):
        sandbox.call(partial(os.abort), name="x", timeout_s=30)
    sandbox.call(task, name="a.txt", timeout_s=30)
    assert sandbox.started == started + 1


def test_a_warmed_worker_is_ready_for_the_first_file(tmp_path):
    (tmp_path / "a.txt").write_text("Alpha.")
    box = Sandbox(memory_mb=256)
    try:
        box.warm()
        deadline = time.monotonic() + 30
        while box.started == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert box.call(partial(read_pages, tmp_path / "a.txt", name="a.txt"), name="a.txt", timeout_s=30)[0].text == "Alpha."
        assert box.started == 1
    finally:
        box.close()


def test_an_interrupted_call_never_answers_the_next_one(sandbox, tmp_path, monkeypatch):
    import rag.sandbox

    (tmp_path / "a.txt").write_text("Alpha.")
    (tmp_path / "b.txt").write_text("Beta.")
    sandbox.call(partial(read_pages, tmp_path / "a.txt", name="a.txt"), name="a.txt", timeout_s=30)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the worker is busy with a.txt

    original = rag.sandbox.wait
    monkeypatch.setattr(rag.sandbox, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sandbox.call(partial(read_pages, tmp_path / "a.txt", name="a.txt"), name="a.txt", timeout_s=30)
    monkeypatch.setattr(rag.sandbox, "wait", original)
    pages = sandbox.call(partial(read_pages, tmp_path / "b.txt", name="b.txt"), name="b.txt", timeout_s=30)
    assert pages[0].text == "Beta."
