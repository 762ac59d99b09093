"""The web app: one Gradio page over :mod:`app.service`, and ``serve`` that starts it.

The page only calls ``app.service`` and shows what comes back; it holds no retrieval or prompt
logic. How the module is organised, top to bottom:

1. **Text safety** — :func:`escape_text` (for Markdown: chat and banner) and :func:`escape_html`
   (for the Sources panel). Document text and model output are never rendered as live HTML, and
   Markdown image syntax is neutralised so an answer cannot make the browser fetch a remote image.
2. **Rendering** — pure functions from service results to what a component shows: the banner,
   the Sources panel, the stats line, the upload-results and documents tables.
3. **Errors** — :func:`user_errors`, the one place where a :class:`~rag.errors.FolioError`
   becomes ``gr.Error`` (for plain functions and for generators alike).
4. **Session** — :class:`ChatSession`, kept per browser tab in ``gr.State``: the conversation
   (question and answer text only) and the threading.Event the Stop button sets.
5. **Handlers** — :class:`Handlers`, one method per user action or API endpoint.
6. **Layout** — :func:`build_ui` assembles the page (banner, library column, chat column) and
   wires the events; the named API endpoints are ``ask``, ``search`` and ``ingest``.
7. **Serving** — :func:`serve`: refuse an unauthenticated non-loopback bind or a busy port *before*
   anything heavy is built, build Folio once, index the sample documents on first start, launch, close on exit.

>>> escape_text('<img src=x onerror=alert(1)> 5 & 6 ![logo](http://example.com/a.png)')
'&lt;img src=x onerror=alert(1)&gt; 5 &amp; 6 !\\\\[logo](http://example.com/a.png)'
>>> check_exposure(host="127.0.0.1", auth="")
>>> check_exposure(host="0.0.0.0", auth="")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rag.errors.FolioError: Refusing to serve on 0.0.0.0 without a login, because anyone on the network could read ...
"""

from __future__ import annotations

import copy
import functools
import html
import inspect
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import gradio as gr
import pandas as pd

from app import service
from app.factory import Folio
from app.settings import Settings
from rag.answering import Done, Sources, Status, Token
from rag.errors import FolioError

UPLOAD_TYPES = [".pdf", ".docx", ".md", ".txt", ".html", ".htm"]
RESULT_COLUMNS = ["file", "status", "pages", "chunks", "language", "reason"]
DOCUMENT_COLUMNS = ["name", "pages", "chunks", "language"]
LOCAL_NAMES = {"localhost", "ip6-localhost"}
STATUS_LINES = {"searching": "Searching your documents…", "generating": "Writing the answer…"}
# System fonts only: the default theme would fetch web fonts, and nothing should leave the machine.
THEME_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]
CSS = """
.folio-source { margin: 0 0 0.8em 0; }
.folio-source-head { font-weight: 600; }
.folio-source-text { white-space: pre-wrap; font-size: 0.92em; opacity: 0.9; }
.folio-muted { opacity: 0.7; }
"""


# -- 1. text safety ---------------------------------------------------------------------------
def escape_text(text: str) -> str:
    """Text for a Markdown component: HTML special characters as entities, image syntax neutralised."""
    return html.escape(str(text), quote=False).replace("![", "!\\[")


def escape_html(text: object) -> str:
    """Text for an HTML component: every markup and template character as an entity."""
    return html.escape(str(text), quote=True).replace("$", "&#36;").replace("`", "&#96;")


# -- 2. rendering -----------------------------------------------------------------------------
def banner_markdown(model_info: dict) -> str:
    """The banner: what Folio is, the model in use, and the stand-in note when it applies."""
    details = [escape_text(model_info["backend"])] if model_info.get("backend") else []
    if model_info.get("n_ctx"):
        details.append(f"context {int(model_info['n_ctx']):,} tokens")
    lines = ["## Folio — ask your documents, offline and private",
             f"Model: **{escape_text(model_info.get('name', 'none loaded'))}**"
             + (f" ({', '.join(details)})" if details else "")]
    if model_info.get("stand_in") and model_info.get("note"):
        lines.append(f"> ⚠️ {escape_text(model_info['note'])}")
    return "\n\n".join(lines)


def sources_html(sources: list[dict], *, cited: Iterable[int] = ()) -> str:
    """The numbered passages that went into the prompt, as escaped HTML; cited ones are marked."""
    if not sources:
        return "<p class='folio-muted'>No passages were found for this question.</p>"
    cited = set(cited)
    blocks = []
    for source in sources:
        mark = " ✓ cited" if source["n"] in cited else ""
        head = f"[{source['n']}] {source['source']}, p. {source['page']}{mark}"
        blocks.append(f"<div class='folio-source'><div class='folio-source-head'>{escape_html(head)}</div>"
                      f"<div class='folio-source-text'>{escape_html(source['text'])}</div></div>")
    return "\n".join(blocks)


def stats_line(answer) -> str:
    """Prompt tokens, time to first token and decoding speed of one answer."""
    stats = answer.stats
    line = (f"{stats.prompt_tokens} prompt tokens · TTFT {stats.ttft_s:.2f} s · "
            f"{stats.tokens_per_s:.1f} tokens/s · {stats.completion_tokens} answer tokens")
    searched = answer.extra.get("standalone_question")
    if searched:
        line += f" · searched for: {escape_text(searched)}"
    return f"_{line}{' · stopped' if answer.stopped else ''}_"


def results_frame(results: list[dict]) -> pd.DataFrame:
    rows = [[r["name"], r["status"], r["pages"], r["chunks"], r["language"], r.get("reason") or ""] for r in results]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def documents_frame(folio: Folio) -> pd.DataFrame:
    rows = [[d.name, d.pages, d.chunks, d.language] for d in folio.documents()]
    return pd.DataFrame(rows, columns=DOCUMENT_COLUMNS)


# -- 3. errors --------------------------------------------------------------------------------
def user_errors(fn: Callable) -> Callable:
    """Turn a FolioError raised by ``fn`` (a function or a generator function) into ``gr.Error``."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except FolioError as error:
                raise _shown(error) from None
        return generator

    @functools.wraps(fn)
    def function(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FolioError as error:
            raise _shown(error) from None
    return function


def _shown(error: FolioError) -> gr.Error:
    # The message is the whole story (one sentence naming the file and the fix): no traceback in the log.
    return gr.Error(str(error), print_exception=False)


# -- 4. session -------------------------------------------------------------------------------
class ChatSession:
    """One browser tab's conversation and its Stop signal (kept in ``gr.State``)."""

    def __init__(self, history: list[dict] | None = None) -> None:
        self.history: list[dict] = list(history or [])
        self.stop = threading.Event()

    def __deepcopy__(self, memo: dict) -> "ChatSession":
        # gr.State deep-copies its initial value; an Event cannot be copied, so a copy gets a fresh one.
        return ChatSession(history=copy.deepcopy(self.history, memo))

    def remember(self, question: str, answer: str) -> None:
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]

    def shown(self) -> list[dict]:
        """The conversation as the Chatbot shows it: every message escaped."""
        return [{"role": m["role"], "content": escape_text(m["content"])} for m in self.history]


# -- 5. handlers ------------------------------------------------------------------------------
class Handlers:
    """What each button and API endpoint does: call app.service, shape the result for display."""

    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    @user_errors
    def ingest(self, files: list[str] | None, progress=gr.Progress()) -> list[dict]:
        """Add uploaded files to the library; one result per file (added, replaced, unchanged, failed)."""
        paths = [Path(f) for f in files or []]
        if not paths:
            raise FolioError("Choose one or more files first (PDF, DOCX, Markdown, text or HTML).")

        def on_file(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Adding {name}", unit="files")

        results = service.ingest_paths(self.folio, paths, names=[p.name for p in paths], on_file=on_file)
        # The temporary upload path means nothing to the user (and API clients would take it for a file).
        return [{k: v for k, v in r.as_dict().items() if k != "path"} for r in results]

    def library(self, results: list[dict] | None) -> tuple:
        """After an upload: the per-file results, the refreshed documents table, an emptied upload area."""
        return results_frame(results or []), documents_frame(self.folio), None

    def documents(self) -> pd.DataFrame:
        return documents_frame(self.folio)

    @user_errors
    def search(self, query: str, k: int = 0) -> list[dict]:
        """The ``k`` passages (0: the configured top_k) that best match ``query``: source, page, text, score."""
        return [p.as_dict() for p in service.search_passages(self.folio, query, k=k or None)]

    @user_errors
    def ask(self, question: str, language: str = "auto") -> dict:
        """Answer ``question`` from the library: answer, language, numbered sources, citations, stats."""
        for event in service.answer_events(self.folio, question, language=language):
            if isinstance(event, Done):
                return event.answer.as_dict()
        raise FolioError("The answer ended before it was complete; try asking again.")

    @user_errors
    def chat(self, question: str, session: ChatSession) -> Iterator[tuple]:
        """Stream one answer into the chat: (question box, chat, sources, stats line) per update."""
        question = (question or "").strip()
        if not question:
            raise FolioError("Type a question first.")
        session.stop.clear()
        shown = session.shown() + [{"role": "user", "content": escape_text(question)}]
        yield "", shown + [{"role": "assistant", "content": ""}], "", STATUS_LINES["searching"]
        pieces: list[str] = []
        events = service.answer_events(self.folio, question, history=list(session.history), stop=session.stop)
        for event in events:
            if isinstance(event, Token):
                pieces.append(event.text)
                reply = {"role": "assistant", "content": escape_text("".join(pieces))}
                yield gr.skip(), shown + [reply], gr.skip(), gr.skip()
            elif isinstance(event, Sources):
                yield gr.skip(), gr.skip(), sources_html(event.sources), gr.skip()
            elif isinstance(event, Status):
                yield gr.skip(), gr.skip(), gr.skip(), STATUS_LINES.get(event.message, event.message)
            elif isinstance(event, Done):
                answer = event.answer
                session.remember(question, answer.text)
                yield (gr.skip(), session.shown(), sources_html(answer.sources, cited=answer.citations["cited"]),
                       stats_line(answer))

    def stop(self, session: ChatSession) -> None:
        """Ask the answer in progress to stop after the current token."""
        session.stop.set()

    def clear(self, session: ChatSession) -> tuple:
        """Start a new conversation (the Chatbot's bin icon)."""
        session.history.clear()
        return [], "", ""


# -- 6. layout --------------------------------------------------------------------------------
def build_ui(folio: Folio) -> gr.Blocks:
    """The page: banner; library (upload, results, documents) beside the chat (answer, stats, sources)."""
    handlers = Handlers(folio)
    with gr.Blocks(title="Folio", analytics_enabled=False) as demo:
        gr.Markdown(banner_markdown(folio.model_info), elem_id="folio-banner")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                _chat_column(handlers)
            with gr.Column(scale=2):
                docs_table = _library_column(handlers)
        demo.load(handlers.documents, None, docs_table, api_visibility="private")
        gr.api(handlers.ask, api_name="ask", concurrency_limit=1, concurrency_id="llm")
        gr.api(handlers.search, api_name="search")
    return demo


def _library_column(handlers: Handlers) -> gr.Dataframe:
    """Upload area, 'Add to library', per-file results and the documents table (returned)."""
    gr.Markdown("### Library")
    upload = gr.File(label="Documents (PDF, DOCX, Markdown, text, HTML)", file_count="multiple",
                     file_types=UPLOAD_TYPES, elem_id="folio-upload")
    add = gr.Button("Add to library", variant="primary", elem_id="folio-add")
    results_json = gr.JSON(visible=False)
    results = gr.Dataframe(value=results_frame([]), label="Upload results", interactive=False,
                           elem_id="folio-results", wrap=True)
    docs = gr.Dataframe(value=pd.DataFrame(columns=DOCUMENT_COLUMNS), label="Documents in the library",
                        interactive=False, elem_id="folio-documents", wrap=True)
    add.click(handlers.ingest, upload, results_json, api_name="ingest", concurrency_limit=1,
              concurrency_id="library").success(
        handlers.library, results_json, [results, docs, upload], api_visibility="private")
    return docs


def _chat_column(handlers: Handlers) -> None:
    """The chat (its bin icon starts a new conversation), the stats line, question box, Ask, Stop, and Sources."""
    session = gr.State(ChatSession())  # deep-copied per browser tab
    chatbot = gr.Chatbot(label="Answers", elem_id="folio-chat", height=440, sanitize_html=True,
                         allow_tags=False, latex_delimiters=[], feedback_options=None, buttons=["copy"],
                         placeholder="Add documents, then ask a question about them.")
    stats = gr.Markdown("", elem_id="folio-stats")
    with gr.Row():
        question = gr.Textbox(placeholder="Ask a question about your documents…", show_label=False,
                              lines=1, scale=6, elem_id="folio-question")
        ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="folio-ask")
        stop = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="folio-stop")
    gr.Markdown("### Sources")
    sources = gr.HTML("<p class='folio-muted'>The passages given to the model appear here.</p>",
                      elem_id="folio-sources", js_on_load=None)
    outputs = [question, chatbot, sources, stats]
    for trigger in (ask.click, question.submit):
        trigger(handlers.chat, [question, session], outputs, api_visibility="private",
                concurrency_limit=1, concurrency_id="llm")
    stop.click(handlers.stop, session, None, queue=False, api_visibility="private")
    chatbot.clear(handlers.clear, session, [chatbot, sources, stats], queue=False, api_visibility="private")


# -- 7. serving -------------------------------------------------------------------------------
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
        _index_samples(folio)
        demo = build_ui(folio)
        _stop_on_sigterm()
        demo.launch(server_name=settings.host, server_port=settings.port, auth=parse_auth(settings.auth),
                    max_file_size=f"{settings.max_upload_mb}mb", share=False, ssr_mode=False, pwa=False,
                    mcp_server=False, footer_links=["api", "settings"], css=CSS,
                    theme=gr.themes.Default(font=THEME_FONTS, font_mono=MONO_FONTS))
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
