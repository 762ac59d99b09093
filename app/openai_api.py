"""An OpenAI-compatible endpoint, so chat clients (Open WebUI, LibreChat, the ``openai`` package) ask Folio.

``folio serve --openai`` (or ``openai_api = true``) mounts two routes beside the page:

- ``GET /v1/models``: one model per collection — ``folio`` (the configured collection) and ``folio/<collection>``;
- ``POST /v1/chat/completions``, streamed (``"stream": true``, server-sent events) or not.

The answer is Folio's answer, from :func:`app.service.answer_events` — retrieval, packing, the language
rule, the citation check — never the client's prompt: a system message and sampling options
(``temperature``, ``max_tokens``) are ignored, since the settings decide them. The client sends the
whole conversation; its earlier turns are Folio's history, so a follow-up is rewritten into a
standalone question (:func:`conversation`). An assistant turn's "Sources:" block is dropped from it.

The sources come twice: as a final ``Sources:`` block in the text, so a plain client shows them, and in
the extra top-level field ``folio`` of the response (of the last chunk when streaming):
``{"collection", "language", "answer_language", "sources": [{"n", "source", "page", "text", "cited",
"quote", "cite_as", ...}], "citations", "stats", "model", "standalone_question"?}``. A request may
add ``"folio": {"language": "fr", "documents": ["guide.pdf"]}`` to choose the answer language and
the documents to answer from.

Concurrent requests queue for the one in-process model (its lock in :mod:`inference.llama`); a
client that goes away stops its answer after the current token.

>>> model_ids(["default", "manuals"])
['folio', 'folio/default', 'folio/manuals']
>>> collection_of("folio/manuals", ["default", "manuals"], default="default")
'manuals'
>>> question, history = conversation([
...     {"role": "system", "content": "Be brief."},
...     {"role": "user", "content": "When does the depot open?"},
...     {"role": "assistant", "content": "At 05:30 [1].\\n\\nSources:\\n[1] depots.pdf, p. 2"},
...     {"role": "user", "content": [{"type": "text", "text": "And on Sundays?"}]}])
>>> question, history
('And on Sundays?', [{'role': 'user', 'content': 'When does the depot open?'}, {'role': 'assistant', 'content': 'At 05:30 [1].'}])
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from app import service
from app.export import quote
from app.factory import Folio
from core.errors import FolioError
from rag.answering import Answer, Done, Token
from rag.documents import LANGUAGES

MODEL = "folio"
SOURCES_HEADING = "Sources:"


class ApiError(Exception):
    """A request refused with an OpenAI-style error body: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


# -- the pure part: models, the conversation, the sources ------------------------------------------
def model_ids(collections: Sequence[str]) -> list[str]:
    """The models a client may pick: ``folio`` and ``folio/<collection>`` for each collection."""
    return [MODEL, *(f"{MODEL}/{name}" for name in collections)]


def collection_of(model: str, collections: Sequence[str], *, default: str) -> str:
    """The collection a model id names; an unknown id is refused (404, like OpenAI's ``model_not_found``)."""
    if model == MODEL:
        return default
    name = model.removeprefix(f"{MODEL}/") if model.startswith(f"{MODEL}/") else None
    if name not in collections:
        raise ApiError(404, f"The model '{model}' does not exist; GET /v1/models lists them "
                            f"({', '.join(model_ids(collections))}).", code="model_not_found", param="model")
    return name


def _text(content: Any, position: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    if content is None:
        return ""
    raise ApiError(400, f"messages[{position}].content must be a string or a list of text parts.",
                   param=f"messages[{position}].content")


def without_sources(text: str) -> str:
    """An answer's text without the "Sources:" block this endpoint appended to it.

    >>> without_sources("At six [1].\\n\\nSources:\\n[1] a.txt, p. 1")
    'At six [1].'
    """
    head, found, _ = text.rpartition(f"\n\n{SOURCES_HEADING}\n")
    return head.strip() if found else text.strip()


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """The question (the last user message) and the history before it (user and assistant turns)."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list of {role, content} objects.", param="messages")
    turns: list[dict] = []
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant",
                                                                          "tool"):
            raise ApiError(400, f"messages[{position}] needs a role of system, user or assistant.",
                           param=f"messages[{position}]")
        if message["role"] in ("user", "assistant"):
            text = _text(message.get("content"), position)
            turns.append({"role": message["role"],
                          "content": without_sources(text) if message["role"] == "assistant" else text.strip()})
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"]:
        raise ApiError(400, "The last message must be the user's question, with text.", param="messages")
    return turns[-1]["content"], [t for t in turns[:-1] if t["content"]]


def sources_block(answer: Answer) -> str:
    """The "Sources:" block appended to the text: the sources the answer cites (all, if it cites none).

    Empty when nothing was found (no sources).
    """
    cited = [s for s in answer.sources if s.n in answer.citations.cited] or list(answer.sources)
    if not cited:
        return ""
    lines = [f"[{s.n}] {s.source}, p. {s.page} — “{quote(answer, s.n, s.text)}”" for s in cited]
    return f"\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def folio_field(answer: Answer, collection: str) -> dict:
    """The documented extra field ``folio``: sources with page, the citation check, stats, model."""
    cited = set(answer.citations.cited)
    out = {"collection": collection, "language": answer.language, "answer_language": answer.answer_language,
           "sources": [s.as_dict() | {"cited": s.n in cited, "quote": quote(answer, s.n, s.text),
                                      "cite_as": f"{s.source}, p. {s.page}"} for s in answer.sources],
           "citations": answer.citations.as_dict(), "stats": answer.stats.as_dict(), "model": answer.model,
           "stopped": answer.stopped}
    if answer.extra.get("standalone_question"):
        out["standalone_question"] = answer.extra["standalone_question"]
    return out


def usage(answer: Answer) -> dict:
    prompt, completion = answer.stats.prompt_tokens, answer.stats.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


# -- the request ------------------------------------------------------------------------------------
class ChatRequest:
    """A checked ``/v1/chat/completions`` body: the collection, question, history and Folio's options."""

    def __init__(self, body: Any, *, folio: Folio) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ApiError(400, "model is required: 'folio' or 'folio/<collection>' (GET /v1/models lists them).",
                           param="model")
        self.model = model
        self.collection = collection_of(model, service.collection_names(folio), default=folio.settings.collection)
        self.question, self.history = conversation(body.get("messages"))
        self.stream = bool(body.get("stream"))
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        extra = body.get("folio") or {}
        if not isinstance(extra, dict):
            raise ApiError(400, "folio must be an object such as {\"language\": \"fr\"}.", param="folio")
        self.language = extra.get("language") or None
        if self.language not in (None, "auto", *LANGUAGES):
            raise ApiError(400, f"folio.language must be auto or one of {', '.join(LANGUAGES)}, not "
                                f"'{self.language}'.", param="folio.language")
        documents = extra.get("documents") or []
        if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
            raise ApiError(400, "folio.documents must be a list of document names or ids.", param="folio.documents")
        try:
            self.doc_ids = service.doc_ids(folio, documents, collection=self.collection)
        except FolioError as error:
            raise ApiError(404, str(error), param="folio.documents") from None

    def events(self, folio: Folio, stop: threading.Event) -> Iterator:
        return service.answer_events(folio, self.question, language=self.language, history=self.history,
                                     collection=self.collection, doc_ids=self.doc_ids, stop=stop)


# -- the routes -------------------------------------------------------------------------------------
def routes(folio: Folio) -> list:
    """The Starlette routes of ``/v1/models`` and ``/v1/chat/completions`` over ``folio``."""
    from starlette.routing import Route

    async def models(request) -> Any:
        from starlette.responses import JSONResponse

        names = service.collection_names(folio)
        return JSONResponse({"object": "list", "data": [{"id": model, "object": "model", "created": 0,
                                                         "owned_by": "folio"} for model in model_ids(names)]})

    async def completions(request) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse, StreamingResponse

        try:
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, "The request body is not valid JSON.") from None
            chat = await run_in_threadpool(ChatRequest, body, folio=folio)
            reply = Reply(chat.model)
            if chat.stream:
                return StreamingResponse(reply.stream(chat, folio), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
            answer = await run_in_threadpool(service.answer, folio, chat.question, language=chat.language,
                                             history=chat.history, collection=chat.collection, doc_ids=chat.doc_ids)
            return JSONResponse(reply.completion(answer, chat.collection))
        except ApiError as error:
            return JSONResponse(error.body(), status_code=error.status)
        except FolioError as error:  # the one place a FolioError becomes an API error
            return JSONResponse(ApiError(500, str(error), kind="folio_error").body(), status_code=500)

    return [Route("/v1/models", models, methods=["GET"]), Route("/v1/chat/completions", completions, methods=["POST"])]


class Reply:
    """One completion's id and time, and its bodies: the whole answer, or the server-sent chunks."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def completion(self, answer: Answer, collection: str) -> dict:
        message = {"role": "assistant", "content": answer.text + sources_block(answer)}
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                "usage": usage(answer), "folio": folio_field(answer, collection)}

    def chunk(self, delta: dict, *, finish: str | None = None, **extra) -> str:
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    async def stream(self, chat: ChatRequest, folio: Folio) -> AsyncIterator[str]:
        """The answer's chunks as they come, its "Sources:" block, a last chunk with ``folio``, then ``[DONE]``.

        Each event is taken from the answer in a worker thread (the model's lock may keep it waiting);
        when the client goes away, the answer is told to stop and closed, freeing the model.
        """
        import anyio.to_thread

        stop = threading.Event()
        events = chat.events(folio, stop)
        end = object()
        try:
            yield self.chunk({"role": "assistant", "content": ""})
            answer = None
            while (event := await anyio.to_thread.run_sync(next, events, end)) is not end:
                if isinstance(event, Token) and event.text:
                    yield self.chunk({"content": event.text})
                elif isinstance(event, Done):
                    answer = event.answer
            if answer is None:
                raise FolioError("The answer ended before it was complete; ask again.")
            block = sources_block(answer)
            if block:
                yield self.chunk({"content": block})
            yield self.chunk({}, finish="stop", folio=folio_field(answer, chat.collection))
            if chat.include_usage:
                last = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                        "choices": [], "usage": usage(answer)}
                yield f"data: {json.dumps(last)}\n\n"
            yield "data: [DONE]\n\n"
        except FolioError as error:  # mid-stream: an error event, which the openai client raises as an APIError
            yield f"data: {json.dumps(ApiError(500, str(error), kind='folio_error').body(), ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            stop.set()
            events.close()
