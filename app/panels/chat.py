"""The chat panel: one tab's conversation, asking (streamed), Stop, Regenerate, and the cited-page preview."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator

import gradio as gr

from app import service
from app.factory import Folio
from app.i18n import t
from app.panels.errors import user_errors
from app.preview import preview_source
from app.ui_render import (budget_limited, cited_footer, escape_text, meter_html, quotes_markdown, reading_line,
                           source_label, sources_html, stats_markdown)
from core.errors import FolioError
from rag.answering import Answer, Done, Quotes, Reading, Sources, Status, Token


class ChatSession:
    """One browser tab's conversation and its Stop signal (kept in ``gr.State``): the question and answer
    texts sent back to the model as history, a line of cited sources under each answer, and the last
    answer with its collection (for the page preview and "Regenerate")."""

    def __init__(self, history: list[dict] | None = None, footers: list[str] | None = None,
                 answers: list[Answer] | None = None, headers: list[str] | None = None) -> None:
        self.history: list[dict] = list(history or [])
        self.footers: list[str] = list(footers or [])
        self.headers: list[str] = list(headers or [])  # the quotes shown above each answer (Markdown, escaped)
        self.answers: list[Answer] = list(answers or [])  # each answer in full, for the export
        self.last: Answer | None = None
        self.last_collection: str | None = None
        self.stop = threading.Event()
        self.armed = False  # set by the tab's first answer: from then on, copies share this Stop signal

    def __deepcopy__(self, memo: dict) -> "ChatSession":
        # gr.State deep-copies its initial value for each new tab, which must get a Stop of its own; a copy
        # of a tab's session made while an answer runs must keep that answer's Stop, or Stop is lost.
        clone = ChatSession(history=copy.deepcopy(self.history, memo), footers=list(self.footers),
                            answers=list(self.answers), headers=list(self.headers))
        if self.armed:
            clone.stop, clone.armed = self.stop, True
        return clone

    def remember(self, question: str, answer: str, footer: str = "", *, full: Answer | None = None,
                 header: str = "") -> None:
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        self.footers.append(footer)
        self.headers.append(header)
        if full is not None:
            self.answers.append(full)

    def forget_last(self) -> str | None:
        """Drop the last question and its answer (to ask it again); returns the question."""
        if len(self.history) < 2:
            return None
        question = self.history[-2]["content"]
        del self.history[-2:]
        self.footers = self.footers[:-1]
        self.headers = self.headers[:-1]
        if self.answers and self.answers[-1].question == question:
            self.answers.pop()
        self.last = None
        return question

    def clear(self) -> None:
        self.history.clear()
        self.footers.clear()
        self.headers.clear()
        self.answers.clear()
        self.last = None

    def shown(self) -> list[dict]:
        """The conversation as the Chatbot shows it: every message escaped, the quotes above each answer and
        the cited sources under it."""
        out, answers, quotes = [], iter(self.footers), iter(self.headers)
        for message in self.history:
            content = escape_text(message["content"])
            if message["role"] == "assistant":
                content = next(quotes, "") + content + next(answers, "")
            out.append({"role": message["role"], "content": content})
        return out


class ChatPanel:
    """Asking and what goes with it: the streamed answer, its sources, stats, context meter and preview."""

    def __init__(self, folio: Folio) -> None:
        self.folio = folio

    def begin(self, session: ChatSession) -> None:
        """Ready the tab for a new answer (runs at the click, before the answer is queued): a Stop pressed from
        now on, while the answer waits its turn, is searched for or read, stops it."""
        session.armed = True
        session.stop.clear()

    @user_errors
    def chat(self, question: str, session: ChatSession, language: str = "auto", collection: str | None = None,
             scope: list[str] | None = None, ui: str = "en", whole_window: bool = False) -> Iterator[tuple]:
        """Stream one answer: (question box, chat, sources, stats, context meter, preview picker, whole-window
        button) per update. The quotes come first, then the answer streams below them."""
        question = (question or "").strip()
        if not question:
            raise FolioError(t(ui, "type_question"))
        collection = collection or None
        doc_ids = service.doc_ids(self.folio, scope, collection=collection)
        session.last = None
        shown = session.shown() + [{"role": "user", "content": escape_text(question)}]
        skip = gr.skip()
        yield ("", shown + [{"role": "assistant", "content": ""}], "", t(ui, "searching"), "",
               gr.update(choices=[], value=None), gr.update(visible=False))
        pieces: list[str] = []
        header = ""
        events = service.answer_events(self.folio, question, language=language or None, history=list(session.history),
                                       collection=collection, doc_ids=doc_ids, stop=session.stop,
                                       whole_window=whole_window)
        for event in events:
            if isinstance(event, Token):
                pieces.append(event.text)
                reply = {"role": "assistant", "content": header + escape_text("".join(pieces))}
                yield skip, shown + [reply], skip, skip, skip, skip, skip
            elif isinstance(event, Quotes):
                header = quotes_markdown(event.quotes, language=ui)
                if header:
                    yield skip, shown + [{"role": "assistant", "content": header}], skip, skip, skip, skip, skip
            elif isinstance(event, Sources):
                yield (skip, skip, sources_html(event.sources, language=ui), skip, meter_html(event.meter, language=ui),
                       skip, gr.update(visible=budget_limited(event.meter)))
            elif isinstance(event, Reading):
                yield skip, skip, skip, escape_text(reading_line(event.fraction, language=ui)), skip, skip, skip
            elif isinstance(event, Status):
                yield skip, skip, skip, escape_text(t(ui, event.stage).format(query=event.detail)), skip, skip, skip
            elif isinstance(event, Done):
                answer = event.answer
                session.remember(question, answer.text, cited_footer(answer, language=ui), full=answer, header=header)
                session.last, session.last_collection = answer, collection  # the preview looks sources up there
                cited = answer.citations.cited
                choices = [(source_label(s, language=ui), s.n) for s in answer.sources]
                first = cited[0] if cited else (choices[0][1] if choices else None)
                yield (skip, session.shown(),
                       sources_html(answer.sources, cited=cited, spans=answer.citations.spans(), language=ui),
                       stats_markdown(answer, self.folio.chat.info, language=ui), meter_html(answer.meter, language=ui),
                       gr.update(choices=choices, value=first), skip)

    @user_errors
    def regenerate(self, session: ChatSession, language: str = "auto", collection: str | None = None,
                   scope: list[str] | None = None, ui: str = "en", whole_window: bool = False) -> Iterator[tuple]:
        """Ask the last question again, in place of its answer (with the whole window when ``whole_window``)."""
        question = session.forget_last()
        if question is None:
            raise FolioError(t(ui, "nothing_to_regenerate"))
        yield from self.chat(question, session, language, collection, scope, ui, whole_window)

    def whole_window(self, session: ChatSession, language: str = "auto", collection: str | None = None,
                     scope: list[str] | None = None, ui: str = "en") -> Iterator[tuple]:
        """The last question asked again with the whole window, however long its first word takes."""
        yield from self.regenerate(session, language, collection, scope, ui, True)

    def stop(self, session: ChatSession) -> None:
        """Stop the answer in progress: in the queue for the model, while the model reads, or after the current token."""
        session.stop.set()

    def clear(self, session: ChatSession) -> tuple:
        """Start a new conversation (the Chatbot's bin icon)."""
        session.clear()
        return [], "", "", "", gr.update(choices=[], value=None), gr.update(visible=False)

    def preview(self, number: int | None, session: ChatSession, ui: str = "en") -> tuple:
        """The cited page of source ``number`` of the last answer: an image for PDFs, marked text otherwise."""
        answer = session.last
        source = next((s for s in (answer.sources if answer else ()) if s.n == number), None)
        if source is None:
            return gr.update(value=None, visible=False), ""
        collection = session.last_collection
        record = self.folio.store(collection).find(source.doc_id)
        shown = preview_source(record=record, source=source, spans=answer.citations.spans().get(number, []),
                               language=ui, chunks_of_page=lambda: service.page_chunks(
                                   self.folio, source.doc_id, source.page, collection=collection))
        return gr.update(value=shown.image, visible=shown.image is not None), shown.html
