"""Retrieval and answer metrics over a question set: hit@1, hit@5 and MRR per language and cross-language.

A question is answered by one page of one source; a retrieved passage is a hit when it comes from
that page.

>>> from rag.documents import Chunk, Passage
>>> q = Question(id="en-1", question="When?", language="en", source="a.pdf", page=2)
>>> ps = [Passage(Chunk("d", "a.pdf", 1, 0, 1, "x", "en", 0, "0"), 0.9), Passage(Chunk("d", "a.pdf", 2, 0, 1, "y", "en", 1, "0"), 0.8)]
>>> rank_of(ps, q)
2
>>> retrieval_metrics([q], lambda question: ps)["all"]
{'n': 1, 'hit@1': 0.0, 'hit@5': 1.0, 'mrr': 0.5}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.documents import Passage


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    language: str
    source: str
    page: int
    answer_contains: tuple[str, ...] = field(default_factory=tuple)
    cross_language: bool = False


def load_questions(path: Path) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            raw["answer_contains"] = tuple(raw.get("answer_contains", ()))
            questions.append(Question(**{k: raw[k] for k in Question.__dataclass_fields__ if k in raw}))
    return questions


def rank_of(passages: list[Passage], question: Question) -> int | None:
    """1-based rank of the first passage from the right page, or ``None``."""
    for rank, passage in enumerate(passages, 1):
        if passage.source == question.source and passage.page == question.page:
            return rank
    return None


def group_of(question: Question) -> str:
    return "cross" if question.cross_language else question.language


def retrieval_metrics(questions: list[Question], search: Callable[[str], list[Passage]], *, k: int = 5) -> dict:
    """Metrics per group (each language, ``cross``, ``same``) and ``all``; ``search`` returns ranked passages."""
    ranks: dict[str, list[int | None]] = {}
    misses = []
    for question in questions:
        rank = rank_of(search(question.question)[:k], question)
        for group in {group_of(question), "all", "cross" if question.cross_language else "same"}:
            ranks.setdefault(group, []).append(rank)
        if rank is None:
            misses.append(question.id)
    report = {group: _summary(values) for group, values in sorted(ranks.items())}
    report["misses"] = misses
    return report


def _summary(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {"n": n,
            "hit@1": round(sum(r == 1 for r in ranks) / n, 3),
            "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 3),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 3)}


def answer_metrics(questions: list[Question], answer: Callable[[str], object]) -> dict:
    """Per group: the share of answers that cite the right page, are in the question's language,
    and contain the expected strings. ``answer(question)`` returns an :class:`rag.answering.Answer`."""
    rows: dict[str, list[tuple[bool, bool, bool]]] = {}
    for question in questions:
        result = answer(question.question)
        cited = {(s.source, s.page) for s in result.sources if s.n in result.citations.cited}
        row = ((question.source, question.page) in cited, result.answer_language == question.language,
               all(a.lower() in result.text.lower() for a in question.answer_contains))
        for group in {group_of(question), "all", "cross" if question.cross_language else "same"}:
            rows.setdefault(group, []).append(row)
    return {group: {"n": len(r), "cited_page": round(sum(x[0] for x in r) / len(r), 3),
                    "answer_language": round(sum(x[1] for x in r) / len(r), 3),
                    "contains_answer": round(sum(x[2] for x in r) / len(r), 3)} for group, r in sorted(rows.items())}
