"""The small interface the answering code needs from a language model, and a fake for unit tests.

``inference`` implements :class:`ChatModel` (llama.cpp in-process, or an OpenAI-compatible server);
``app`` hands one in. ``rag`` never imports a model runtime.

:meth:`ChatModel.stream` (text pieces) is the one required method. :meth:`ChatModel.stream_events`
is the same answer with what happens before its first word: :class:`Waiting` while another answer
holds the model, :class:`PromptRead` as the prompt is read. Backends that cannot tell (a remote
engine, the fake) inherit the default, which yields the text only.

>>> model = FakeChatModel(n_ctx=512)
>>> "".join(model.stream([{"role": "user", "content": "<source n=\\"1\\">Depots open at six.</source> When?"}], max_tokens=20))
'Depots open at six. [1]'
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

Message = dict[str, str]


@dataclass(frozen=True)
class Waiting:
    """The model is busy with another answer; this one waits its turn (Stop leaves the queue)."""


@dataclass(frozen=True)
class PromptRead:
    """Reading the prompt: ``done`` of ``total`` new tokens evaluated after ``seconds`` (a prefix already in
    the model's cache is not counted). The last one of an answer has ``done == total``.

    >>> PromptRead(done=256, total=1024, seconds=2.0).fraction
    0.25
    """

    done: int
    total: int
    seconds: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ModelEvent = str | Waiting | PromptRead


class ChatModel(ABC):
    """A chat model: streams the answer to a list of messages; counts prompt tokens exactly."""

    name: str = "model"
    n_ctx: int = 2048

    @abstractmethod
    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.2,
               stop: threading.Event | None = None) -> Iterator[str]:
        """Yield the answer's text piece by piece (about a token each); stop early when ``stop`` is set."""

    def stream_events(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.2,
                      stop: threading.Event | None = None) -> Iterator[ModelEvent]:
        """:meth:`stream`, with :class:`Waiting` and :class:`PromptRead` before the text where the backend knows."""
        if stop is not None and stop.is_set():
            return
        yield from self.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the prompt for ``messages`` takes, chat template included.

        The default over-estimates (two characters a token) so that a backend without a tokenizer
        never overflows its window; real backends count with the model's own tokenizer.
        """
        return sum(len(m["content"]) // 2 + 8 for m in messages) + 8

    def close(self) -> None:
        """Release the model."""


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_FIRST_SOURCE = re.compile(r'<source n="(\d+)"[^>]*>\s*(.*?)\s*</source>', re.S)


class FakeChatModel(ChatModel):
    """Answers with the first sentence of the first source and cites it. Deterministic; for tests."""

    name = "fake-chat"

    def __init__(self, *, n_ctx: int = 2048) -> None:
        self.n_ctx = n_ctx
        self.calls: list[list[Message]] = []

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.2,
               stop: threading.Event | None = None) -> Iterator[str]:
        self.calls.append(list(messages))
        prompt = "\n".join(m["content"] for m in messages)
        found = _FIRST_SOURCE.search(prompt)
        answer = f"{_SENTENCE_END.split(found.group(2))[0]} [{found.group(1)}]" if found else "I don't know."
        for position, word in enumerate(answer.split(" ")[:max_tokens]):
            if stop is not None and stop.is_set():
                return
            yield word if position == 0 else " " + word

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages) + 2
