"""Question → ranked passages from one collection (optionally only some of its documents).

``folio search``, ``folio ask`` and the web app all call :func:`search`.

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
>>> search("when does the depot open", store=store, embedder=e, k=1)[0].text
'The depot opens at six.'
"""

from __future__ import annotations

from rag.documents import Passage
from rag.embedding import Embedder
from rag.store import Store


def search(query: str, *, store: Store, embedder: Embedder, k: int = 5, doc_ids: list[str] | None = None) -> list[Passage]:
    """The ``k`` passages most similar to ``query``, best first."""
    if not query.strip():
        return []
    return store.query(embedder.embed_query(query), k=k, doc_ids=doc_ids)
