"""The chat's Export button: this tab's conversation as a Markdown and a JSON file, offered for download."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import gradio as gr

from app import export
from app.factory import Folio
from app.i18n import t
from app.panels.chat import ChatSession
from app.panels.errors import user_errors
from core.errors import FolioError


class ExportPanel:
    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    @user_errors
    def export(self, session: ChatSession, collection: str | None = None, ui: str = "en") -> dict:
        """Write the conversation (:mod:`app.export`) into a private temporary folder; the two files, shown."""
        if not session.answers:
            raise FolioError(t(ui, "nothing_to_export"))
        folder = Path(tempfile.mkdtemp(prefix="folio-export-"))  # mode 0700: the conversation is the user's
        stem = f"folio-conversation-{time.strftime('%Y%m%d-%H%M%S')}"
        name = self.folio.store(session.last_collection or collection or None).collection_name
        paths = export.write(session.answers, [folder / f"{stem}.md", folder / f"{stem}.json"],
                             model_info=self.folio.chat.info, collection=name, language=ui)
        return gr.update(value=[str(p) for p in paths], visible=True)
