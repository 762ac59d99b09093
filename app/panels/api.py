"""The named API endpoints for ``gradio_client`` (``/ask``, ``/search``; ``/ingest`` is the library's Add)."""

from __future__ import annotations

from app import service
from app.factory import Folio
from app.panels.errors import user_errors


class ApiEndpoints:
    """Answers and passages as JSON-ready dicts, over the same services as the page."""

    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    @user_errors
    def ask(self, question: str, language: str = "auto", collection: str = "") -> dict:
        """Answer ``question`` from the library: answer, language, numbered sources, citations, stats."""
        return service.answer(self.folio, question, language=language, collection=collection or None).as_dict()

    @user_errors
    def search(self, query: str, k: int = 0, collection: str = "") -> list[dict]:
        """The ``k`` passages (0: the configured top_k) that best match ``query``: source, page, text, score."""
        return [p.as_dict() for p in service.search_passages(self.folio, query, k=k or None,
                                                             collection=collection or None)]
