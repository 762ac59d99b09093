"""What each button, dropdown and API endpoint of the web app does: call app.service, shape the result.

- :func:`user_errors` is the one place where a :class:`~core.errors.FolioError` becomes ``gr.Error``.
- :class:`ChatSession` is one browser tab's conversation (kept in ``gr.State``): the question and
  answer texts sent back to the model as history, a line of cited sources under each answer, the
  last answer (for the page preview and "Regenerate"), and the Stop signal.
- :class:`ModelsReport` runs ``folio doctor``'s diagnosis once, in a thread, at start-up (and after a switch).
- :class:`ModelsPanel` shows the model in use and switches to another local one.
- :class:`Handlers` has one method per user action; the layout in :mod:`app.ui` wires them.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import gradio as gr

from app import service
from app.factory import Folio
from app.i18n import t
from app.preview import preview_source
from app.settings import save_settings
from app.ui_render import (banner_classes, banner_markdown, cited_footer, documents_frame, escape_text, meter_html,
                           model_choices, models_markdown, results_frame, sources_html, stats_markdown,
                           supporting_spans)
from rag.answering import Done, Sources, Status, Token
from core.errors import FolioError


# -- errors -------------------------------------------------------------------------------------
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


# -- session ------------------------------------------------------------------------------------
class ChatSession:
    """One browser tab's conversation and its Stop signal (kept in ``gr.State``)."""

    def __init__(self, history: list[dict] | None = None, footers: list[str] | None = None) -> None:
        self.history: list[dict] = list(history or [])
        self.footers: list[str] = list(footers or [])
        self.last: dict | None = None
        self.stop = threading.Event()

    def __deepcopy__(self, memo: dict) -> "ChatSession":
        # gr.State deep-copies its initial value; an Event cannot be copied, so a copy gets a fresh one.
        return ChatSession(history=copy.deepcopy(self.history, memo), footers=list(self.footers))

    def remember(self, question: str, answer: str, footer: str = "") -> None:
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        self.footers.append(footer)

    def forget_last(self) -> str | None:
        """Drop the last question and its answer (to ask it again); returns the question."""
        if len(self.history) < 2:
            return None
        question = self.history[-2]["content"]
        del self.history[-2:]
        self.footers = self.footers[:-1]
        self.last = None
        return question

    def clear(self) -> None:
        self.history.clear()
        self.footers.clear()
        self.last = None

    def shown(self) -> list[dict]:
        """The conversation as the Chatbot shows it: every message escaped, cited sources under each answer."""
        out, answers = [], iter(self.footers)
        for message in self.history:
            content = escape_text(message["content"])
            if message["role"] == "assistant":
                content += next(answers, "")
            out.append({"role": message["role"], "content": content})
        return out


# -- the doctor's report, computed once off the request path ----------------------------------------
class ModelsReport:
    """``app.doctor.diagnose(settings)``, run once in a background thread."""

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


# Seconds a switch waits for the new model's diagnosis (quantization, plan); it takes well under one.
SWITCH_REPORT_WAIT_S = 10.0


class ModelsPanel:
    """The Models panel: the model in use, how it runs, the doctor's plan, and switching to another local model."""

    def __init__(self, folio: Folio, report: ModelsReport | None = None) -> None:
        self.folio = folio
        self.report = report

    def show(self, language: str = "en", wait: float = 2.0) -> tuple[str, dict]:
        """The panel's text, and the switcher's choices with the model in use picked."""
        report = self.report.get(timeout=wait) if self.report else None
        models, in_use = self.folio.model_choices()
        return (models_markdown(self.folio.model_info, report),
                gr.update(choices=model_choices(models, language=language), value=in_use))

    @user_errors
    def switch(self, name: str | None, language: str = "en") -> tuple:
        """Answer with the local model ``name`` from now on: the panel, the switcher, the banner and a message."""
        if not name:
            raise FolioError("Pick a model in the list first.")
        info = self.folio.switch_model(name)
        self.report = ModelsReport(self.folio.settings)  # the new model's quantization and plan
        text, choices = self.show(language, wait=SWITCH_REPORT_WAIT_S)
        message = t(language, "switched").format(name=escape_text(info.get("name", name)))
        if "FOLIO_MODEL" in os.environ:
            message += " " + t(language, "switched_env")
        banner = gr.update(value=banner_markdown(info, language=language), elem_classes=banner_classes(info))
        return text, choices, banner, message


# -- handlers -----------------------------------------------------------------------------------
class Handlers:
    """What each button and API endpoint does: call app.service, shape the result for display."""

    def __init__(self, folio: Folio, *, models: ModelsReport | None = None) -> None:
        self.folio = folio
        self.models = ModelsPanel(folio, models)

    # library --------------------------------------------------------------------------------
    @user_errors
    def ingest(self, files: list[str] | None, collection: str | None = None, progress=gr.Progress()) -> list[dict]:
        """Add uploaded files to the library; one result per file (added, replaced, unchanged, failed)."""
        paths = [Path(f) for f in files or []]
        if not paths:
            raise FolioError("Choose one or more files first (PDF, DOCX, Markdown, text or HTML).")

        def on_file(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Adding {name}", unit="files")

        results = service.ingest_uploads(self.folio, paths, names=[p.name for p in paths],
                                         collection=collection or None, on_file=on_file)
        # The stored path means nothing to the user (and API clients would take it for a file).
        return [{k: v for k, v in r.as_dict().items() if k != "path"} for r in results]

    def library(self, results: list[dict] | None, collection: str | None) -> tuple:
        """After an upload: the per-file results, an emptied upload area, and the refreshed library."""
        return (results_frame(results or []), None, *self.refresh(collection))

    def refresh(self, collection: str | None, keep: str | None = None) -> tuple:
        """The documents table, the choices of the Delete/Re-index picker (``keep`` stays picked) and of the scope."""
        store = self.folio.store(collection or None)
        records = store.documents()
        names = [r.name for r in records]
        summary = (f"Collection '{escape_text(store.collection_name)}': {len(records)} documents, "
                   f"{sum(r.chunks for r in records)} passages indexed.")
        return (documents_frame(records), gr.update(choices=names, value=keep if keep in names else None),
                gr.update(choices=names, value=[]), summary)

    @user_errors
    def remove(self, name: str | None, collection: str | None) -> tuple:
        if not name:
            raise FolioError("Choose a document first (click its row in the table, or pick it in the list).")
        record = service.remove_document(self.folio, name, collection=collection or None)
        return (f"Removed {escape_text(record.name)}.", *self.refresh(collection))

    @user_errors
    def reindex(self, name: str | None, collection: str | None) -> tuple:
        if not name:
            raise FolioError("Choose a document first (click its row in the table, or pick it in the list).")
        result = service.reindex_document(self.folio, name, collection=collection or None)
        note = {"unchanged": "unchanged: the file is the same as when it was added",
                "failed": f"failed: {result.reason}"}.get(result.status, f"{result.status} from {result.path}")
        return (f"Re-indexed {escape_text(result.name)}: {escape_text(note)}.", *self.refresh(collection, keep=name))

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

    def ask_drop(self, collection: str) -> tuple:
        count = len(self.folio.documents(collection))
        return (gr.update(visible=True),
                f"**Delete the collection '{escape_text(collection)}' and its {count} documents?** This cannot be undone.")

    @user_errors
    def drop(self, collection: str) -> tuple:
        count = service.drop_collection(self.folio, collection)
        message = f"Deleted the collection '{escape_text(collection)}' ({count} documents)."
        return gr.update(visible=False), self.collections(), message

    def cancel_drop(self) -> dict:
        return gr.update(visible=False)

    # chat -----------------------------------------------------------------------------------
    @user_errors
    def chat(self, question: str, session: ChatSession, language: str = "auto", collection: str | None = None,
             scope: list[str] | None = None, ui: str = "en") -> Iterator[tuple]:
        """Stream one answer: (question box, chat, sources, stats, context meter, preview picker) per update."""
        question = (question or "").strip()
        if not question:
            raise FolioError("Type a question first.")
        collection = collection or None
        doc_ids = self._doc_ids(scope, collection)
        session.stop.clear()
        session.last = None
        shown = session.shown() + [{"role": "user", "content": escape_text(question)}]
        skip = gr.skip()
        yield ("", shown + [{"role": "assistant", "content": ""}], "", t(ui, "searching"), "",
               gr.update(choices=[], value=None))
        pieces: list[str] = []
        events = service.answer_events(self.folio, question, language=language or None, history=list(session.history),
                                       collection=collection, doc_ids=doc_ids, stop=session.stop)
        for event in events:
            if isinstance(event, Token):
                pieces.append(event.text)
                reply = {"role": "assistant", "content": escape_text("".join(pieces))}
                yield skip, shown + [reply], skip, skip, skip, skip
            elif isinstance(event, Sources):
                yield skip, skip, sources_html(event.sources), skip, meter_html(event.meter), skip
            elif isinstance(event, Status):
                line = t(ui, event.message) if event.message in ("searching", "generating") else escape_text(event.message)
                yield skip, skip, skip, line, skip, skip
            elif isinstance(event, Done):
                answer = event.answer.as_dict()
                session.remember(question, answer["answer"], cited_footer(answer))
                session.last = {**answer, "collection": collection}  # the preview looks sources up there
                spans = supporting_spans(answer)
                cited = answer["citations"]["cited"]
                choices = [(f"[{s['n']}] {s['source']}, p. {s['page']}", s["n"]) for s in answer["sources"]]
                first = cited[0] if cited else (choices[0][1] if choices else None)
                yield (skip, session.shown(), sources_html(answer["sources"], cited=cited, spans=spans),
                       stats_markdown(answer, self.folio.model_info), meter_html(answer.get("context") or {}),
                       gr.update(choices=choices, value=first))

    @user_errors
    def regenerate(self, session: ChatSession, language: str = "auto", collection: str | None = None,
                   scope: list[str] | None = None, ui: str = "en") -> Iterator[tuple]:
        """Ask the last question again, in place of its answer."""
        question = session.forget_last()
        if question is None:
            raise FolioError("There is no answer to regenerate yet; ask a question first.")
        yield from self.chat(question, session, language, collection, scope, ui)

    def _doc_ids(self, names: list[str] | None, collection: str | None) -> list[str] | None:
        if not names:
            return None
        store = self.folio.store(collection)
        records = [store.find(name) for name in names]
        missing = [n for n, r in zip(names, records) if r is None]
        if missing:
            raise FolioError(f"The document '{missing[0]}' is no longer in this collection; pick the documents again.")
        return [r.doc_id for r in records]

    def stop(self, session: ChatSession) -> None:
        """Ask the answer in progress to stop after the current token."""
        session.stop.set()

    def clear(self, session: ChatSession) -> tuple:
        """Start a new conversation (the Chatbot's bin icon)."""
        session.clear()
        return [], "", "", "", gr.update(choices=[], value=None)

    def preview(self, number: int | None, session: ChatSession) -> tuple:
        """The cited page of source ``number`` of the last answer: an image for PDFs, marked text otherwise."""
        answer = session.last
        source = next((s for s in (answer or {}).get("sources", []) if s["n"] == number), None)
        if source is None:
            return gr.update(value=None, visible=False), ""
        collection = answer.get("collection")
        record = self.folio.store(collection).find(source["doc_id"])
        shown = preview_source(record=record, source=source, spans=supporting_spans(answer).get(number, []),
                               chunks_of_page=lambda: service.page_chunks(self.folio, source["doc_id"], source["page"],
                                                                          collection=collection))
        return gr.update(value=shown.image, visible=shown.image is not None), shown.html

    # API endpoints --------------------------------------------------------------------------
    @user_errors
    def ask(self, question: str, language: str = "auto", collection: str = "") -> dict:
        """Answer ``question`` from the library: answer, language, numbered sources, citations, stats."""
        for event in service.answer_events(self.folio, question, language=language, collection=collection or None):
            if isinstance(event, Done):
                return event.answer.as_dict()
        raise FolioError("The answer ended before it was complete; try asking again.")

    @user_errors
    def search(self, query: str, k: int = 0, collection: str = "") -> list[dict]:
        """The ``k`` passages (0: the configured top_k) that best match ``query``: source, page, text, score."""
        return [p.as_dict() for p in service.search_passages(self.folio, query, k=k or None,
                                                             collection=collection or None)]

    # settings (the Models panel is :class:`ModelsPanel`, ``self.models``) ----------------------
    @user_errors
    def save(self, candidates: float, temperature: float, language: str, n_ctx: float) -> tuple:
        """Save the settings to folio.toml; all but the context size apply at once."""
        changes = {"candidates": int(candidates), "temperature": round(float(temperature), 2), "language": language,
                   "n_ctx": int(n_ctx)}
        path = save_settings(self.folio.settings, **changes)
        self.folio.settings = self.folio.settings.with_(**{k: v for k, v in changes.items() if k != "n_ctx"})
        overridden = [f"FOLIO_{k.upper()}" for k in changes if f"FOLIO_{k.upper()}" in os.environ]
        message = f"Saved to {escape_text(path)}. The context size takes effect at the next start."
        if overridden:
            message += f" Note: {', '.join(overridden)} set in the environment will override the file at the next start."
        return message, gr.update(value=language)
