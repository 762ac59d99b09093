"""The Settings panel: what the user may change from the page, saved to ``FOLIO_HOME/folio.toml``."""

from __future__ import annotations

import os

import gradio as gr

from app.factory import Folio
from app.i18n import t
from app.panels.errors import user_errors
from app.settings import save_settings
from app.ui_render import escape_text


class SettingsPanel:
    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    @user_errors
    def save(self, candidates: float, temperature: float, language: str, n_ctx: float, ui: str = "en",
             ttft_target_s: float | None = None) -> tuple:
        """Save the settings to folio.toml; all but the context size apply at once."""
        changes = {"candidates": int(candidates), "temperature": round(float(temperature), 2), "language": language,
                   "n_ctx": int(n_ctx)}
        if ttft_target_s is not None:
            changes["ttft_target_s"] = float(ttft_target_s)
        path = save_settings(self.folio.settings, **changes)
        self.folio.settings = self.folio.settings.with_(**{k: v for k, v in changes.items() if k != "n_ctx"})
        overridden = [f"FOLIO_{k.upper()}" for k in changes if f"FOLIO_{k.upper()}" in os.environ]
        message = t(ui, "saved_settings").format(path=escape_text(path))
        if overridden:
            message += " " + t(ui, "env_overrides").format(names=", ".join(overridden))
        return message, gr.update(value=language)
