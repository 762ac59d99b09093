"""Fill the model's window with whole passages, counted with the model's own tokenizer.

The budget is ``n_ctx - answer_tokens``: the prompt (rules, sources, history, question, chat
template) never takes the room reserved for the answer, so "Requested tokens exceed context
window" cannot happen. Passages are added in rank order while they fit; the final prompt is
counted exactly and trimmed if the estimate was short by a token or two. When not even the best
passage fits whole, its head is kept, cut at a sentence boundary. In the prompt the strongest
passages stand at the start and the end (:func:`strongest_at_the_edges`).

>>> from core.chat import FakeChatModel
>>> from rag.documents import Chunk, Passage
>>> ps = [Passage(Chunk("d", "a.txt", 1, 0, 0, "word " * 50, "en", i, "0" * 64), 1.0 - i / 10) for i in range(10)]
>>> model = FakeChatModel(n_ctx=300)
>>> packed = pack(ps, question="Why?", language="en", count_tokens=model.count_tokens, n_ctx=300, answer_tokens=64)
>>> len(packed.passages), len(packed.left_out), packed.prompt_tokens <= 300 - 64
(2, 8, True)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from core.chat import Message
from rag.documents import Passage
from core.errors import FolioError
from rag.prompting import build_messages, format_source


@dataclass(frozen=True)
class PackedContext:
    """What went into the prompt, and the context meter: tokens per part out of ``n_ctx``."""

    messages: list[Message]
    passages: tuple[Passage, ...]
    left_out: tuple[Passage, ...]
    prompt_tokens: int
    n_ctx: int
    answer_tokens: int
    parts: dict[str, int] = field(default_factory=dict)

    def meter(self) -> dict:
        return {"n_ctx": self.n_ctx, "prompt_tokens": self.prompt_tokens, "answer_reserve": self.answer_tokens,
                "parts": dict(self.parts), "passages_in": len(self.passages), "passages_left_out": len(self.left_out)}


def pack(passages: Sequence[Passage], *, question: str, language: str, count_tokens: Callable[[Sequence[Message]], int],
         n_ctx: int, answer_tokens: int, history: Sequence[Message] = ()) -> PackedContext:
    """Messages holding as many of ``passages`` (best first) as fit in ``n_ctx - answer_tokens``.

    History is dropped oldest-first when the question and rules alone would not leave room for
    at least one passage. Raises :class:`FolioError` when even the bare question does not fit.
    """
    limit = n_ctx - answer_tokens
    history = list(history)
    base = count_tokens(build_messages(question, [], language=language, history=history))
    while history and base > limit // 2:
        history = history[2:]
        base = count_tokens(build_messages(question, [], language=language, history=history))
    if base > limit:
        raise FolioError(f"The question is too long for the model's {n_ctx}-token window; shorten it or raise FOLIO_N_CTX.")
    chosen: list[Passage] = []
    estimate = base
    for passage in passages:
        cost = count_tokens([{"role": "user", "content": format_source(len(chosen) + 1, passage)}]) \
            - count_tokens([{"role": "user", "content": ""}]) + 2
        if estimate + cost <= limit:
            chosen.append(passage)
            estimate += cost
    messages = build_messages(question, strongest_at_the_edges(chosen), language=language, history=history)
    total = count_tokens(messages)
    while total > limit and chosen:
        chosen.pop()
        messages = build_messages(question, strongest_at_the_edges(chosen), language=language, history=history)
        total = count_tokens(messages)
    if not chosen and passages:
        shortened = _shorten_to_fit(passages[0], fits=lambda p: count_tokens(
            build_messages(question, [p], language=language, history=history)) <= limit)
        if shortened is not None:
            chosen = [shortened]
            messages = build_messages(question, chosen, language=language, history=history)
            total = count_tokens(messages)
    kept = {p.chunk.chunk_id for p in chosen}
    left_out = tuple(p for p in passages if p.chunk.chunk_id not in kept)
    question_tokens = count_tokens([{"role": "user", "content": question}]) - count_tokens([{"role": "user", "content": ""}])
    history_tokens = count_tokens(build_messages(question, [], language=language, history=history)) \
        - count_tokens(build_messages(question, [], language=language))
    parts = {"sources": max(0, total - base), "history": max(0, history_tokens), "question": max(0, question_tokens),
             "instructions": max(0, base - history_tokens - question_tokens), "answer_reserve": answer_tokens}
    return PackedContext(messages=messages, passages=tuple(strongest_at_the_edges(chosen)), left_out=left_out, prompt_tokens=total,
                         n_ctx=n_ctx, answer_tokens=answer_tokens, parts=parts)


def strongest_at_the_edges(ranked: list[Passage]) -> list[Passage]:
    """Prompt order for passages ranked best first: the strongest at the start and the end, the
    weakest in the middle, where long-context models attend least ("lost in the middle").

    >>> [p for p in strongest_at_the_edges([1, 2, 3, 4, 5])]
    [1, 3, 5, 4, 2]
    """
    return ranked[0::2] + ranked[1::2][::-1]


_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def _shorten_to_fit(passage: Passage, *, fits: Callable[[Passage], bool]) -> Passage | None:
    """The longest head of ``passage`` that fits, cut at a sentence boundary (at a word one if no
    sentence fits); ``None`` when not even a few words do."""
    for pieces, joiner in ((_SENTENCE_END.split(passage.text), " "), (passage.text.split(), " ")):
        low, high, best = 1, len(pieces), None
        while low <= high:
            middle = (low + high) // 2
            text = joiner.join(pieces[:middle])
            candidate = Passage(replace(passage.chunk, text=text, end=passage.chunk.start + len(text)), passage.score)
            if fits(candidate):
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        if best is not None and len(best.text.split()) >= 5:
            return best
    return None
