"""Question → ranked passages: dense (Chroma) and keyword (BM25) results fused, de-duplicated, merged.

``folio search``, ``folio ask``, ``folio eval`` and the web app all call :func:`search`.

1. dense: the question's embedding against the chunks' (finds paraphrases and other languages);
2. keyword: BM25 over language-aware stems (finds exact names, numbers, rare terms), see :mod:`rag.index.keyword`;
3. the lists fused (:func:`combine`): each embedder's cosines calibrated to its own scale, BM25 added;
   with a second embedder (the background pass), its ranking joins for the documents it holds;
4. translations folded: of two versions of one text in different languages, the question's language's
   stands for both (:func:`fold_translations`);
5. near-duplicates dropped (the same text ingested twice, boilerplate repeated on every page);
6. neighbouring chunks of the same page merged into one passage, so an answer split across a chunk
   boundary comes back whole.

>>> import tempfile, pathlib
>>> from rag.embedding import FakeEmbedder
>>> from rag.ingest import ingest
>>> from rag.index.manifest import Manifest
>>> from rag.index.client import open_client
>>> from rag.index.store import Store
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> _ = (home / "depots.txt").write_text("The depot opens at six.\\n\\nPets travel free on weekends.")
>>> store = Store(client=open_client(home / "i"), manifest=Manifest(home / "m"), collection="default",
...               embedder="fake-hash-64", dim=64)
>>> e = FakeEmbedder()
>>> _ = list(ingest([home], store=store, embedder=e, chunk_tokens=6, overlap_tokens=0))
>>> [p.text for p in search("when does the depot open", store=store, embedder=e, k=1, mode="dense")]
['The depot opens at six.']
>>> [p.text for p in search("pets on weekends", store=store, embedder=e, k=1, mode="keyword")]
['Pets travel free on weekends.']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from rag.documents import LANGUAGES, Passage
from rag.embedding import Embedder
from rag.language import detect
from rag.index.store import Store

MODES = ("hybrid", "dense", "keyword")
_KEYWORD_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="folio-bm25")  # threads start on first use
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Tuning:
    """How the ranked lists become one (every value measured on the installation guide, ``bench/bench_levers.py``).

    - ``calibration``: ``"embedder"`` turns each embedder's cosines into z-scores against that
      embedder's own score distribution (:attr:`rag.embedding.Embedder.score_mean` / ``score_std``),
      so two embedders whose cosines live on different scales (USE 0.1-0.6, e5 0.7-0.9) weigh the
      same; ``"raw"`` adds cosines as they are (Folio's fusion before the real set).
    - ``keyword_weight``: BM25 / the list's best BM25, times this, is added to the dense score.
    - ``translations``: with several language versions indexed, a passage in another language than
      the question's whose vector is at least this close (cosine) to a passage in the question's
      language among the candidates is the same text translated: it is folded into that one, so five
      versions of one page do not take five places. ``None``: no folding.
    """

    calibration: str = "embedder"
    keyword_weight: float = 1.0
    translations: float | None = 0.7


TUNING = Tuning()
RAW = Tuning(calibration="raw", keyword_weight=0.1, translations=None)  # the fusion measured on sample_docs only


@dataclass(frozen=True)
class Ranked:
    """One embedder's nearest chunks, and how to read its scores.

    ``mean``/``std`` calibrate its cosines; ``absent`` are documents this embedder has not embedded
    yet (the second pass is still on its way): their chunks are scored by the other lists alone,
    not as if this embedder had found them far from the question.
    """

    passages: list[Passage]
    mean: float = 0.0
    std: float = 1.0
    absent: frozenset[str] = frozenset()


def search(query: str, *, store: Store, embedder: Embedder, k: int = 5, doc_ids: list[str] | None = None,
           mode: str = "hybrid", language: str | None = None, candidates: int = 40,
           second: Embedder | None = None, tuning: Tuning = TUNING,
           translations: dict[str, str] | None = None) -> list[Passage]:
    """The ``k`` best passages for ``query``, best first (``mode``: hybrid, dense or keyword).

    ``second`` is the second pass's embedder (:mod:`rag.backfill`): its index (``store.second``) is
    searched too, for the documents it holds already. ``translations`` (``{language: question}``, see
    :mod:`rag.translation`) are searched as well; a passage keeps its best score over all of them.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if not query.strip():
        return []
    depth = max(candidates, 2 * k)
    language = language or detect(query)
    language = language if language in LANGUAGES else "en"
    asked = [(query, language), *((text, lang) for lang, text in (translations or {}).items() if lang != language)]
    lists = [_ranking(text, lang, store=store, embedder=embedder, second=second, depth=depth, doc_ids=doc_ids,
                      mode=mode, tuning=tuning) for text, lang in asked]
    ranked = lists[0] if len(lists) == 1 else best_of(lists)
    if tuning.translations is not None:
        ranked = fold_translations(ranked[: 3 * k + 10], language=language, threshold=tuning.translations,
                                   vectors=store.vectors.vectors)
    return merge_neighbours(drop_near_duplicates(ranked[: 3 * k]))[:k]


def _ranking(query: str, language: str, *, store: Store, embedder: Embedder, second: Embedder | None, depth: int,
             doc_ids: list[str] | None, mode: str, tuning: Tuning) -> list[Passage]:
    keyword_hits = None
    if mode in ("hybrid", "keyword"):  # SQLite releases the GIL: BM25 runs while the question is embedded
        keyword_hits = _KEYWORD_THREADS.submit(store.keyword_query, query, k=depth, doc_ids=doc_ids, language=language)
    dense: list[Ranked] = []
    if mode in ("hybrid", "dense"):
        dense.append(_ranked(embedder, store.vectors.query(embedder.embed_query(query), k=depth, doc_ids=doc_ids)))
        if second is not None and store.second is not None and store.second.count():
            found = store.second.query(second.embed_query(query), k=depth, doc_ids=doc_ids)
            dense.append(_ranked(second, found, absent=frozenset(d for d, _ in store.backlog.items())))
    keyword = keyword_hits.result() if keyword_hits is not None else []
    return combine(dense, keyword, tuning=tuning)


def best_of(lists: list[list[Passage]]) -> list[Passage]:
    """One ranking from several (the question and its translations): each chunk at its best score.

    >>> from rag.documents import Chunk
    >>> a, b = (Passage(Chunk("d", "x", 1, 0, 1, t, "en", i, "0"), 0.0) for i, t in enumerate("ab"))
    >>> [(p.text, p.score) for p in best_of([[replace(a, score=2.0), replace(b, score=1.0)], [replace(b, score=3.0)]])]
    [('b', 3.0), ('a', 2.0)]
    """
    best: dict[str, Passage] = {}
    for ranking in lists:
        for passage in ranking:
            key = passage.chunk.chunk_id
            if key not in best or passage.score > best[key].score:
                best[key] = passage
    return sorted(best.values(), key=lambda p: -p.score)


def _ranked(embedder: Embedder, passages: list[Passage], *, absent: frozenset[str] = frozenset()) -> Ranked:
    return Ranked(passages, mean=embedder.score_mean, std=embedder.score_std, absent=absent)


def combine(dense: list[Ranked], keyword: list[Passage], *, tuning: Tuning = TUNING) -> list[Passage]:
    """One ranking from the dense lists and the keyword list (see :class:`Tuning`).

    A chunk's dense score is the mean of its calibrated scores over the embedders that hold it; an
    embedder that holds it but did not return it counts its own list's lowest score. BM25 adds
    ``keyword_weight`` × score / best score of the keyword list.

    >>> from rag.documents import Chunk
    >>> a, b, c = (Passage(Chunk("d", "x", 1, 0, 1, t, "en", i, "0"), 0.0) for i, t in enumerate("abc"))
    >>> dense = [Ranked([replace(a, score=0.62), replace(b, score=0.60)])]
    >>> keyword = [replace(b, score=8.0), replace(c, score=2.0)]
    >>> [(p.text, p.score) for p in combine(dense, keyword, tuning=RAW)]
    [('b', 0.7), ('c', 0.625), ('a', 0.62)]
    >>> use = Ranked([replace(a, score=0.5), replace(b, score=0.3)], mean=0.1, std=0.1)
    >>> e5 = Ranked([replace(b, score=0.85), replace(a, score=0.80)], mean=0.78, std=0.02)
    >>> [(p.text, p.score) for p in combine([use, e5], [], tuning=Tuning(translations=None))]
    [('b', 2.75), ('a', 2.5)]
    """
    calibrated = tuning.calibration == "embedder"
    first: dict[str, Passage] = {}
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    lists = []
    for ranked in dense:
        scores = {p.chunk.chunk_id: (p.score - ranked.mean) / ranked.std if calibrated else p.score
                  for p in ranked.passages}
        lists.append((ranked, scores, min(scores.values(), default=0.0)))
        for p in ranked.passages:
            first.setdefault(p.chunk.chunk_id, p)
    for p in keyword:
        first.setdefault(p.chunk.chunk_id, p)
    for key, passage in first.items():
        for ranked, scores, floor in lists:
            if key in scores or passage.chunk.doc_id not in ranked.absent:
                sums[key] = sums.get(key, 0.0) + scores.get(key, floor)
                counts[key] = counts.get(key, 0) + 1
    fused = {key: sums[key] / counts[key] if counts.get(key) else 0.0 for key in first}
    if not lists:  # keyword mode: BM25 as it is
        fused = {p.chunk.chunk_id: p.score for p in keyword}
    else:
        best = max((p.score for p in keyword), default=0.0) or 1.0
        for p in keyword:
            fused[p.chunk.chunk_id] += tuning.keyword_weight * p.score / best
    order = sorted(first, key=lambda key: -fused[key])
    return [replace(first[key], score=round(fused[key], 6)) for key in order]


def fold_translations(passages: list[Passage], *, language: str, threshold: float,
                      vectors: Callable[[list[str]], dict[str, np.ndarray]]) -> list[Passage]:
    """Fold passages that translate a candidate in the question's ``language`` into it (see :class:`Tuning`).

    A folded passage moves behind every passage that was not folded, in its order, so nothing is
    lost when there are few candidates. ``vectors`` gives the candidates' (fast) embeddings by chunk id.

    >>> from rag.documents import Chunk
    >>> en, de, other = (Passage(Chunk("d", n, 1, 0, 1, n, lang, i, "0"), 1.0)
    ...                  for i, (n, lang) in enumerate((("en", "en"), ("de", "de"), ("other", "en"))))
    >>> seen = {"d:0:0": np.array([1.0, 0.0]), "d:0:1": np.array([0.8, 0.6]), "d:0:2": np.array([0.0, 1.0])}
    >>> [p.text for p in fold_translations([en, de, other], language="de", threshold=0.7, vectors=lambda ids: seen)]
    ['de', 'other', 'en']
    """
    mine = [p for p in passages if p.chunk.language == language]
    foreign = [p for p in passages if p.chunk.language != language]
    if not mine or not foreign:
        return passages
    found = vectors([p.chunk.chunk_id for p in passages])
    own = [found[p.chunk.chunk_id] for p in mine if p.chunk.chunk_id in found]
    if not own:
        return passages
    own_matrix = np.stack(own)
    folded = {p.chunk.chunk_id for p in foreign if p.chunk.chunk_id in found
              and float(np.max(own_matrix @ found[p.chunk.chunk_id])) >= threshold}
    return [p for p in passages if p.chunk.chunk_id not in folded] + [p for p in passages if p.chunk.chunk_id in folded]


def drop_near_duplicates(passages: list[Passage], *, threshold: float = 0.85) -> list[Passage]:
    """Keep the better of any two passages whose word sets overlap by more than ``threshold`` (Jaccard)."""
    kept: list[tuple[Passage, set[str]]] = []
    for passage in passages:
        words = set(_WORDS.findall(passage.text.lower()))
        if all(len(words & seen) / max(1, len(words | seen)) <= threshold for _, seen in kept):
            kept.append((passage, words))
    return [p for p, _ in kept]


def merge_neighbours(passages: list[Passage]) -> list[Passage]:
    """Join chunks that follow each other on the same page into one passage, at the better one's rank."""
    out: list[Passage] = []
    for passage in passages:
        for position, other in enumerate(out):
            merged = _join(other, passage)
            if merged is not None:
                out[position] = merged
                break
        else:
            out.append(passage)
    return out


def _join(a: Passage, b: Passage) -> Passage | None:
    ca, cb = a.chunk, b.chunk
    if ca.doc_id != cb.doc_id or ca.page != cb.page or ca.sha256 != cb.sha256:
        return None
    if cb.start > ca.start and cb.start <= ca.end + 1:
        first, second = ca, cb
    elif ca.start > cb.start and ca.start <= cb.end + 1:
        first, second = cb, ca
    else:
        return None
    overlap = max(0, first.end - second.start)
    text = first.text + ("" if overlap else " ") + second.text[overlap:]
    chunk = replace(first, text=text, end=max(first.end, second.end))
    return Passage(chunk=chunk, score=max(a.score, b.score))

