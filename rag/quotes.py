"""The sentences of the retrieved passages that best answer the question, shown before the model speaks.

On a CPU the model may need many seconds before its first word; the passages are there at once.
:func:`best_sentences` picks the few sentences that answer the question best, each with the number,
file and page of its source, verbatim and in its own language: a quoted answer while the model reads.

A sentence scores by the question's words it holds (Snowball stems, as the keyword index has them,
each weighted by how rare it is among the candidate sentences), and by the question's word pairs
it holds side by side ("depot 7" is not "depot 6 … 7:30"), plus, when an ``embed`` function is
given, its embedding's cosine similarity to the question's (which finds answers in another language
than the question's), plus a little of its passage's retrieval score. Only the first passages are
read (:data:`PASSAGES_READ`), so quotes cost milliseconds.

>>> from rag.documents import Chunk, Passage
>>> p = Passage(Chunk("d", "depots.txt", 2, 0, 0, "The depot has two cranes. The depot opens at six on weekdays. "
...                   "Pets travel free.", "en", 0, "0" * 64), 0.8)
>>> [(q.n, q.source, q.page, q.text) for q in best_sentences("When does the depot open?", [p], language="en")]
[(1, 'depots.txt', 2, 'The depot opens at six on weekdays.')]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from rag.citations import split_sentences
from rag.documents import Passage
from rag.index.keyword import terms

PASSAGES_READ = 8        # the best-ranked passages quotes are taken from
MAX_SENTENCES = 40       # sentences scored at most (and embedded, when an embedder is given)
MIN_WORDS, MAX_CHARS = 4, 400
PASSAGE_WEIGHT = 0.2     # share of the passage's retrieval score in a sentence's
EMBEDDING_WEIGHT = 1.0
PAIR_WEIGHT = 0.5        # all the question's word pairs side by side in the sentence
UNRELATED = 0.25         # cosine similarity of sentences about other things (USE multilingual)
MIN_SCORE = 0.15         # below this a sentence does not answer the question: no quote rather than noise


@dataclass(frozen=True)
class Quote:
    """A sentence of source ``n`` (file ``source``, page ``page``), verbatim."""

    n: int
    source: str
    page: int
    text: str
    score: float

    @property
    def label(self) -> str:
        return f"[{self.n}] {self.source}, p. {self.page}"

    def as_dict(self) -> dict:
        return asdict(self) | {"score": round(self.score, 4)}


def best_sentences(question: str, passages: Sequence[Passage], *, language: str, k: int = 3,
                   embed: Callable[[list[str]], np.ndarray] | None = None) -> list[Quote]:
    """Up to ``k`` sentences of ``passages`` (numbered 1.. in this order, as the answer's sources are)
    that best answer ``question``, best first; at most one per passage unless fewer passages have any."""
    asked = terms(question, language).split()
    wanted, pairs = set(asked), set(zip(asked, asked[1:]))
    order = sorted(range(len(passages)), key=lambda i: -passages[i].score)[:PASSAGES_READ]
    candidates: list[tuple[int, str, set[str]]] = []
    adjacent: list[int] = []
    for index in order:
        passage = passages[index]
        for sentence in split_sentences(passage.text):
            sentence = " ".join(sentence.split())
            if len(sentence.split()) < MIN_WORDS or len(sentence) > MAX_CHARS:
                continue
            stems = terms(sentence, passage.chunk.language).split()
            candidates.append((index, sentence, set(stems)))
            adjacent.append(len(pairs & set(zip(stems, stems[1:]))))
            if len(candidates) >= MAX_SENTENCES:
                break
    if not candidates:
        return []
    seen = Counter(stem for _, _, stems in candidates for stem in stems & wanted)
    weight = {stem: math.log(1 + len(candidates) / seen[stem]) for stem in seen}
    best = len(wanted) * math.log(1 + len(candidates)) or 1.0  # every word of the question, each in one sentence
    relevance = np.array([sum(weight.get(stem, 0.0) for stem in stems & wanted) / best for _, _, stems in candidates])
    relevance = relevance + PAIR_WEIGHT * np.array(adjacent) / max(1, len(pairs))
    if embed is not None:
        vectors = np.asarray(embed([question] + [sentence for _, sentence, _ in candidates]), dtype=float)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
        similarity = vectors[1:] @ vectors[0]  # unrelated sentences still score ~0.1-0.3: that part says nothing
        relevance = relevance + EMBEDDING_WEIGHT * np.clip((similarity - UNRELATED) / (1 - UNRELATED), 0.0, 1.0)
    top = max((p.score for p in passages), default=0.0) or 1.0
    scores = relevance + PASSAGE_WEIGHT * np.array([max(0.0, passages[i].score) / top for i, _, _ in candidates])
    ranked = [c for c in sorted(range(len(candidates)), key=lambda c: -scores[c]) if relevance[c] >= MIN_SCORE]
    quotes: list[Quote] = []
    used: set[int] = set()
    for c in ranked + ranked:  # first one sentence per passage; then more of a passage only if nearly as good
        index, sentence, _ = candidates[c]
        if len(quotes) >= k or any(q.text == sentence for q in quotes):
            continue
        if index in used and (len(used) < len({candidates[r][0] for r in ranked}) or
                              relevance[c] < 0.5 * max(relevance[r] for r in ranked)):
            continue
        passage = passages[index]
        quotes.append(Quote(n=index + 1, source=passage.source, page=passage.page, text=sentence, score=float(scores[c])))
        used.add(index)
    return sorted(quotes, key=lambda q: -q.score)
