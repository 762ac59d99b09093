"""The web app: one Gradio page over :mod:`app.service`, and ``serve`` that starts it.

The page only calls ``app.service`` and shows what comes back; it holds no retrieval or prompt
logic. The app is these modules:

- this module — the layout (:func:`build_ui`: banner, chat column, library column, models and
  settings panels, interface language) and the wiring of each component to its panel's method;
- :mod:`app.panels` — what each panel does when the user acts (library, chat, models, settings, API);
- :mod:`app.ui_render` — pure functions from results to Markdown/HTML, and the text-safety rules
  (document text and model output are never rendered as live HTML);
- :mod:`app.i18n` — every sentence the page shows, in five languages;
- :mod:`app.preview` — the cited page, rendered (PDF) or as text, with the passage highlighted;
- :mod:`app.web` — serving: the bind checks, the request guard, launch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from app import service
from app.factory import Folio
from app.i18n import ANSWER_LANGUAGES, UI_LANGUAGES, pick_language, t
from app.folders import FolderWatcher
from app.panels.api import ApiEndpoints
from app.panels.chat import ChatPanel, ChatSession
from app.panels.collections import CollectionsPanel
from app.panels.folders import FoldersPanel
from app.panels.export import ExportPanel
from app.panels.library import LibraryPanel
from app.panels.models import ModelsPanel, ModelsReport
from app.panels.settings import SettingsPanel
from app.ui_render import banner_classes, banner_markdown, documents_frame, escape_text, results_frame
from rag.loading import SUPPORTED_SUFFIXES

UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)
CONTEXT_SIZES = [2048, 4096, 8192, 16384, 32768]
PRIVATE = {"api_visibility": "private"}  # events that are not API endpoints
# Answers that may be under way at once: each searches and shows its quotes at once; the model itself
# serves one at a time (its lock), a waiting answer says so, and Stop takes it out of the queue.
ANSWERS_AT_ONCE = 8


@dataclass(frozen=True)
class Panels:
    """The page's panels, each over the same :class:`~app.factory.Folio`."""

    folio: Folio
    library: LibraryPanel
    collections: CollectionsPanel
    folders: FoldersPanel | None  # None in a read-only replica: nothing to watch
    chat: ChatPanel
    models: ModelsPanel
    settings: SettingsPanel
    api: ApiEndpoints
    export: ExportPanel

    @classmethod
    def of(cls, folio: Folio, *, models: ModelsReport | None = None, watcher: FolderWatcher | None = None) -> "Panels":
        library = LibraryPanel(folio)
        return cls(folio=folio, library=library, collections=CollectionsPanel(folio),
                   folders=None if watcher is None else FoldersPanel(folio, watcher, library),
                   chat=ChatPanel(folio),
                   models=ModelsPanel(folio, models or ModelsReport(folio.settings)), settings=SettingsPanel(folio),
                   api=ApiEndpoints(folio), export=ExportPanel(folio))


class Texts:
    """The components whose words change with the interface language, and how to word each."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[gr.components.Component, dict[str, str | Callable[[str], str]]]] = {}

    def __call__(self, component, **attributes: str | Callable[[str], str]):
        """Register ``component``: each attribute (label, value, placeholder, info) is a label key or lang → text."""
        self._items.setdefault(component._id, (component, {}))[1].update(attributes)
        return component

    @property
    def components(self) -> list:
        return [component for component, _ in self._items.values()]

    def updates(self, language: str) -> list[dict]:
        return [gr.update(**{name: how(language) if callable(how) else t(language, how) for name, how in attrs.items()})
                for _, attrs in self._items.values()]


def _heading(key: str) -> Callable[[str], str]:
    return lambda language: f"### {t(language, key)}"


def build_ui(folio: Folio, *, models: ModelsReport | None = None, watcher: FolderWatcher | None = None) -> gr.Blocks:
    """The page: banner and interface language; chat beside the library (with its watched folders when
    ``watcher`` is given); models and settings panels."""
    panels = Panels.of(folio, models=models, watcher=watcher)
    texts = Texts()
    with gr.Blocks(title="Folio", analytics_enabled=False) as demo:
        with gr.Row(equal_height=False):
            banner = gr.Markdown(banner_markdown(folio.chat.info), elem_id="folio-banner", scale=5,
                                 elem_classes=banner_classes(folio.chat.info))
            texts(banner, value=lambda language: banner_markdown(folio.chat.info, language=language))
            ui = texts(gr.Dropdown(list(zip(UI_LANGUAGES.values(), UI_LANGUAGES)), value="en", scale=1, min_width=160,
                                   label=t("en", "ui_language"), elem_id="folio-ui-language"), label="ui_language")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = _chat_column(panels, texts)
            with gr.Column(scale=2):
                library = _library_column(panels, texts)
                model_panel = _models_panel(panels, texts, ui=ui, banner=banner)
                _settings_panel(panels, texts, chat["language"], ui=ui)
        _wire_library(panels, library, chat["scope"], ui)
        _wire_chat(panels, chat, library["collection"], ui)
        shown = [library["collection"], ui, library["match"], library["page"]]
        library_outputs = [library["docs"], library["pick"], chat["scope"], library["summary"], library["page"]]
        folder_outputs = [library["folder_pick"], library["folder_status"]] if panels.folders else []
        ui.change(texts.updates, ui, texts.components, queue=False, **PRIVATE).then(
            panels.library.refresh, shown, library_outputs, **PRIVATE).then(
            panels.models.show, ui, [model_panel["text"], model_panel["pick"]], **PRIVATE)

        def on_load(request: gr.Request):
            language = pick_language(request.headers.get("accept-language") if request else None)
            return (language, panels.collections.collections(library["collection"].value),
                    *panels.library.refresh(None, language), *panels.models.show(language, wait=0),
                    *(panels.folders.show(language) if panels.folders else ()))

        demo.load(on_load, None, [ui, library["collection"], *library_outputs, model_panel["text"], model_panel["pick"],
                                  *folder_outputs], **PRIVATE)
        gr.api(panels.api.ask, api_name="ask", concurrency_limit=ANSWERS_AT_ONCE, concurrency_id="llm")
        gr.api(panels.api.search, api_name="search")
    return demo


def _chat_column(panels: Panels, texts: Texts) -> dict:
    """The chat, its buttons, answer language and scope, the answer details, Sources and the page preview."""
    folio = panels.folio
    c: dict = {"session": gr.State(ChatSession())}  # deep-copied per browser tab
    c["chatbot"] = texts(gr.Chatbot(label=t("en", "answers"), elem_id="folio-chat", height=440, sanitize_html=True,
                                    allow_tags=False, latex_delimiters=[], feedback_options=None, buttons=["copy"],
                                    placeholder=t("en", "chat_placeholder")),
                         label="answers", placeholder="chat_placeholder")
    with gr.Row():
        c["question"] = texts(gr.Textbox(placeholder=t("en", "question"), show_label=False, lines=1, scale=6,
                                         elem_id="folio-question"), placeholder="question")
        c["ask"] = texts(gr.Button(t("en", "ask"), variant="primary", scale=1, min_width=80, elem_id="folio-ask"),
                         value="ask")
        c["stop"] = texts(gr.Button(t("en", "stop"), variant="stop", scale=1, min_width=80, elem_id="folio-stop"),
                          value="stop")
        c["regenerate"] = texts(gr.Button(t("en", "regenerate"), scale=1, min_width=110, elem_id="folio-regenerate"),
                                value="regenerate")
    with gr.Row():
        c["language"] = texts(gr.Dropdown(list(zip(ANSWER_LANGUAGES.values(), ANSWER_LANGUAGES)),
                                          value=folio.settings.language, label=t("en", "answer_language"), scale=1,
                                          min_width=140, elem_id="folio-answer-language"), label="answer_language")
        c["scope"] = texts(gr.Dropdown([], value=[], multiselect=True, label=t("en", "scope"), info=t("en", "scope_info"),
                                       scale=4, elem_id="folio-scope"), label="scope", info="scope_info")
    with gr.Row(equal_height=False):
        c["export"] = texts(gr.Button(t("en", "export"), size="sm", scale=0, min_width=120, elem_id="folio-export"),
                            value="export")
        c["export_files"] = texts(gr.File(label=t("en", "export_files"), file_count="multiple", interactive=False,
                                          visible=False, scale=1, elem_id="folio-export-files"),
                                  label="export_files")
    c["stats"] = gr.Markdown("", elem_id="folio-stats")
    c["meter"] = gr.HTML("", elem_id="folio-meter")
    c["whole"] = texts(gr.Button(t("en", "whole_window"), size="sm", visible=False, elem_id="folio-whole-window"),
                       value="whole_window")
    texts(gr.Markdown(f"### {t('en', 'sources')}"), value=_heading("sources"))
    c["sources"] = gr.HTML(f"<p class='folio-muted'>{t('en', 'sources_empty')}</p>", elem_id="folio-sources")
    c["pick"] = texts(gr.Dropdown([], value=None, label=t("en", "preview"), elem_id="folio-preview-pick"),
                      label="preview")
    c["image"] = gr.Image(None, type="pil", format="png", interactive=False, show_label=False, visible=False,
                          buttons=["fullscreen"], elem_id="folio-preview-image")
    c["page"] = gr.HTML("", elem_id="folio-preview-text")
    return c


def _library_column(panels: Panels, texts: Texts) -> dict:
    """Collections; upload, per-file results; watched folders; the documents table (a page at a time, filtered by
    name) with Delete and Re-index."""
    folio = panels.folio
    lib: dict = {}
    texts(gr.Markdown(f"### {t('en', 'library')}"), value=_heading("library"))
    with gr.Row(equal_height=True):
        lib["collection"] = texts(gr.Dropdown(service.collection_names(folio), value=folio.settings.collection,
                                              label=t("en", "collection"), scale=1, elem_id="folio-collection"),
                                  label="collection")
        lib["new"] = texts(gr.Textbox(label=t("en", "new_collection"), scale=1, elem_id="folio-new-collection"),
                           label="new_collection")
    with gr.Row():
        lib["create"] = texts(gr.Button(t("en", "create"), size="sm", elem_id="folio-create-collection"),
                              value="create")
        lib["drop"] = texts(gr.Button(t("en", "delete_collection"), size="sm", elem_id="folio-drop-collection"),
                            value="delete_collection")
    with gr.Column(visible=False, variant="panel", elem_id="folio-confirm-drop") as lib["confirm"]:
        lib["confirm_text"] = gr.Markdown("")
        with gr.Row():
            lib["yes"] = texts(gr.Button(t("en", "confirm_delete"), variant="stop", elem_id="folio-confirm-yes"),
                               value="confirm_delete")
            lib["no"] = texts(gr.Button(t("en", "cancel"), elem_id="folio-confirm-no"), value="cancel")
    lib["upload"] = texts(gr.File(label=t("en", "upload"), file_count="multiple", file_types=UPLOAD_TYPES,
                                  elem_id="folio-upload"), label="upload")
    lib["add"] = texts(gr.Button(t("en", "add"), variant="primary", elem_id="folio-add"), value="add")
    lib["results_json"] = gr.JSON(visible=False)
    lib["results"] = texts(gr.Dataframe(value=results_frame([]), label=t("en", "results"), interactive=False,
                                        elem_id="folio-results", wrap=True), label="results")
    if panels.folders is not None:
        _folders_part(lib, texts)
    lib["match"] = texts(gr.Textbox(label=t("en", "filter_names"), elem_id="folio-doc-filter", max_lines=1),
                         label="filter_names")
    lib["page"] = gr.State(1)
    lib["docs"] = texts(gr.Dataframe(value=documents_frame([]), label=t("en", "documents"),
                                     interactive=False, elem_id="folio-documents", wrap=True,
                                     column_widths=["34%", "13%", "14%", "15%", "24%"]), label="documents")
    with gr.Row():
        lib["previous"] = texts(gr.Button(t("en", "previous_page"), size="sm", elem_id="folio-doc-previous"),
                                value="previous_page")
        lib["next"] = texts(gr.Button(t("en", "next_page"), size="sm", elem_id="folio-doc-next"), value="next_page")
    lib["pick"] = texts(gr.Dropdown([], value=None, label=t("en", "document"), elem_id="folio-doc-pick"),
                        label="document")
    with gr.Row():
        lib["remove"] = texts(gr.Button(t("en", "delete"), variant="stop", size="sm", elem_id="folio-doc-delete"),
                              value="delete")
        lib["reindex"] = texts(gr.Button(t("en", "reindex"), size="sm", elem_id="folio-doc-reindex"), value="reindex")
    lib["summary"] = gr.Markdown("", elem_id="folio-library-summary")
    lib["deeper"] = gr.Markdown("", elem_id="folio-library-deeper")
    lib["timer"] = gr.Timer(2.0)  # the status lines: the second pass, the watched folders
    lib["message"] = gr.Markdown("", elem_id="folio-library-message")
    return lib


def _folders_part(lib: dict, texts: Texts) -> None:
    """Watched folders: add one by its path, pick one to stop watching, and a live status line."""
    with texts(gr.Accordion(t("en", "folders"), open=False, elem_id="folio-folders"), label="folders"):
        texts(gr.Markdown(t("en", "folders_info")), value="folders_info")
        with gr.Row(equal_height=True):
            lib["folder_path"] = texts(gr.Textbox(label=t("en", "folder_path"), scale=4, max_lines=1,
                                                  elem_id="folio-folder-path"), label="folder_path")
            lib["folder_watch"] = texts(gr.Button(t("en", "watch_folder"), scale=1, elem_id="folio-folder-watch"),
                                        value="watch_folder")
        lib["folder_pick"] = texts(gr.Dropdown([], value=None, label=t("en", "watched_folders"),
                                               elem_id="folio-folder-pick"), label="watched_folders")
        lib["folder_forget"] = texts(gr.Button(t("en", "unwatch_folder"), variant="stop", size="sm",
                                               elem_id="folio-folder-forget"), value="unwatch_folder")
        lib["folder_status"] = gr.Markdown("", elem_id="folio-folder-status")
        lib["folder_message"] = gr.Markdown("", elem_id="folio-folder-message")


def _models_panel(panels: Panels, texts: Texts, *, ui: gr.Dropdown, banner: gr.Markdown) -> dict:
    """The model in use and the doctor's plan; a switcher between local models (hidden with a remote engine)."""
    settings = panels.folio.settings
    with texts(gr.Accordion(t("en", "models"), open=False, elem_id="folio-models"), label="models") as panel:
        if settings.llm_url:
            def remote(language: str) -> str:
                return t(language, "models_remote").format(url=escape_text(settings.llm_url))
            texts(gr.Markdown(remote("en"), elem_id="folio-models-remote"), value=remote)
        with gr.Column(visible=not settings.llm_url):
            pick = texts(gr.Dropdown([], value=None, label=t("en", "local_models"), elem_id="folio-model-pick",
                                     info=t("en", "local_models_info").format(folder=settings.models_dir)),
                         label="local_models",
                         info=lambda language: t(language, "local_models_info").format(folder=settings.models_dir))
            switch = texts(gr.Button(t("en", "switch_model"), size="sm", elem_id="folio-model-switch"),
                           value="switch_model")
        message = gr.Markdown("", elem_id="folio-models-message")
        markdown = gr.Markdown("", elem_id="folio-models-text")
    panel.expand(panels.models.show, ui, [markdown, pick], queue=False, **PRIVATE)
    # Its own queue: an answer in progress keeps the model it started with (ChatSlot.using). After a
    # failed switch (the error says why), the list points at the model that still answers.
    switch.click(panels.models.switch, [pick, ui], [markdown, pick, banner, message], concurrency_limit=1,
                 concurrency_id="model-switch", **PRIVATE).failure(
        panels.models.show, ui, [markdown, pick], queue=False, **PRIVATE)
    return {"text": markdown, "pick": pick}


def _settings_panel(panels: Panels, texts: Texts, answer_language: gr.Dropdown, *, ui: gr.Dropdown) -> None:
    s = panels.folio.settings
    with texts(gr.Accordion(t("en", "settings"), open=False, elem_id="folio-settings"), label="settings"):
        candidates = texts(gr.Slider(0, 64, value=s.candidates, step=1, label=t("en", "candidates"),
                                     info=t("en", "candidates_info"), elem_id="folio-set-candidates"),
                           label="candidates", info="candidates_info")
        ttft = texts(gr.Slider(1, 120, value=s.ttft_target_s, step=1, label=t("en", "ttft_target"),
                               info=t("en", "ttft_target_info"), elem_id="folio-set-ttft"),
                     label="ttft_target", info="ttft_target_info")
        temperature = texts(gr.Slider(0.0, 1.5, value=s.temperature, step=0.05, label=t("en", "temperature"),
                                      elem_id="folio-set-temperature"), label="temperature")
        language = texts(gr.Dropdown(list(zip(ANSWER_LANGUAGES.values(), ANSWER_LANGUAGES)), value=s.language,
                                     label=t("en", "default_language"), elem_id="folio-set-language"),
                         label="default_language")
        sizes = sorted(set(CONTEXT_SIZES) | {s.n_ctx})
        n_ctx = texts(gr.Dropdown(sizes, value=s.n_ctx, label=t("en", "n_ctx"), info=t("en", "n_ctx_info"),
                                  elem_id="folio-set-n-ctx"), label="n_ctx", info="n_ctx_info")
        save = texts(gr.Button(t("en", "save"), variant="primary", elem_id="folio-set-save"), value="save")
        message = gr.Markdown("", elem_id="folio-settings-message")
    save.click(panels.settings.save, [candidates, temperature, language, n_ctx, ui, ttft], [message, answer_language],
               **PRIVATE)


def _wire_library(panels: Panels, lib: dict, scope: gr.Dropdown, ui: gr.Dropdown) -> None:
    """The library's events: Add (also the ``ingest`` API endpoint), the table's pages and filter, Delete,
    Re-index, collections, watched folders."""
    library, collections, collection = panels.library, panels.collections, lib["collection"]
    shown = [collection, ui, lib["match"], lib["page"]]
    library_outputs = [lib["docs"], lib["pick"], scope, lib["summary"], lib["page"]]
    writes = {"concurrency_limit": 1, "concurrency_id": "library"}
    lib["add"].click(library.ingest, [lib["upload"], collection, ui], lib["results_json"], api_name="ingest",
                     **writes).success(
        library.library, [lib["results_json"], *shown], [lib["results"], lib["upload"], *library_outputs],
        **PRIVATE)
    lib["remove"].click(library.remove, [lib["pick"], *shown], [lib["message"], *library_outputs],
                        **writes, **PRIVATE)
    lib["reindex"].click(library.reindex, [lib["pick"], *shown], [lib["message"], *library_outputs],
                         **writes, **PRIVATE)
    lib["docs"].select(library.pick_row, None, lib["pick"], **PRIVATE)
    collection.change(library.refresh, [collection, ui, lib["match"]], library_outputs, **PRIVATE)
    lib["match"].change(library.refresh, [collection, ui, lib["match"]], library_outputs, **PRIVATE)
    for button, step in ((lib["previous"], -1), (lib["next"], 1)):
        button.click(library.turn, [*shown, gr.State(step)], library_outputs, **PRIVATE)
    for trigger in (lib["create"].click, lib["new"].submit):
        trigger(collections.create_collection, lib["new"], [collection, lib["new"]], **PRIVATE)
    lib["drop"].click(collections.ask_drop, [collection, ui], [lib["confirm"], lib["confirm_text"]], **PRIVATE)
    lib["yes"].click(collections.drop, [collection, ui], [lib["confirm"], collection, lib["message"]], **writes,
                     **PRIVATE)
    lib["no"].click(collections.cancel_drop, None, lib["confirm"], **PRIVATE)
    if panels.folders is not None:
        folders, status = panels.folders, [lib["folder_pick"], lib["folder_status"]]
        for trigger in (lib["folder_watch"].click, lib["folder_path"].submit):
            trigger(folders.watch, [lib["folder_path"], collection, ui], [lib["folder_message"], lib["folder_path"],
                                                                           *status], **writes, **PRIVATE)
        lib["folder_forget"].click(folders.forget, [lib["folder_pick"], ui], [lib["folder_message"], *status],
                                   **writes, **PRIVATE).then(library.refresh, shown, library_outputs, **PRIVATE)
        # The live status line, and the table again when a pass changed the library.
        seen = gr.State(0)
        lib["timer"].tick(folders.tick, [*shown, seen], [lib["folder_status"], seen, *library_outputs],
                          queue=False, **PRIVATE)
    lib["timer"].tick(library.deeper, [collection, ui], lib["deeper"], queue=False, **PRIVATE)


def _wire_chat(panels: Panels, c: dict, collection: gr.Dropdown, ui: gr.Dropdown) -> None:
    """The chat's events: Ask (button or Enter), Regenerate, Stop, clear, and the page preview."""
    chat = panels.chat
    answer_outputs = [c["question"], c["chatbot"], c["sources"], c["stats"], c["meter"], c["pick"], c["whole"]]
    options = [c["language"], collection, c["scope"], ui]
    llm = {"concurrency_limit": ANSWERS_AT_ONCE, "concurrency_id": "llm"}
    begin = {"fn": chat.begin, "inputs": c["session"], "outputs": None, "queue": False, **PRIVATE}
    for trigger in (c["ask"].click, c["question"].submit):
        trigger(**begin).then(chat.chat, [c["question"], c["session"], *options], answer_outputs, **llm, **PRIVATE)
    c["regenerate"].click(**begin).then(chat.regenerate, [c["session"], *options], answer_outputs, **llm, **PRIVATE)
    c["whole"].click(**begin).then(chat.whole_window, [c["session"], *options], answer_outputs, **llm, **PRIVATE)
    c["stop"].click(chat.stop, c["session"], None, queue=False, **PRIVATE)
    c["chatbot"].clear(chat.clear, c["session"], [c["chatbot"], c["sources"], c["stats"], c["meter"], c["pick"],
                                                  c["whole"]], queue=False, **PRIVATE)
    c["pick"].change(chat.preview, [c["pick"], c["session"], ui], [c["image"], c["page"]], **PRIVATE)
    c["export"].click(panels.export.export, [c["session"], collection, ui], c["export_files"], **PRIVATE)
