"""The keyword side of hybrid search: BM25 over language-aware stems, in SQLite FTS5.

Each chunk is indexed as the Snowball stems (PyStemmer) of its words in its own language, stop
words removed (bm25s' lists). A query is stemmed with all five stemmers and the variants OR-ed, so
a French question still matches an English passage on shared names, numbers and cognates, and a
German question matches "Wartungsintervalle" when the text says "Wartungsintervall".

FTS5 is used rather than an in-memory BM25 library because it is persisted, updated incrementally
(a document's rows go in and out in the same SQLite transaction as its manifest entry, so the
keyword index can never disagree with the manifest), and never rebuilt per query.

>>> terms("Die Wartungsintervalle der Lokomotiven", "de")
'wartungsintervall lokomotiv'
>>> query_expression("Quand les dépôts ouvrent-ils ?", "fr")
'"quand" OR "dépôts" OR "dépôt" OR "depôts" OR "dèpôts" OR "ouvrent"'
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache

from rag.documents import LANGUAGES, Chunk

_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMER_NAMES = {"en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian"}

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS keywords USING fts5(
    terms, collection UNINDEXED, doc_id UNINDEXED, chunk_id UNINDEXED, tokenize = 'unicode61');
"""


@lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_STEMMER_NAMES.get(language, "english"))


@lru_cache(maxsize=None)
def _stopwords(language: str) -> frozenset[str]:
    from bm25s import stopwords

    lists = {"en": stopwords.STOPWORDS_EN, "fr": stopwords.STOPWORDS_FRENCH, "de": stopwords.STOPWORDS_GERMAN,
             "es": stopwords.STOPWORDS_SPANISH, "it": stopwords.STOPWORDS_ITALIAN}
    return frozenset(lists.get(language, stopwords.STOPWORDS_EN))


def _words(text: str, language: str) -> list[str]:
    stop = _stopwords(language)
    return [w for w in _WORD.findall(text.lower()) if w not in stop and (len(w) > 1 or w.isdigit())]


def terms(text: str, language: str) -> str:
    """The indexed form of a passage: its words' stems in its own language."""
    return " ".join(_stemmer(language).stemWords(_words(text, language)))


def query_expression(question: str, language: str) -> str:
    """An FTS5 expression matching any stem of any question word, in any of the five languages."""
    variants: list[str] = []
    for word in _words(question, language):
        for candidate in (word, *(_stemmer(lang).stemWord(word) for lang in LANGUAGES)):
            if candidate not in variants:
                variants.append(candidate)
    return " OR ".join('"' + v.replace('"', '""') + '"' for v in variants)


def add(db: sqlite3.Connection, collection: str, chunks: list[Chunk]) -> None:
    """Index ``chunks`` (call inside the manifest's transaction)."""
    db.executemany("INSERT INTO keywords (terms, collection, doc_id, chunk_id) VALUES (?, ?, ?, ?)",
                   [(terms(c.text, c.language), collection, c.doc_id, c.chunk_id) for c in chunks])


def delete(db: sqlite3.Connection, collection: str, doc_id: str) -> None:
    db.execute("DELETE FROM keywords WHERE collection = ? AND doc_id = ?", (collection, doc_id))


def search(db: sqlite3.Connection, collection: str, question: str, *, language: str, k: int,
           doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
    """``(chunk_id, score)`` of the ``k`` best BM25 matches, best first (score: higher is better)."""
    expression = query_expression(question, language)
    if not expression:
        return []
    sql = ("SELECT chunk_id, doc_id, -bm25(keywords) AS score FROM keywords WHERE keywords MATCH ? AND collection = ? "
           "ORDER BY bm25(keywords) LIMIT ?")
    rows = db.execute(sql, (expression, collection, k * 4 if doc_ids else k)).fetchall()
    if doc_ids:
        wanted = set(doc_ids)
        rows = [r for r in rows if r[1] in wanted]
    return [(chunk_id, float(score)) for chunk_id, _, score in rows[:k]]
