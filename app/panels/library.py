"""The library panel: uploads with a result per file, the documents table, delete / re-index, collections."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from app import service
from app.factory import Folio
from app.i18n import t
from app.panels.errors import user_errors
from app.ui_render import documents_frame, escape_text, results_frame
from core.errors import FolioError


PAGE_SIZE = 50  # documents per page of the table


class LibraryPanel:
    """What the library's upload, table (a page at a time, filtered by name), Delete and Re-index do."""

    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    @user_errors
    def ingest(self, files: list[str] | None, collection: str | None = None, ui: str = "en",
               progress=gr.Progress()) -> list[dict]:
        """Add uploaded files to the library; one result per file (added, replaced, unchanged, failed)."""
        paths = [Path(f) for f in files or []]
        if not paths:
            raise FolioError(t(ui, "choose_files"))

        def on_file(done: int, total: int, name: str) -> None:
            progress((done, total), desc=t(ui, "adding_file").format(name=name), unit="files")

        results = service.ingest_uploads(self.folio, paths, names=[p.name for p in paths],
                                         collection=collection or None, on_file=on_file)
        # The stored path means nothing to the user (and API clients would take it for a file).
        return [{k: v for k, v in r.as_dict().items() if k != "path"} for r in results]

    def library(self, results: list[dict] | None, collection: str | None, ui: str = "en", match: str = "",
                page: int = 1) -> tuple:
        """After an upload: the per-file results, an emptied upload area, and the refreshed library."""
        return (results_frame(results or [], language=ui), None, *self.refresh(collection, ui, match, page))

    def refresh(self, collection: str | None, ui: str = "en", match: str = "", page: int = 1,
                keep: str | None = None) -> tuple:
        """One page of the documents table (names holding ``match``), the choices of the Delete/Re-index picker
        (``keep`` stays picked) and of the scope (that page's documents), the summary, and the page number."""
        store = self.folio.store(collection or None)
        match = (match or "").strip()
        total, shown = store.count(), store.count(match=match)
        pages = max(1, -(-shown // PAGE_SIZE))
        page = min(max(1, int(page or 1)), pages)
        records = store.documents(match=match, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        names = [r.name for r in records]
        summary = t(ui, "library_summary").format(collection=escape_text(store.collection_name), documents=total,
                                                  passages=store.vectors.count())
        if match:
            summary += " " + t(ui, "library_matching").format(shown=shown, match=escape_text(match))
        if pages > 1:
            summary += f" ({t(ui, 'page_of').format(page=page, pages=pages)})"
        return (documents_frame(records, language=ui), gr.update(choices=names, value=keep if keep in names else None),
                gr.update(choices=names, value=[]), summary, page)

    def deeper(self, collection: str | None, ui: str = "en") -> str:
        """The second pass's line: how much still waits for the stronger embedder ('' without one)."""
        store = self.folio.store(collection or None)
        if store.second is None or self.folio.second_embedder is None:
            return ""
        documents, passages = store.backlog.waiting()
        name = self.folio.second_embedder.name
        if not documents:
            return t(ui, "deeper_done").format(embedder=name)
        return t(ui, "deeper_waiting").format(passages=f"{passages:,}", documents=f"{documents:,}", embedder=name)

    def turn(self, collection: str | None, ui: str, match: str, page: int, step: int) -> tuple:
        """The previous (``step=-1``) or next page of the table."""
        return self.refresh(collection, ui, match, int(page or 1) + step)

    @user_errors
    def remove(self, name: str | None, collection: str | None, ui: str = "en", match: str = "", page: int = 1) -> tuple:
        if not name:
            raise FolioError(t(ui, "choose_document"))
        record = service.remove_document(self.folio, name, collection=collection or None)
        return (t(ui, "removed").format(name=escape_text(record.name)), *self.refresh(collection, ui, match, page))

    @user_errors
    def reindex(self, name: str | None, collection: str | None, ui: str = "en", match: str = "",
                page: int = 1) -> tuple:
        if not name:
            raise FolioError(t(ui, "choose_document"))
        result = service.reindex_document(self.folio, name, collection=collection or None)
        shown = escape_text(result.name)
        if result.status == "unchanged":
            message = t(ui, "reindexed_unchanged").format(name=shown)
        elif result.status == "failed":
            message = t(ui, "reindexed_failed").format(name=shown, reason=escape_text(result.reason))
        else:
            message = t(ui, "reindexed").format(name=shown, status=t(ui, f"status_{result.status}"),
                                                path=escape_text(result.path))
        return (message, *self.refresh(collection, ui, match, page, keep=name))

    def pick_row(self, event: gr.SelectData) -> str | None:
        """A click on a row of the documents table picks that document."""
        row = getattr(event, "row_value", None)
        return row[0] if row else None
