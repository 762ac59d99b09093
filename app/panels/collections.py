"""The collections picker: switch, create, and delete (after asking) a collection."""

from __future__ import annotations

import gradio as gr

from app import service
from app.factory import Folio
from app.i18n import t
from app.panels.errors import user_errors
from app.ui_render import escape_text


class CollectionsPanel:
    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    def collections(self, current: str | None = None) -> dict:
        names = service.collection_names(self.folio)
        value = current if current in names else self.folio.settings.collection
        return gr.update(choices=names, value=value)

    @user_errors
    def create_collection(self, name: str) -> tuple:
        created = service.create_collection(self.folio, name)
        return self.collections(created), ""

    def ask_drop(self, collection: str, ui: str = "en") -> tuple:
        count = self.folio.store(collection).count()
        return gr.update(visible=True), t(ui, "confirm_drop").format(collection=escape_text(collection), documents=count)

    @user_errors
    def drop(self, collection: str, ui: str = "en") -> tuple:
        count = service.drop_collection(self.folio, collection)
        message = t(ui, "dropped").format(collection=escape_text(collection), documents=count)
        return gr.update(visible=False), self.collections(), message

    def cancel_drop(self) -> dict:
        return gr.update(visible=False)
