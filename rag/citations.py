"""Is each sentence of an answer backed by the sources it cites? Which span supports it?

For every sentence of the answer: the sources it cites as ``[n]``; the sentence of those sources
that supports it best, by word overlap (quotes, names, numbers) or, across languages, by
embedding similarity; and whether that support is strong enough. Unsupported and uncited
sentences are flagged, not hidden.

>>> from rag.documents import Source
>>> sources = [Source(n=1, source="a.pdf", page=2, text="The depot opens at 05:30. Dogs ride free.", score=0.7, doc_id="d")]
>>> report = verify("The depot opens at 05:30 [1]. It closes at midnight [2].", sources)
>>> [(s.cited, s.supported, s.page) for s in report.sentences]
[((1,), True, 2), ((2,), False, None)]
>>> report.cited, report.unknown, report.supported_ratio, report.spans()
((1,), (2,), 0.5, {1: ['The depot opens at 05:30.']})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from rag.documents import Source

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=\S)")
_WORDS = re.compile(r"\w+", re.UNICODE)
OVERLAP_SUPPORT = 0.6     # share of the sentence's content words found in the source sentence
EMBEDDING_SUPPORT = 0.55  # cosine similarity that counts as support across languages


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as ``[n]`` or ``[n, m]``, in order of first appearance."""
    seen: list[int] = []
    for group in _CITATION.findall(text):
        for number in group.split(","):
            if int(number) not in seen:
                seen.append(int(number))
    return seen


def split_sentences(text: str) -> list[str]:
    """Sentences; a citation written after the full stop ("... 23:00. [1]") stays with its sentence."""
    out: list[str] = []
    for piece in (s.strip() for s in _SENTENCES.split(text.strip())):
        if out and piece and not _CITATION.sub("", piece).strip(" .,;"):
            out[-1] = f"{out[-1]} {piece}"
        elif piece:
            out.append(piece)
    return out


def _content_words(text: str) -> set[str]:
    return {w for w in _WORDS.findall(_CITATION.sub(" ", text).lower()) if len(w) > 3 or w.isdigit()}


def _best_span(sentence: str, source_text: str, embed: Callable[[list[str]], np.ndarray] | None) -> tuple[str, float]:
    spans = split_sentences(source_text) or [source_text]
    words = _content_words(sentence)
    overlaps = [len(words & _content_words(span)) / max(1, len(words)) for span in spans]
    best = int(np.argmax(overlaps))
    if overlaps[best] >= OVERLAP_SUPPORT or embed is None:
        return spans[best], overlaps[best]
    vectors = embed([_CITATION.sub("", sentence)] + spans)
    similarities = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarities))
    return spans[best], float(similarities[best]) * OVERLAP_SUPPORT / EMBEDDING_SUPPORT


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of an answer: the sources it cites, and the best supporting span among them."""

    text: str
    cited: tuple[int, ...]
    supported: bool = False
    source: int | None = None  # the number of the source holding the best span
    page: int | None = None
    span: str | None = None
    score: float = 0.0
    flag: str | None = None  # "unsupported" (cites, but the sources don't say it), "uncited", or None


@dataclass(frozen=True)
class CitationReport:
    """The check of a whole answer: which sources it cites, which numbers match none, each sentence."""

    cited: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()
    sentences: tuple[SentenceCheck, ...] = ()
    supported_ratio: float = 1.0

    def spans(self) -> dict[int, list[str]]:
        """Per source number, the spans of that source that support a sentence of the answer."""
        spans: dict[int, list[str]] = {}
        for sentence in self.sentences:
            if sentence.supported and sentence.span and sentence.source is not None:
                spans.setdefault(sentence.source, []).append(sentence.span)
        return spans

    def as_dict(self) -> dict:
        return {"cited": list(self.cited), "unknown": list(self.unknown), "supported_ratio": self.supported_ratio,
                "sentences": [asdict(s) | {"cited": list(s.cited)} for s in self.sentences]}


def verify(answer: str, sources: Sequence[Source], *, embed: Callable[[list[str]], np.ndarray] | None = None
           ) -> CitationReport:
    """Check every sentence of ``answer`` against the sources it cites."""
    by_number = {s.n: s for s in sources}
    sentences = []
    for sentence in split_sentences(answer):
        cited = tuple(cited_numbers(sentence))
        best = SentenceCheck(text=sentence, cited=cited)
        for number in cited:
            if number in by_number:
                span, score = _best_span(sentence, by_number[number].text, embed)
                if score > best.score:
                    best = SentenceCheck(text=sentence, cited=cited, supported=score >= OVERLAP_SUPPORT, source=number,
                                         page=by_number[number].page, span=span, score=round(score, 3))
        needs_citation = len(_content_words(sentence)) >= 3
        flag = None if best.supported else "unsupported" if cited else "uncited" if needs_citation else None
        sentences.append(replace(best, flag=flag))
    numbers = cited_numbers(answer)
    checked = [s for s in sentences if s.flag is not None or s.supported]
    return CitationReport(cited=tuple(n for n in numbers if n in by_number),
                          unknown=tuple(n for n in numbers if n not in by_number), sentences=tuple(sentences),
                          supported_ratio=round(sum(s.supported for s in checked) / len(checked), 3) if checked else 1.0)
