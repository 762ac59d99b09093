"""Search over sample_docs in five languages, with the real embedder, real Chroma and the keyword index."""

from __future__ import annotations


import pytest

from rag.evaluation import load_questions, rank_of, retrieval_metrics
from rag.ingest import ingest
from rag.index.manifest import Manifest
from rag.retrieval import search
from rag.index.client import open_client
from rag.index.store import Store
from tests.conftest import SAMPLE_DOCS

QUESTIONS = load_questions(SAMPLE_DOCS / "eval.jsonl")


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, embedder):
    home = tmp_path_factory.mktemp("samples")
    store = Store(client=open_client(home / "index"), manifest=Manifest(home / "m.sqlite3"), collection="default",
                  embedder=embedder.name, dim=embedder.dim)
    results = list(ingest([SAMPLE_DOCS], store=store, embedder=embedder))
    assert [r.name for r in results if r.status != "added"] == ["eval.jsonl"], [r.message for r in results]
    assert results[0].status == "skipped" and "'.jsonl' are not supported" in results[0].reason
    return store


@pytest.mark.parametrize("language", ["en", "fr", "de", "es", "it"])
def test_questions_find_the_right_page_in_their_own_language(sample_store, embedder, language):
    questions = [q for q in QUESTIONS if q.language == language and not q.cross_language]
    assert len(questions) >= 12
    misses = [q.question for q in questions
              if rank_of(search(q.question, store=sample_store, embedder=embedder, k=5), q) is None]
    assert len(misses) <= len(questions) // 20, misses


def test_a_french_question_finds_an_english_passage(sample_store, embedder):
    [question] = [q for q in QUESTIONS if q.id == "fr-x01"]
    assert question.source == "annual_report_2025_en.pdf"
    passages = search(question.question, store=sample_store, embedder=embedder, k=5)
    assert rank_of(passages, question) is not None, [(p.source, p.page) for p in passages]


def test_hybrid_beats_dense_only_and_keyword_only(sample_store, embedder):
    report = {mode: retrieval_metrics(QUESTIONS, lambda q, mode=mode: search(q, store=sample_store, embedder=embedder,
                                                                              k=5, mode=mode))
              for mode in ("dense", "keyword", "hybrid")}
    assert report["hybrid"]["all"]["mrr"] > max(report["dense"]["all"]["mrr"], report["keyword"]["all"]["mrr"])
    assert report["hybrid"]["same"]["hit@5"] >= 0.95
    assert report["hybrid"]["cross"]["hit@5"] >= report["dense"]["cross"]["hit@5"] >= 0.7


def test_search_within_chosen_documents(sample_store, embedder):
    doc = sample_store.find("politica_mascotas_es.txt")
    passages = search("Quanto costa il biglietto?", store=sample_store, embedder=embedder, k=5, doc_ids=[doc.doc_id])
    assert passages and {p.source for p in passages} == {"politica_mascotas_es.txt"}


def test_removed_and_replaced_documents_leave_the_keyword_index_too(tmp_path, store, embedder):
    (tmp_path / "zeppelin.txt").write_text("The Zeppelinwerft hangar hosts the museum train.")
    list(ingest([tmp_path / "zeppelin.txt"], store=store, embedder=embedder))
    assert [p.source for p in search("Zeppelinwerft", store=store, embedder=embedder, mode="keyword")] == ["zeppelin.txt"]
    (tmp_path / "zeppelin.txt").write_text("The hangar now hosts the workshop.")
    list(ingest([tmp_path / "zeppelin.txt"], store=store, embedder=embedder))
    assert search("Zeppelinwerft", store=store, embedder=embedder, mode="keyword") == []
    store.remove("zeppelin.txt")
    assert search("hangar workshop", store=store, embedder=embedder, mode="keyword") == []
    assert search("hangar workshop", store=store, embedder=embedder, mode="hybrid") == []


def test_a_translated_version_is_folded_into_the_one_in_the_question_language(tmp_path, store, embedder):
    """Two language versions of one manual indexed: a German question gets the German page, and the English
    translation of it does not take a second place in the top results (rag.retrieval.fold_translations)."""
    from dataclasses import replace as changed

    from rag.retrieval import TUNING

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "brakes_en.txt").write_text("The brake pads of the regional trains are replaced every 40,000 kilometres.")
    (docs / "brakes_de.txt").write_text("Die Bremsbeläge der Regionalzüge werden alle 40.000 Kilometer ersetzt.")
    (docs / "bikes_en.txt").write_text("Bicycles travel in the last carriage; a bike ticket costs five francs.")
    list(ingest([docs], store=store, embedder=embedder))
    question = "Wie oft werden die Bremsbeläge der Regionalzüge ersetzt?"
    folded = [p.source for p in search(question, store=store, embedder=embedder, k=2)]
    unfolded = [p.source for p in search(question, store=store, embedder=embedder, k=2,
                                         tuning=changed(TUNING, translations=None))]
    assert folded == ["brakes_de.txt", "bikes_en.txt"]
    assert set(unfolded) == {"brakes_de.txt", "brakes_en.txt"}, "without folding both versions take the top two"
