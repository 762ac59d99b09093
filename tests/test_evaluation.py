"""Scoring with answer terms, the two settings of a multilingual set, and the committed installation-guide set."""

from collections import Counter
from pathlib import Path

from rag.documents import Chunk, Passage
from rag.evaluation import in_setting, load_questions, metrics_from_ranks, rank_of, retrieval_metrics

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "bench" / "sets" / "installation-guide.jsonl"
LANGUAGES = ("en", "fr", "de", "es", "it")


def passage(name: str, text: str, index: int = 0) -> Passage:
    return Passage(Chunk("d-" + name, name, 1, 0, len(text), text, name[:2], index, "0" * 64), 1.0)


def test_a_passage_from_the_right_page_without_the_answer_terms_is_not_a_hit():
    [question] = [q for q in load_questions(SET) if q.id == "default-iv-algorithm-fr"]
    [bound] = in_setting([question], "same")
    description = passage("fr/ch06s03.html", "Chiffrement : aes\nCet algorithme protège les données.")
    answer = passage("fr/ch06s03.html", "Algorithme IV :\nxts-plain64\nLe vecteur d'initialisation…", 1)
    english = passage("en/ch06s03.html", "IV algorithm: xts-plain64", 2)
    assert rank_of([description, english, answer], bound) == 3
    assert rank_of([description, english], bound) is None


def test_cross_language_questions_must_hit_the_english_page_and_skip_facts_english_does_not_state():
    questions = load_questions(SET)
    cross = in_setting(questions, "cross")
    assert {q.language for q in cross} == {"fr", "de", "es", "it"}
    assert all(q.source.startswith("en/") and q.version == "en" and q.cross_language for q in cross)
    assert not [q for q in cross if q.only_in]
    same = in_setting(questions, "same")
    [italian_credit] = [q for q in same if q.id == "italian-translation-coordinator-en"]
    assert italian_credit.source == "it/apes01.html"  # stated only in the Italian version


def test_metrics_per_language_and_kind_in_the_cross_setting():
    questions = [q for q in in_setting(load_questions(SET), "cross") if q.fact in ("syslog-default-port", "anna-meaning")]
    hits = {"syslog-default-port-de": 1, "syslog-default-port-fr": 3, "anna-meaning-de": 1}
    report = metrics_from_ranks(questions, [hits.get(q.id) for q in questions])
    assert report["cross:de"] == {"n": 2, "hit@1": 1.0, "hit@5": 1.0, "mrr": 1.0}
    assert report["cross:fr"]["mrr"] == round((1 / 3) / 2, 3)
    assert report["kind:number"]["hit@5"] == 0.5 and report["kind:name"]["hit@5"] == 0.25
    assert sorted(report["misses"]) == ["anna-meaning-es", "anna-meaning-fr", "anna-meaning-it",
                                        "syslog-default-port-es", "syslog-default-port-it"]


def test_sample_docs_questions_keep_their_page_rule():
    [question] = [q for q in load_questions(ROOT / "sample_docs" / "eval.jsonl") if q.id == "en-01"]
    wrong_page = Passage(Chunk("d", question.source, question.page + 1, 0, 1, "x", "en", 0, "0"), 0.9)
    right_page = Passage(Chunk("d", question.source, question.page, 0, 1, "y", "en", 1, "0"), 0.8)
    assert retrieval_metrics([question], lambda q: [wrong_page, right_page])["all"]["mrr"] == 0.5


def test_the_installation_guide_set_asks_every_fact_in_five_languages():
    questions = load_questions(SET)
    facts = Counter(q.fact for q in questions)
    assert len(facts) >= 60 and set(facts.values()) == {5}
    assert len({q.id for q in questions}) == len(questions)
    assert {q.kind for q in questions} == {"table", "procedure", "number", "name", "concept"}
    assert len({q.source for q in questions}) >= 40
    for q in questions:
        assert q.source.endswith(".html") and q.question.strip()
        stated = [q.only_in] if q.only_in else list(LANGUAGES)
        assert all(q.answer_terms.get(language) for language in stated), q.id
    per_fact = {}
    for q in questions:
        per_fact.setdefault(q.fact, set()).add(q.language)
    assert all(languages == set(LANGUAGES) for languages in per_fact.values())
    assert sum(1 for q in questions if q.only_in) >= 3 * 5
