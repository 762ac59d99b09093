"""The index of a library: vectors in Chroma, documents and keyword rows in one SQLite manifest.

- :mod:`rag.index.client` opens Chroma (a folder on disk, or a server);
- :mod:`rag.index.manifest` — the documents of each collection, pending work, and every SQL statement
  on them; :mod:`rag.index.keyword` — the BM25 keyword rows (FTS5) in the same file;
- :mod:`rag.index.vectors` — one Chroma collection of chunk vectors;
- :mod:`rag.index.store` — :class:`~rag.index.store.Store`, the one owner of a collection's index:
  atomic add / replace / remove, crash recovery, search;
- :mod:`rag.index.replica` — the published document list and the pure sync plan of read-only replicas;
- :mod:`rag.index.integrity` — ``folio doctor --check``; :mod:`rag.index.upgrade` — schema migrations.
"""
