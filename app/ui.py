"""The web app: one Gradio page over :mod:`app.service`, and ``serve`` that starts it.

The page only calls ``app.service`` and shows what comes back; it holds no retrieval or prompt
logic. The app is four modules:

- :mod:`app.ui_render` — pure functions from results to Markdown/HTML, and the text-safety rules
  (document text and model output are never rendered as live HTML);
- :mod:`app.ui_handlers` — one method per user action or API endpoint, the per-tab session, and
  the one place a :class:`~core.errors.FolioError` becomes ``gr.Error``;
- :mod:`app.preview` — the cited page, rendered (PDF) or as text, with the passage highlighted;
- this module — the layout (:func:`build_ui`: banner, chat column, library column, models and
  settings panels, interface language) and serving (:func:`serve`: refuse an unauthenticated
  non-loopback bind or a busy port *before* anything heavy is built, guard every request against
  cross-site writes and DNS rebinding, index the sample documents on first start, launch, close).

>>> check_exposure(host="127.0.0.1", auth="")
>>> check_exposure(host="0.0.0.0", auth="")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
core.errors.FolioError: Refusing to serve on 0.0.0.0 without a login, because anyone on the network could read ...
>>> host_name("[::1]:7860"), host_name("localhost:7860"), host_name("evil.example")
('::1', 'localhost', 'evil.example')
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import gradio as gr
import pandas as pd

from app import service
from app.factory import Folio
from app.i18n import ANSWER_LANGUAGES, UI_LANGUAGES, pick_language, t
from app.settings import Settings
from app.ui_handlers import ChatSession, Handlers, ModelsReport
from app.ui_render import CSS, DOCUMENT_COLUMNS, banner_classes, banner_markdown, escape_text, results_frame
from core.errors import FolioError

UPLOAD_TYPES = [".pdf", ".docx", ".md", ".txt", ".html", ".htm"]
LOCAL_NAMES = {"localhost", "ip6-localhost"}
CONTEXT_SIZES = [2048, 4096, 8192, 16384, 32768]
# System fonts only: the default theme would fetch web fonts, and nothing should leave the machine.
THEME_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]


# -- 1. layout ----------------------------------------------------------------------------------
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


def build_ui(folio: Folio, *, models: ModelsReport | None = None) -> gr.Blocks:
    """The page: banner and interface language; chat beside the library; models and settings panels."""
    handlers = Handlers(folio, models=models or ModelsReport(folio.settings))
    texts = Texts()
    with gr.Blocks(title="Folio", analytics_enabled=False) as demo:
        with gr.Row(equal_height=False):
            banner = gr.Markdown(banner_markdown(folio.model_info), elem_id="folio-banner", scale=5,
                                 elem_classes=banner_classes(folio.model_info))
            texts(banner, value=lambda language: banner_markdown(folio.model_info, language=language))
            ui = texts(gr.Dropdown(list(zip(UI_LANGUAGES.values(), UI_LANGUAGES)), value="en", scale=1, min_width=160,
                                   label=t("en", "ui_language"), elem_id="folio-ui-language"), label="ui_language")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = _chat_column(handlers, texts)
            with gr.Column(scale=2):
                library = _library_column(handlers, texts)
                model_panel = _models_panel(handlers, texts, ui=ui, banner=banner)
                _settings_panel(handlers, texts, chat["language"])
        _wire_chat(handlers, chat, library, ui)
        ui.change(texts.updates, ui, texts.components, queue=False, api_visibility="private")

        def on_load(request: gr.Request):
            language = pick_language(request.headers.get("accept-language") if request else None)
            return (language, handlers.collections(library["collection"].value), *handlers.refresh(None),
                    *handlers.models.show(language, wait=0))

        demo.load(on_load, None, [ui, library["collection"], library["docs"], library["pick"], chat["scope"],
                                  library["summary"], model_panel["text"], model_panel["pick"]], api_visibility="private")
        gr.api(handlers.ask, api_name="ask", concurrency_limit=1, concurrency_id="llm")
        gr.api(handlers.search, api_name="search")
    return demo


def _chat_column(handlers: Handlers, texts: Texts) -> dict:
    """The chat, its buttons, answer language and scope, the answer details, Sources and the page preview."""
    folio = handlers.folio
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
    c["stats"] = gr.Markdown("", elem_id="folio-stats")
    c["meter"] = gr.HTML("", elem_id="folio-meter")
    texts(gr.Markdown(f"### {t('en', 'sources')}"), value=_heading("sources"))
    c["sources"] = gr.HTML(f"<p class='folio-muted'>{t('en', 'sources_empty')}</p>", elem_id="folio-sources")
    c["pick"] = texts(gr.Dropdown([], value=None, label=t("en", "preview"), elem_id="folio-preview-pick"),
                      label="preview")
    c["image"] = gr.Image(None, type="pil", format="png", interactive=False, show_label=False, visible=False,
                          buttons=["fullscreen"], elem_id="folio-preview-image")
    c["page"] = gr.HTML("", elem_id="folio-preview-text")
    return c


def _library_column(handlers: Handlers, texts: Texts) -> dict:
    """Collections; upload, per-file results; the documents table with Delete and Re-index."""
    folio = handlers.folio
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
    lib["docs"] = texts(gr.Dataframe(value=pd.DataFrame(columns=DOCUMENT_COLUMNS), label=t("en", "documents"),
                                     interactive=False, elem_id="folio-documents", wrap=True,
                                     column_widths=["34%", "13%", "14%", "15%", "24%"]), label="documents")
    lib["pick"] = texts(gr.Dropdown([], value=None, label=t("en", "document"), elem_id="folio-doc-pick"),
                        label="document")
    with gr.Row():
        lib["remove"] = texts(gr.Button(t("en", "delete"), variant="stop", size="sm", elem_id="folio-doc-delete"),
                              value="delete")
        lib["reindex"] = texts(gr.Button(t("en", "reindex"), size="sm", elem_id="folio-doc-reindex"), value="reindex")
    lib["summary"] = gr.Markdown("", elem_id="folio-library-summary")
    lib["message"] = gr.Markdown("", elem_id="folio-library-message")
    return lib


def _models_panel(handlers: Handlers, texts: Texts, *, ui: gr.Dropdown, banner: gr.Markdown) -> dict:
    """The model in use and the doctor's plan; a switcher between local models (hidden with a remote engine)."""
    settings = handlers.folio.settings
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
    private = {"api_visibility": "private"}
    panel.expand(handlers.models.show, ui, [markdown, pick], queue=False, **private)
    # Its own queue: an answer in progress keeps the model it started with (Folio.using_chat). After a
    # failed switch (the error says why), the list points at the model that still answers.
    switch.click(handlers.models.switch, [pick, ui], [markdown, pick, banner, message], concurrency_limit=1,
                 concurrency_id="model-switch", **private).failure(
        handlers.models.show, ui, [markdown, pick], queue=False, **private)
    return {"text": markdown, "pick": pick}


def _settings_panel(handlers: Handlers, texts: Texts, answer_language: gr.Dropdown) -> None:
    s = handlers.folio.settings
    with texts(gr.Accordion(t("en", "settings"), open=False, elem_id="folio-settings"), label="settings"):
        candidates = texts(gr.Slider(1, 64, value=s.candidates, step=1, label=t("en", "candidates"),
                                     elem_id="folio-set-candidates"), label="candidates")
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
    save.click(handlers.save, [candidates, temperature, language, n_ctx], [message, answer_language],
               api_visibility="private")


def _wire_chat(handlers: Handlers, c: dict, lib: dict, ui: gr.Dropdown) -> None:
    """Every event of the page, in one place."""
    collection, scope = lib["collection"], c["scope"]
    library_outputs = [lib["docs"], lib["pick"], scope, lib["summary"]]
    lib["add"].click(handlers.ingest, [lib["upload"], collection], lib["results_json"], api_name="ingest",
                     concurrency_limit=1, concurrency_id="library").success(
        handlers.library, [lib["results_json"], collection], [lib["results"], lib["upload"], *library_outputs],
        api_visibility="private")
    private = {"api_visibility": "private"}
    lib["remove"].click(handlers.remove, [lib["pick"], collection], [lib["message"], *library_outputs],
                        concurrency_limit=1, concurrency_id="library", **private)
    lib["reindex"].click(handlers.reindex, [lib["pick"], collection], [lib["message"], *library_outputs],
                         concurrency_limit=1, concurrency_id="library", **private)
    lib["docs"].select(handlers.pick_row, None, lib["pick"], **private)
    collection.change(handlers.refresh, collection, library_outputs, **private)
    for trigger in (lib["create"].click, lib["new"].submit):
        trigger(handlers.create_collection, lib["new"], [collection, lib["new"]], **private)
    lib["drop"].click(handlers.ask_drop, collection, [lib["confirm"], lib["confirm_text"]], **private)
    lib["yes"].click(handlers.drop, collection, [lib["confirm"], collection, lib["message"]],
                     concurrency_limit=1, concurrency_id="library", **private)
    lib["no"].click(handlers.cancel_drop, None, lib["confirm"], **private)

    answer_outputs = [c["question"], c["chatbot"], c["sources"], c["stats"], c["meter"], c["pick"]]
    options = [c["language"], collection, scope, ui]
    for trigger in (c["ask"].click, c["question"].submit):
        trigger(handlers.chat, [c["question"], c["session"], *options], answer_outputs, concurrency_limit=1,
                concurrency_id="llm", **private)
    c["regenerate"].click(handlers.regenerate, [c["session"], *options], answer_outputs, concurrency_limit=1,
                          concurrency_id="llm", **private)
    c["stop"].click(handlers.stop, c["session"], None, queue=False, **private)
    c["chatbot"].clear(handlers.clear, c["session"], [c["chatbot"], c["sources"], c["stats"], c["meter"], c["pick"]],
                       queue=False, **private)
    c["pick"].change(handlers.preview, [c["pick"], c["session"]], [c["image"], c["page"]], **private)


# -- 2. request guard -------------------------------------------------------------------------------
def host_name(host: str) -> str:
    """The name in a Host or Origin value, without port or brackets."""
    return (urlsplit(host if "//" in host else f"//{host}").hostname or "").lower()


class RequestGuard:
    """ASGI middleware: refuse cross-site writes, and (on a loopback bind) other host names.

    A web page on another site can make the browser POST to 127.0.0.1 (a form upload needs no CORS
    preflight); such requests carry that site's ``Origin`` and are refused. A DNS-rebinding page
    reaches 127.0.0.1 under its own host name; on a loopback bind only loopback names are served.
    """

    WRITES = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self, app, *, loopback_only: bool = True) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            host = headers.get("host", "")
            reason = None
            if self.loopback_only and not is_loopback(host_name(host)):
                reason = "Folio answers only on this machine's loopback address."
            elif scope["method"] in self.WRITES and "origin" in headers and \
                    urlsplit(headers["origin"]).netloc.lower() != host.lower():
                reason = "Cross-site requests are refused."
            if reason:
                from starlette.responses import PlainTextResponse

                await PlainTextResponse(reason, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def launch_options(settings: Settings) -> dict:
    """What every launch of the page passes to Gradio (``serve`` and the tests alike)."""
    from starlette.middleware import Middleware

    return {"max_file_size": f"{settings.max_upload_mb}mb", "share": False, "ssr_mode": False, "pwa": False,
            "mcp_server": False, "footer_links": ["api", "settings"], "css": CSS,
            "theme": gr.themes.Default(font=THEME_FONTS, font_mono=MONO_FONTS),
            "app_kwargs": {"middleware": [Middleware(RequestGuard, loopback_only=is_loopback(settings.host))]}}


# -- 3. serving -------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host.strip().lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise FolioError("The login must look like USER:PASSWORD; fix --auth or FOLIO_AUTH.")
    return user, password


def check_exposure(*, host: str, auth: str) -> str | None:
    """Refuse to serve other machines without a login; the warning to print when serving them with one."""
    login = parse_auth(auth)
    if is_loopback(host):
        return None
    if login is None:
        raise FolioError(f"Refusing to serve on {host} without a login, because anyone on the network could read your "
                         "documents; add --auth USER:PASSWORD (or set FOLIO_AUTH) or keep --host 127.0.0.1.")
    return (f"Warning: Folio will be reachable from other machines on {host} (login required, but plain HTTP: "
            "put it behind HTTPS before using it beyond a trusted network).")


def check_port_free(host: str, port: int) -> None:
    """Fail fast, before models load, when the host is unknown or another server already holds the port."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise FolioError(f"Cannot find the address {host}; fix --host (or FOLIO_HOST), e.g. 127.0.0.1.") from None
    try:
        with socket.create_server((host, port), family=family):
            pass
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise FolioError(f"Cannot listen on {host}:{port} ({reason}); stop the other server using it "
                         "or choose another port with --port.") from None


def serve(settings: Settings) -> int:
    """Start the web app and block until it is stopped (Ctrl-C or SIGTERM); returns the exit status."""
    warning = check_exposure(host=settings.host, auth=settings.auth)  # before anything heavy is built
    check_port_free(settings.host, settings.port)
    if warning:
        print(warning, file=sys.stderr)
    from app.factory import build

    folio = build(settings, writer=True)
    try:
        models = ModelsReport(settings)  # hardware probe and offload plan, off the request path
        _index_samples(folio)
        demo = build_ui(folio, models=models)
        _stop_on_sigterm()
        demo.launch(server_name=settings.host, server_port=settings.port, auth=parse_auth(settings.auth),
                    **launch_options(settings))
    finally:
        folio.close()
    return 0


def _index_samples(folio: Folio) -> None:
    started = time.perf_counter()
    results = service.index_samples_once(folio)
    added = sum(r.status != "failed" for r in results)
    print(f"Indexed {added} sample files from {folio.settings.sample_docs} in {time.perf_counter() - started:.1f} s"
          + (f" ({len(results) - added} failed)" if len(results) > added else "") + ".", flush=True)


def _stop_on_sigterm() -> None:
    """Let SIGTERM stop the server like Ctrl-C does, so Folio is closed cleanly."""
    if threading.current_thread() is threading.main_thread():
        def interrupt(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, interrupt)
