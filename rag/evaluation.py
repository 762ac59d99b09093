"""Retrieval and answer metrics over a question set: hit@1, hit@5 and MRR per language, per kind and cross-language.

A question is answered by one page of one source. A retrieved passage is a *hit* when

1. it comes from the question's source document (``passage.source == question.source``) and, when the
   question names a page, from that page; and
2. when the question carries ``answer_terms`` (the short strings, per document language, that hold
   the answer), its text contains every term listed for the language of the document version the hit
   must come from (``question.version``; when that is empty, the passage's own language). Matching
   ignores case and reads any run of white space as one space, so a term that the HTML loader split
   over two lines still matches.

For each group of questions: hit@1 is the share whose first passage is a hit, hit@5 the share with a
hit among the first five, MRR the mean of 1/rank of the first hit among the first five (0 when there
is none). Groups: the question's language (or ``cross`` for a cross-language question), ``same`` and
``cross``, ``all``, ``cross:<language>`` for cross-language questions and ``kind:<kind>`` for
questions that have a kind.

A multilingual set asks each fact in several languages about one document that exists in several
language versions, indexed under the names ``<language>/<source>``. :func:`in_setting` binds each
question to the version its hit must come from:

- ``same`` (all versions indexed): the question's own language version, or ``only_in``'s version for
  a fact that only one version states;
- ``cross`` (only the English version indexed): questions not in English about facts the English
  version states; the hit must be an English passage holding the English terms.

>>> from rag.documents import Chunk, Passage
>>> q = Question(id="en-1", question="When?", language="en", source="a.pdf", page=2)
>>> ps = [Passage(Chunk("d", "a.pdf", 1, 0, 1, "x", "en", 0, "0"), 0.9), Passage(Chunk("d", "a.pdf", 2, 0, 1, "y", "en", 1, "0"), 0.8)]
>>> rank_of(ps, q)
2
>>> retrieval_metrics([q], lambda question: ps)["all"]
{'n': 1, 'hit@1': 0.0, 'hit@5': 1.0, 'mrr': 0.5}

With answer terms, a passage from the right page that lacks them is no hit:

>>> fact = Question(id="noshell-de", question="Wie verhindere ich Shells?", language="de", source="ch05s03.html",
...                 answer_terms={"en": ("noshell",), "de": ("noshell",)}, kind="table")
>>> [q.source for q in in_setting([fact], "same")], in_setting([fact], "cross")[0].source
(['de/ch05s03.html'], 'en/ch05s03.html')
>>> def passage(name, text, rank):
...     return Passage(Chunk("d", name, 1, 0, len(text), text, name[:2], rank, "0"), 1.0 - rank / 10)
>>> found = [passage("de/ch05s03.html", "lowmem: Speicher", 0), passage("en/ch05s03.html", "noshell stops shells", 1),
...          passage("de/ch05s03.html", "noshell\\nVerhindert Shells", 2)]
>>> rank_of(found, in_setting([fact], "same")[0]), rank_of(found, in_setting([fact], "cross")[0])
(3, 2)
>>> report = retrieval_metrics(in_setting([fact], "cross"), lambda question: found)
>>> report["cross:de"]["mrr"], report["kind:table"]["hit@1"]
(0.5, 0.0)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.documents import Passage

SETTINGS = ("same", "cross")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    language: str
    source: str
    page: int | None = None             # None: any page of the source
    answer_contains: tuple[str, ...] = field(default_factory=tuple)
    cross_language: bool = False
    answer_terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # per document language
    kind: str = ""                      # table, procedure, number, name, concept
    only_in: str = ""                   # the one language version that states the fact
    fact: str = ""                      # questions asking the same fact share it
    version: str = ""                   # the language version a hit must come from ("": any)


def load_questions(path: Path) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            raw["answer_contains"] = tuple(raw.get("answer_contains", ()))
            raw["answer_terms"] = {language: tuple(terms) for language, terms in raw.get("answer_terms", {}).items()}
            questions.append(Question(**{k: raw[k] for k in Question.__dataclass_fields__ if k in raw}))
    return questions


def in_setting(questions: Iterable[Question], setting: str, *,
               name: Callable[[str, str], str] = lambda language, source: f"{language}/{source}") -> list[Question]:
    """The questions of one setting (``same`` or ``cross``), each bound to the document version its hit must come from."""
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}")
    bound = []
    for question in questions:
        if setting == "same":
            version = question.only_in or question.language
        elif question.language == "en" or question.only_in not in ("", "en"):
            continue
        else:
            version = "en"
        bound.append(replace(question, version=version, source=name(version, question.source),
                             cross_language=setting == "cross"))
    return bound


def contains_terms(text: str, terms: Iterable[str]) -> bool:
    """Whether ``text`` holds every term, ignoring case and differences in white space.

    >>> contains_terms("Use the\\nnoshell   parameter", ["NOSHELL parameter"]), contains_terms("shell", ["noshell"])
    (True, False)
    """
    haystack = _folded(text)
    return all(_folded(term) in haystack for term in terms)


def _folded(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def is_hit(passage: Passage, question: Question) -> bool:
    if passage.source != question.source or (question.page is not None and passage.page != question.page):
        return False
    if not question.answer_terms:
        return True
    terms = question.answer_terms.get(question.version or passage.language)
    return terms is not None and contains_terms(passage.text, terms)


def rank_of(passages: list[Passage], question: Question) -> int | None:
    """1-based rank of the first hit (right page and, with answer terms, holding them), or ``None``."""
    for rank, passage in enumerate(passages, 1):
        if is_hit(passage, question):
            return rank
    return None


def group_of(question: Question) -> str:
    return "cross" if question.cross_language else question.language


def groups_of(question: Question) -> set[str]:
    """Every group a question counts in: its language (or ``cross``), same/cross, all, cross:<language>, kind:<kind>."""
    groups = {group_of(question), "all", "cross" if question.cross_language else "same"}
    if question.cross_language:
        groups.add(f"cross:{question.language}")
    if question.kind:
        groups.add(f"kind:{question.kind}")
    return groups


def retrieval_metrics(questions: list[Question], search: Callable[[str], list[Passage]], *, k: int = 5) -> dict:
    """Metrics per group (see the module docstring) and the ids of the ``misses``; ``search`` returns ranked passages."""
    return metrics_from_ranks(questions, [rank_of(search(question.question)[:k], question) for question in questions])


def metrics_from_ranks(questions: list[Question], ranks: list[int | None]) -> dict:
    """The report of :func:`retrieval_metrics` from each question's rank of its first hit (``None``: a miss)."""
    grouped: dict[str, list[int | None]] = {}
    for question, rank in zip(questions, ranks, strict=True):
        for group in groups_of(question):
            grouped.setdefault(group, []).append(rank)
    report = {group: _summary(values) for group, values in sorted(grouped.items())}
    report["misses"] = [question.id for question, rank in zip(questions, ranks) if rank is None]
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
        row = (any(source == question.source and question.page in (None, page) for source, page in cited),
               result.answer_language == question.language,
               all(a.lower() in result.text.lower() for a in question.answer_contains))
        for group in groups_of(question):
            rows.setdefault(group, []).append(row)
    return {group: {"n": len(r), "cited_page": round(sum(x[0] for x in r) / len(r), 3),
                    "answer_language": round(sum(x[1] for x in r) / len(r), 3),
                    "contains_answer": round(sum(x[2] for x in r) / len(r), 3)} for group, r in sorted(rows.items())}
