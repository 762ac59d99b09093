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


class LibraryPanel:
    """What the library's buttons, table and collection picker do."""

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

    def library(self, results: list[dict] | None, collection: str | None, ui: str = "en") -> tuple:
        """After an upload: the per-file results, an emptied upload area, and the refreshed library."""
        return (results_frame(results or [], language=ui), None, *self.refresh(collection, ui))

    def refresh(self, collection: str | None, ui: str = "en", keep: str | None = None) -> tuple:
        """The documents table, the choices of the Delete/Re-index picker (``keep`` stays picked) and of the scope."""
        store = self.folio.store(collection or None)
        records = store.documents()
        names = [r.name for r in records]
        summary = t(ui, "library_summary").format(collection=escape_text(store.collection_name), documents=len(records),
                                                  passages=sum(r.chunks for r in records))
        return (documents_frame(records, language=ui), gr.update(choices=names, value=keep if keep in names else None),
                gr.update(choices=names, value=[]), summary)

    @user_errors
    def remove(self, name: str | None, collection: str | None, ui: str = "en") -> tuple:
        if not name:
            raise FolioError(t(ui, "choose_document"))
        record = service.remove_document(self.folio, name, collection=collection or None)
        return (t(ui, "removed").format(name=escape_text(record.name)), *self.refresh(collection, ui))

    @user_errors
    def reindex(self, name: str | None, collection: str | None, ui: str = "en") -> tuple:
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
        return (message, *self.refresh(collection, ui, keep=name))

    def pick_row(self, event: gr.SelectData) -> str | None:
        """A click on a row of the documents table picks that document."""
        row = getattr(event, "row_value", None)
        return row[0] if row else None

    # collections ----------------------------------------------------------------------------
    def collections(self, current: str | None = None) -> dict:
        names = service.collection_names(self.folio)
        value = current if current in names else self.folio.settings.collection
        return gr.update(choices=names, value=value)

    @user_errors
    def create_collection(self, name: str) -> tuple:
        created = service.create_collection(self.folio, name)
        return self.collections(created), ""

    def ask_drop(self, collection: str, ui: str = "en") -> tuple:
        count = len(self.folio.documents(collection))
        return gr.update(visible=True), t(ui, "confirm_drop").format(collection=escape_text(collection), documents=count)

    @user_errors
    def drop(self, collection: str, ui: str = "en") -> tuple:
        count = service.drop_collection(self.folio, collection)
        message = t(ui, "dropped").format(collection=escape_text(collection), documents=count)
        return gr.update(visible=False), self.collections(), message

    def cancel_drop(self) -> dict:
        return gr.update(visible=False)
