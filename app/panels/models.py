"""The Models panel: the model in use, how it runs, the doctor's plan, and switching to another local model."""

from __future__ import annotations

import os
import threading

import gradio as gr

from app.factory import Folio
from app.i18n import t
from app.panels.errors import user_errors
from app.ui_render import banner_classes, banner_markdown, escape_text, model_choices, models_markdown
from core.errors import FolioError

# Seconds a switch waits for the new model's diagnosis (quantization, plan); it takes well under one.
SWITCH_REPORT_WAIT_S = 10.0


class ModelsReport:
    """``app.doctor.diagnose(settings)``, run once in a background thread (off the request path)."""

    def __init__(self, settings) -> None:
        self._report: dict | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(settings,), name="folio-doctor", daemon=True).start()

    def _run(self, settings) -> None:
        try:
            from app.doctor import diagnose

            self._report = diagnose(settings)
        except Exception as error:  # the panel says what failed; the app keeps working
            self._report = {"error": f"{type(error).__name__}: {error}"}
        finally:
            self._done.set()

    def get(self, timeout: float = 0.0) -> dict | None:
        self._done.wait(timeout)
        return self._report


class ModelsPanel:
    """The model in use and the doctor's plan; switching to another local model."""

    def __init__(self, folio: Folio, report: ModelsReport | None = None) -> None:
        self.folio = folio
        self.report = report

    def show(self, language: str = "en", wait: float = 2.0) -> tuple[str, dict]:
        """The panel's text, and the switcher's choices with the model in use picked."""
        report = self.report.get(timeout=wait) if self.report else None
        models, in_use = self.folio.chat.choices(self.folio.settings)
        return (models_markdown(self.folio.chat.info, report, language=language),
                gr.update(choices=model_choices(models, language=language), value=in_use))

    @user_errors
    def switch(self, name: str | None, language: str = "en") -> tuple:
        """Answer with the local model ``name`` from now on: the panel, the switcher, the banner and a message."""
        if not name:
            raise FolioError(t(language, "pick_model"))
        info = self.folio.switch_model(name)
        self.report = ModelsReport(self.folio.settings)  # the new model's quantization and plan
        text, choices = self.show(language, wait=SWITCH_REPORT_WAIT_S)
        message = t(language, "switched").format(name=escape_text(info.get("name", name)))
        if "FOLIO_MODEL" in os.environ:
            message += " " + t(language, "switched_env")
        banner = gr.update(value=banner_markdown(info, language=language), elem_classes=banner_classes(info))
        return text, choices, banner, message
