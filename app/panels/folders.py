"""The Folders part of the library: folders kept in step while Folio runs (saved in folio.toml), and their status."""

from __future__ import annotations

import gradio as gr

from app import service
from app.factory import Folio
from app.folders import FolderWatcher
from app.i18n import t
from app.panels.errors import user_errors
from app.panels.library import LibraryPanel
from app.ui_render import escape_text
from core.errors import FolioError


SHOWN = 20  # files not indexed listed under the status line


class FoldersPanel:
    """Watch a folder, stop watching one (and remove its documents), and the live status line."""

    def __init__(self, folio: Folio, watcher: FolderWatcher, library: LibraryPanel) -> None:
        self.folio = folio
        self.watcher = watcher
        self.library = library

    def tick(self, collection: str | None, ui: str, match: str, page: int, seen: int) -> tuple:
        """Every few seconds: the status line, and the documents table again once a pass changed the library
        (``seen``: how many changes the table shows already)."""
        changes = self.watcher.status()["changes"]
        table = self.library.refresh(collection, ui, match, page) if changes != seen else (gr.skip(),) * 5
        return (self.status(ui), changes, *table)

    def show(self, ui: str = "en") -> tuple[dict, str]:
        """The watched folders (to pick one to stop) and the status line."""
        choices = [(f"{f.path} → {f.collection}", f"{f.collection}\n{f.path}") for f in self.watcher.folders()]
        return gr.update(choices=choices, value=None), self.status(ui)

    def status(self, ui: str = "en") -> str:
        """'2 folders watched: 120 files seen, 118 indexed, 1 pending, 1 failed.' (and what went wrong, if anything)."""
        state = self.watcher.status()
        if not state["folders"]:
            return t(ui, "folders_none")
        line = t(ui, "folders_status").format(folders=len(state["folders"]), seen=state["seen"],
                                              indexed=state["indexed"], pending=state["pending"], failed=state["failed"])
        if state["busy"]:
            line += " " + t(ui, "folders_busy")
        errors = [f["error"] for f in state["folders"] if f["error"]]
        text = escape_text(" ".join([line, *errors]))
        problems = state["not_indexed"]
        if problems:  # every file seen and not indexed, with why (skipped types, failures)
            shown = [f"- {escape_text(name)}: {escape_text(reason)}" for name, reason in problems[:SHOWN]]
            more = [t(ui, "folders_more").format(count=len(problems) - SHOWN)] if len(problems) > SHOWN else []
            text += "\n\n" + t(ui, "folders_not_indexed").format(count=len(problems)) + "\n" + "\n".join(shown + more)
        return text

    @user_errors
    def watch(self, path: str | None, collection: str | None, ui: str = "en") -> tuple:
        if not (path or "").strip():
            raise FolioError(t(ui, "choose_folder"))
        folder = service.watch_folder(self.folio, path.strip(), collection=collection or None)
        self.watcher.watch(folder.path, folder.collection)
        return (t(ui, "folder_watched").format(path=escape_text(folder.path)), "", *self.show(ui))

    @user_errors
    def forget(self, choice: str | None, ui: str = "en") -> tuple:
        if not choice:
            raise FolioError(t(ui, "pick_folder"))
        collection, _, path = choice.partition("\n")
        self.watcher.unwatch(path, collection)
        removed = service.forget_folder(self.folio, path, collection=collection)
        return (t(ui, "folder_forgotten").format(path=escape_text(path), documents=removed), *self.show(ui))
