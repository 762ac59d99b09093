"""A model behind an OpenAI-compatible HTTP server (vLLM, llama.cpp's server, llama-cpp-python's server),
as a :class:`core.chat.ChatModel`.

:meth:`OpenAIChatModel.stream` posts to ``{url}/v1/chat/completions`` with ``stream: true`` and
yields the content of each server-sent event; setting the ``stop`` event closes the response at the
next event (a token, or a keep-alive ping while the server reads the prompt), which tells the server
to stop generating. The server applies the model's chat template.

At construction the model asks ``/v1/models`` for the model's id (its ``name``) and, where the server
reports it, the window it serves (vLLM's ``max_model_len``, llama.cpp's ``/props``); ``n_ctx`` is the
smaller of that and the ``n_ctx`` given (FOLIO_N_CTX: set it to the server's window where the server
does not say, as llama-cpp-python's does not).

:meth:`OpenAIChatModel.count_tokens` uses the first of these the server offers, found on first use:

1. vLLM's ``POST /tokenize`` with the messages: exact, chat template included;
2. llama.cpp's ``POST /apply-template`` then ``POST /tokenize``: exact, chat template included;
3. llama.cpp's ``POST /tokenize`` or llama-cpp-python's ``POST /extras/tokenize`` on the messages
   concatenated as plain ``role\\ncontent`` lines (no template), plus a safety margin of
   :data:`MESSAGE_MARGIN` tokens per message (the template's role markers) and :data:`TEMPLATE_MARGIN`
   tokens once (generation prompt, BOS, and the default system prompt some templates insert, e.g.
   SmolLM2's or Llama 3.1's). The count may exceed the real one by those margins, never fall short;
4. otherwise :meth:`core.chat.ChatModel.count_tokens`' conservative estimate (two characters a token).

Counts are cached per message list, as the packer asks about the same messages repeatedly.

An optional bearer token is sent when ``api_key`` is given (Folio passes its ``llm_api_key`` setting).
Every failure becomes a :class:`core.errors.ModelError` of one sentence naming the server and the fix.

llama-cpp-python's server interrupts a running stream whenever another request arrives (its
``interrupt_requests`` setting, on by default), and token counting is a request; run it with
``--interrupt_requests False`` when several people share it.

The pure part, one event stream to its text:

>>> events = ['data: {"choices":[{"delta":{"role":"assistant"}}]}', "",
...           'data: {"choices":[{"delta":{"content":"Depots open"}}]}', ": ping",
...           'data: {"choices":[{"delta":{"content":" at six."}}]}', "data: [DONE]"]
>>> "".join(sse_deltas(events))
'Depots open at six.'

Against a running server (``python -m llama_cpp.server --model M.gguf --port 8000``):

>>> model = OpenAIChatModel("http://127.0.0.1:8000", n_ctx=2048)  # doctest: +SKIP
>>> "".join(model.stream([{"role": "user", "content": "Say hi"}], max_tokens=8))  # doctest: +SKIP
'Hi! How can I help you today?'
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

import httpx

from core.chat import ChatModel, Message
from core.errors import ModelError

__all__ = ["MESSAGE_MARGIN", "TEMPLATE_MARGIN", "OpenAIChatModel", "plain_text", "sse_deltas"]

#: Tokens added per message when counting without the chat template (role markers such as
#: ``<|im_start|>user\n`` … ``<|im_end|>\n`` or ``[INST]`` … ``[/INST]`` take 3 to 6).
MESSAGE_MARGIN = 8
#: Tokens added once when counting without the chat template: the generation prompt, BOS, and a
#: default system prompt that some templates insert when none is given (SmolLM2's takes ~20).
TEMPLATE_MARGIN = 48

_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


class OpenAIChatModel(ChatModel):
    """A chat model served over HTTP by an OpenAI-compatible engine."""

    def __init__(self, url: str, *, n_ctx: int = 4096, api_key: str = "", timeout: float = 600.0,
                 connect_timeout: float = 5.0, transport: httpx.BaseTransport | None = None) -> None:
        self.url = _base_url(url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.url, headers=headers, transport=transport,
                                    timeout=httpx.Timeout(timeout, connect=connect_timeout))
        self._timeout = timeout
        self.model_id, server_ctx = self._describe()
        self.name = _display_name(self.model_id) if self.model_id else httpx.URL(self.url).host or self.url
        self.n_ctx = min(n_ctx, server_ctx) if server_ctx else n_ctx
        self.token_counting = ""  # "vllm", "llama.cpp", "plain" or "estimate", set on first count
        self._count_cached = functools.lru_cache(maxsize=1024)(self._count)
        self._probe_lock = threading.Lock()

    # -- generation ----------------------------------------------------------------------
    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.2,
               stop: threading.Event | None = None) -> Iterator[str]:
        body: dict[str, Any] = {"messages": [dict(m) for m in messages], "max_tokens": max_tokens,
                                "temperature": temperature, "stream": True}
        if self.model_id:
            body["model"] = self.model_id
        if stop is not None and stop.is_set():
            return
        with _server_errors(self.url, self._timeout), \
                self._client.stream("POST", "/v1/chat/completions", json=body) as response:
            _raise_for_status(response, self.url)
            for text in sse_deltas(response.iter_lines(), server=self.url):
                if stop is not None and stop.is_set():
                    return  # leaving the block closes the response: the server stops generating
                yield text

    # -- tokens --------------------------------------------------------------------------
    def count_tokens(self, messages: Sequence[Message]) -> int:
        return self._count_cached(tuple((m["role"], m["content"]) for m in messages))

    def _count(self, key: tuple[tuple[str, str], ...]) -> int:
        messages = [{"role": role, "content": content} for role, content in key]
        if not self.token_counting:
            with self._probe_lock:
                self.token_counting = self.token_counting or self._find_token_counting()
        with _server_errors(self.url, self._timeout), contextlib.suppress(_Unsupported):
            if self.token_counting == "vllm":
                return self._vllm_count(messages)
            if self.token_counting == "llama.cpp":
                return len(self._llamacpp_tokens(self._post("/apply-template", {"messages": messages})["prompt"]))
            if self.token_counting == "plain":
                return len(self._plain_tokens(plain_text(messages))) + MESSAGE_MARGIN * len(messages) + TEMPLATE_MARGIN
        return super().count_tokens(messages)

    def _find_token_counting(self) -> str:
        """The most exact way this server offers to count a prompt's tokens (see the module docstring)."""
        probe = [{"role": "user", "content": "Hello"}]
        with _server_errors(self.url, self._timeout):
            with contextlib.suppress(_Unsupported):
                self._vllm_count(probe)
                return "vllm"
            with contextlib.suppress(_Unsupported):
                self._llamacpp_tokens("Hello")
                self._plain_tokens = self._llamacpp_tokens
                with contextlib.suppress(_Unsupported, KeyError, TypeError):
                    templated = self._post("/apply-template", {"messages": probe})["prompt"]
                    return "llama.cpp" if isinstance(templated, str) else "plain"
                return "plain"
            with contextlib.suppress(_Unsupported):
                self._extras_tokens("Hello")
                self._plain_tokens = self._extras_tokens
                return "plain"
        return "estimate"

    def _vllm_count(self, messages: list[Message]) -> int:
        """vLLM: the messages through the chat template, counted by the server."""
        answer = self._post("/tokenize", {"model": self.model_id, "messages": messages, "add_generation_prompt": True})
        if not isinstance(answer.get("count"), int):
            raise _Unsupported
        return answer["count"]

    def _llamacpp_tokens(self, text: str) -> list:
        """llama.cpp's server: ``text`` tokenized with BOS, special tokens parsed."""
        tokens = self._post("/tokenize", {"content": text, "add_special": True}).get("tokens")
        if not isinstance(tokens, list) or (text and not tokens):
            raise _Unsupported
        return tokens

    def _extras_tokens(self, text: str) -> list:
        """llama-cpp-python's server: ``text`` tokenized with BOS, special tokens parsed."""
        tokens = self._post("/extras/tokenize", {"input": text}).get("tokens")
        if not isinstance(tokens, list):
            raise _Unsupported
        return tokens

    _plain_tokens = _extras_tokens  # replaced per instance by the tokenizer endpoint found

    # -- plumbing ------------------------------------------------------------------------
    def _describe(self) -> tuple[str, int]:
        """The served model's id (``""`` if the server lists none) and its window (0 if unreported)."""
        with _server_errors(self.url, self._timeout):
            response = self._client.get("/v1/models")
            if response.status_code == 404:
                return "", self._props_ctx()
            _raise_for_status(response, self.url)
        try:
            models = response.json().get("data") or [{}]
        except (ValueError, AttributeError):
            models = [{}]
        model_id = str(models[0].get("id") or "")
        return model_id, int(models[0].get("max_model_len") or 0) or self._props_ctx()

    def _props_ctx(self) -> int:
        """llama.cpp server's window per slot, from ``/props``; 0 where the server has no such endpoint."""
        with _server_errors(self.url, self._timeout):
            response = self._client.get("/props")
        if response.status_code != 200:
            return 0
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            props = response.json()
            return int((props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx") or 0)
        return 0

    def _post(self, path: str, body: dict) -> dict:
        response = self._client.post(path, json=body)
        if response.status_code in (400, 404, 405, 422, 501):
            raise _Unsupported
        _raise_for_status(response, self.url)
        try:
            answer = response.json()
        except ValueError:
            raise _Unsupported from None
        if not isinstance(answer, dict):
            raise _Unsupported
        return answer

    def close(self) -> None:
        self._client.close()


class _Unsupported(Exception):
    """The server has no such endpoint (or answers it in another shape)."""


def sse_deltas(lines: Iterable[str], *, server: str = "the model server") -> Iterator[str]:
    """The text of each chat-completion chunk in a server-sent event stream, up to ``data: [DONE]``.

    Comments (``: ping``), blank lines and chunks without content (the role header, the final
    ``finish_reason`` chunk) yield nothing; an ``error`` payload raises :class:`ModelError`.
    """
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            continue
        if "error" in chunk:
            error = chunk["error"]
            detail = error.get("message", error) if isinstance(error, dict) else error
            raise ModelError(f"The model server at {server} failed mid-answer ({_one_line(detail)}); check its log.")
        choices = chunk.get("choices") or [{}]
        text = (choices[0].get("delta") or {}).get("content")
        if text:
            yield text


def plain_text(messages: Sequence[Message]) -> str:
    """Messages as ``role\\ncontent`` blocks, without any chat template: what the margins are added to."""
    return "\n".join(f"{m['role']}\n{m['content']}" for m in messages)


@contextlib.contextmanager
def _server_errors(url: str, timeout: float) -> Iterator[None]:
    """Turn transport failures into one-sentence :class:`ModelError`s naming the server and the fix."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise ModelError(f"The model server at {url} could not be reached ({_reason(error)}); "
                         "start it or unset FOLIO_LLM_URL.") from None
    except httpx.TimeoutException:
        raise ModelError(f"The model server at {url} did not answer within {timeout:g} seconds; "
                         "check that it is running and not overloaded.") from None
    except httpx.TransportError as error:
        raise ModelError(f"The connection to the model server at {url} broke ({_reason(error)}); "
                         "check the server's log and try again.") from None


def _raise_for_status(response: httpx.Response, url: str) -> None:
    if response.status_code < 400:
        return
    response.read()
    detail = _one_line(response.text)
    if response.status_code in (401, 403):
        raise ModelError(f"The model server at {url} refused the request (HTTP {response.status_code}: {detail}); "
                         "set FOLIO_LLM_API_KEY to its API key.")
    fix = ("check that FOLIO_LLM_URL points at an OpenAI-compatible server" if response.status_code in (404, 405)
           else "check its log, and that FOLIO_N_CTX is no larger than the server's window")
    raise ModelError(f"The model server at {url} answered HTTP {response.status_code} ({detail}); {fix}.")


def _base_url(url: str) -> str:
    """``http://host:8000/v1/`` and ``http://host:8000`` both become ``http://host:8000``."""
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://", url):
        raise ModelError(f"FOLIO_LLM_URL must start with http:// or https://, not '{url}'; fix it or unset it.")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _display_name(model_id: str) -> str:
    """A model id for people: a served GGUF's path becomes its file stem."""
    return PurePosixPath(model_id).stem if model_id.endswith(".gguf") else model_id


def _reason(error: Exception) -> str:
    text = _ERRNO.sub("", str(error)) or type(error).__name__
    return _one_line(text[:1].lower() + text[1:])


def _one_line(detail: object, limit: int = 200) -> str:
    """Detail text that cannot break the one-sentence message: one line, no sentence end, bounded."""
    text = " ".join(str(detail).split()).rstrip(".")
    text = text.replace(". ", "; ").replace("! ", "; ").replace("? ", "; ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
