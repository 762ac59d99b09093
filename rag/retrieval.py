"""Question → ranked passages: dense (Chroma) and keyword (BM25) results fused, de-duplicated, merged.

``folio search``, ``folio ask``, ``folio eval`` and the web app all call :func:`search`.

1. dense: the question's embedding against the chunks' (finds paraphrases and other languages);
2. keyword: BM25 over language-aware stems (finds exact names, numbers, rare terms), see :mod:`rag.keyword`;
3. reciprocal rank fusion of the two lists (:func:`fuse`);
4. near-duplicates dropped (the same text ingested twice, boilerplate repeated on every page);
5. neighbouring chunks of the same page merged into one passage, so an answer split across a chunk
   boundary comes back whole.

>>> import tempfile, pathlib
>>> from rag.embedding import FakeEmbedder
>>> from rag.ingest import ingest
>>> from rag.manifest import Manifest
>>> from rag.store import Store, open_client
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
from dataclasses import replace

from rag.documents import LANGUAGES, Passage
from rag.embedding import Embedder
from rag.language import detect
from rag.store import Store

MODES = ("hybrid", "dense", "keyword")
RRF_K = 60
_WORDS = re.compile(r"\w+")


def search(query: str, *, store: Store, embedder: Embedder, k: int = 5, doc_ids: list[str] | None = None,
           mode: str = "hybrid", language: str | None = None, candidates: int = 40) -> list[Passage]:
    """The ``k`` best passages for ``query``, best first (``mode``: hybrid, dense or keyword)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if not query.strip():
        return []
    depth = max(candidates, 2 * k)
    lists = []
    if mode in ("hybrid", "dense"):
        lists.append(store.query(embedder.embed_query(query), k=depth, doc_ids=doc_ids))
    if mode in ("hybrid", "keyword"):
        language = language or detect(query)
        lists.append(store.keyword_query(query, language=language if language in LANGUAGES else "en", k=depth,
                                         doc_ids=doc_ids))
    ranked = fuse(lists) if len(lists) > 1 else lists[0]
    return merge_neighbours(drop_near_duplicates(ranked[: 3 * k]))[:k]


def fuse(rankings: list[list[Passage]], *, k: int = RRF_K) -> list[Passage]:
    """Reciprocal rank fusion: each passage scores Σ 1/(k + rank) over the lists it appears in.

    >>> from rag.documents import Chunk
    >>> a, b, c = (Passage(Chunk("d", "x", 1, 0, 1, t, "en", i, "0"), 0.5) for i, t in enumerate("abc"))
    >>> [p.text for p in fuse([[a, b], [b, c]])]
    ['b', 'a', 'c']
    """
    scores: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, 1):
            key = passage.chunk.chunk_id
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            first.setdefault(key, passage)
    order = sorted(scores, key=lambda key: -scores[key])
    return [replace(first[key], score=round(scores[key], 6)) for key in order]


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
