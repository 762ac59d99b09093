"""The keyword side of hybrid search: BM25 over language-aware stems, in SQLite FTS5.

Each chunk is indexed as the Snowball stems (PyStemmer) of its words in its own language, stop
words removed (bm25s' lists). A query's words are OR-ed as written and stemmed in its language (its
names and numbers in all five), so a German question matches "Wartungsintervalle" when the text
says "Wartungsintervall", and a French question still finds an English passage on a shared name.

FTS5 is used rather than an in-memory BM25 library because it is persisted, updated incrementally
(a document's rows go in and out in the same SQLite transaction as its manifest entry, so the
keyword index can never disagree with the manifest), and never rebuilt per query.

Each collection's rows live in their own rowid range (:data:`RANGE` rows from ``number × RANGE``,
the number kept in the ``meta`` table), so a search is limited to its collection inside FTS5's
posting lists instead of reading every matching row's ``collection`` column: half the time at
100k chunks (``bench/bench_search.py``).

>>> terms("Die Wartungsintervalle der Lokomotiven", "de")
'wartungsintervall lokomotiv'
>>> query_expression("Quand les dépôts de Brenzach ouvrent-ils ?", "fr")
'"quand" OR "dépôts" OR "dépôt" OR "brenzach" OR "brenzac" OR "ouvrent"'
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
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
    """An FTS5 expression matching any question word, as written or stemmed in the question's language.

    Names and numbers (a capital or a digit) are stemmed in all five languages too, since they are
    what a question shares with a passage in another language. Stemming every word five ways found
    no more on ``folio eval`` and made each query read several times the postings.

    >>> query_expression("Wann öffnet das Depot Brenzach?", "de")
    '"wann" OR "öffnet" OR "offn" OR "depot" OR "brenzach" OR "brenzac"'
    """
    variants: list[str] = []
    stop = _stopwords(language)
    for written in _WORD.findall(question):
        word = written.lower()
        if word in stop or (len(word) < 2 and not word.isdigit()):
            continue
        shared = written[0].isupper() or any(ch.isdigit() for ch in written)
        for candidate in (word, *(_stemmer(lang).stemWord(word) for lang in (LANGUAGES if shared else (language,)))):
            if candidate not in variants:
                variants.append(candidate)
    return " OR ".join('"' + v.replace('"', '""') + '"' for v in variants)


RANGE = 1 << 40  # rowids per collection: a trillion chunks each, 8 million collections


def rowid_range(db: sqlite3.Connection, collection: str, *, create: bool = False) -> tuple[int, int] | None:
    """The first and last rowid of ``collection``'s rows; a new collection gets the next free range if ``create``."""
    key = f"keyword_range:{collection}"
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        if not create:
            return None
        last = db.execute("SELECT MAX(CAST(value AS INTEGER)) FROM meta WHERE key LIKE 'keyword\\_range:%' ESCAPE '\\'")
        row = ((last.fetchone()[0] or 0) + 1,)
        db.execute("INSERT INTO meta VALUES (?, ?)", (key, str(row[0])))
    first = int(row[0]) * RANGE
    return first, first + RANGE - 1


def add(db: sqlite3.Connection, collection: str, chunks: list[Chunk]) -> None:
    """Index ``chunks`` (call inside the manifest's transaction)."""
    first, last = rowid_range(db, collection, create=True)
    top = db.execute("SELECT rowid FROM keywords WHERE rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT 1",
                     (first, last)).fetchone()
    start = (top[0] if top else first) + 1
    db.executemany("INSERT INTO keywords (rowid, terms, collection, doc_id, chunk_id) VALUES (?, ?, ?, ?, ?)",
                   [(start + i, terms(c.indexed_text, c.language), collection, c.doc_id, c.chunk_id)
                    for i, c in enumerate(chunks)])


def delete(db: sqlite3.Connection, collection: str, doc_id: str) -> None:
    """Drop a document's rows (call inside the manifest's transaction)."""
    db.execute("DELETE FROM keywords WHERE collection = ? AND doc_id = ?", (collection, doc_id))


def drop(db: sqlite3.Connection, collection: str) -> None:
    """Drop every row of ``collection`` (call inside the manifest's transaction)."""
    db.execute("DELETE FROM keywords WHERE collection = ?", (collection,))


def move_into_ranges(db: sqlite3.Connection) -> None:
    """Schema 1 → 2: give each collection's keyword rows their own rowid range (one transaction, the caller's)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'keywords'").fetchone():
        return
    rows = db.execute("SELECT terms, collection, doc_id, chunk_id FROM keywords ORDER BY rowid").fetchall()
    db.execute("DELETE FROM keywords")
    by_collection: dict[str, list[tuple]] = {}
    for row in rows:
        by_collection.setdefault(row[1], []).append(row)
    for collection, items in by_collection.items():
        first, _ = rowid_range(db, collection, create=True)
        db.executemany("INSERT INTO keywords (rowid, terms, collection, doc_id, chunk_id) VALUES (?, ?, ?, ?, ?)",
                       [(first + 1 + i, *item) for i, item in enumerate(items)])


def search(db: sqlite3.Connection, collection: str, question: str, *, language: str, k: int,
           doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
    """``(chunk_id, score)`` of the ``k`` best BM25 matches, best first (score: higher is better)."""
    expression = query_expression(question, language)
    bounds = rowid_range(db, collection)
    if not expression or bounds is None:
        return []
    # Rank rowids first (FTS5 reads only its index), then read the columns of the few kept.
    sql = ("SELECT k.chunk_id, k.doc_id, best.score FROM (SELECT rowid, -bm25(keywords) AS score FROM keywords "
           "WHERE keywords MATCH ? AND rowid BETWEEN ? AND ? ORDER BY bm25(keywords) LIMIT ?) AS best "
           "JOIN keywords AS k ON k.rowid = best.rowid ORDER BY best.score DESC")
    rows = db.execute(sql, (expression, *bounds, k * 4 if doc_ids else k)).fetchall()
    if doc_ids:
        wanted = set(doc_ids)
        rows = [r for r in rows if r[1] in wanted]
    return [(chunk_id, float(score)) for chunk_id, _, score in rows[:k]]


class KeywordRows:
    """One collection's keyword rows, as :class:`~rag.index.manifest.Manifest.keywords` hands them out.

    ``transaction`` is the manifest's: every write here commits with it or not at all.
    """

    def __init__(self, db: sqlite3.Connection, collection: str, *,
                 transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]) -> None:
        self._db = db
        self._transaction = transaction
        self.collection = collection

    def search(self, question: str, *, language: str, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """:func:`search` in this collection."""
        return search(self._db, self.collection, question, language=language, k=k, doc_ids=doc_ids)

    def rows(self) -> list[tuple[str, str]]:
        """``(doc_id, chunk_id)`` of every row."""
        return self._db.execute("SELECT doc_id, chunk_id FROM keywords WHERE collection = ?",
                                (self.collection,)).fetchall()

    def replace(self, doc_id: str, chunks: list[Chunk]) -> None:
        """Rebuild a document's rows from its chunks."""
        with self._transaction() as db:
            delete(db, self.collection, doc_id)
            add(db, self.collection, chunks)

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM keywords WHERE collection = ? AND chunk_id = ?",
                           [(self.collection, chunk_id) for chunk_id in chunk_ids])
