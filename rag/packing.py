"""Fill the model's window with whole passages, counted with the model's own tokenizer.

The budget is ``n_ctx - answer_tokens``: the prompt (rules, sources, history, question, chat
template) never takes the room reserved for the answer, so "Requested tokens exceed context
window" cannot happen. Passages are added in rank order while they fit; the final prompt is
counted exactly and trimmed if the estimate was short by a token or two. When not even the best
passage fits whole, its head is kept, cut at a sentence boundary. In the prompt the strongest
passages stand at the start and the end (:func:`strongest_at_the_edges`).

On a machine that reads prompts slowly the whole window is not worth its wait: :func:`first_word_budget`
sizes the sources to a time-to-first-token target from the measured prompt-reading speed, and
``pack(max_source_tokens=...)`` packs no more than that.

>>> from core.chat import FakeChatModel
>>> from rag.documents import Chunk, Passage
>>> ps = [Passage(Chunk("d", "a.txt", 1, 0, 0, "word " * 50, "en", i, "0" * 64), 1.0 - i / 10) for i in range(10)]
>>> model = FakeChatModel(n_ctx=300)
>>> packed = pack(ps, question="Why?", language="en", count_tokens=model.count_tokens, n_ctx=300, answer_tokens=64)
>>> len(packed.passages), len(packed.left_out), packed.prompt_tokens <= 300 - 64
(2, 8, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from core.chat import Message
from rag.documents import Passage
from core.errors import FolioError
from rag.prompting import build_messages, format_source


#: Source tokens packed however slow the machine: about three passages of 200-token chunks, so an
#: answer always has something to cite.
FLOOR_TOKENS = 768
#: Prompt tokens per retrieved passage, on average (a 200-token chunk, or neighbours merged into one
#: passage; sample_docs: 180-330), for how many candidates a budget needs.
PASSAGE_TOKENS = 250


@dataclass(frozen=True)
class Budget:
    """How many tokens of sources to pack, and why: ``reason`` is ``target`` (what the time target lets
    this machine read), ``floor`` (the target allows less than a few passages), ``whole`` (the whole
    window fits the target, or it was asked for) or ``unmeasured`` (no speed known yet: the whole window)."""

    source_tokens: int
    reason: str
    n_ctx: int
    target_s: float
    prompt_tps: float | None
    whole_window_s: float | None  # seconds to read a full window at the measured speed
    asked_whole: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def first_word_budget(*, target_s: float, prompt_tps: float | None, overhead_tokens: int, n_ctx: int,
                      answer_tokens: int, floor_tokens: int = FLOOR_TOKENS, whole: bool = False) -> Budget:
    """Source tokens for a first word within ``target_s`` seconds, reading at ``prompt_tps`` tokens/s.

    clamp(target_s × prompt_tps − overhead_tokens, floor_tokens, n_ctx − answer_tokens − overhead_tokens):
    the overhead (rules, history, question, template) is read too, the answer's reserve is never
    taken, and a floor of a few passages is kept however slow the machine. ``whole`` (or no measured
    speed) gives the whole window.

    A CPU reading 800 tokens/s, a 10 s target, a 32K window, 300 tokens of rules and question, 512
    reserved for the answer: 7,700 tokens of sources, where the whole window would take ~40 s.

    >>> b = first_word_budget(target_s=10, prompt_tps=800, overhead_tokens=300, n_ctx=32768, answer_tokens=512)
    >>> b.source_tokens, b.reason, round(b.whole_window_s)
    (7700, 'target', 40)

    An H100 reading 8,000 tokens/s fills the window; a slow CPU still gets the floor:

    >>> first_word_budget(target_s=10, prompt_tps=8000, overhead_tokens=300, n_ctx=32768, answer_tokens=512).source_tokens
    31956
    >>> first_word_budget(target_s=10, prompt_tps=40, overhead_tokens=300, n_ctx=32768, answer_tokens=512).reason
    'floor'
    """
    room = max(0, n_ctx - answer_tokens - overhead_tokens)
    whole_s = (n_ctx - answer_tokens) / prompt_tps if prompt_tps else None
    if whole or not prompt_tps:
        return Budget(room, "whole" if whole else "unmeasured", n_ctx, target_s, prompt_tps, whole_s, asked_whole=whole)
    wanted = math.floor(target_s * prompt_tps) - overhead_tokens
    floor = min(floor_tokens, room)
    if wanted >= room:
        return Budget(room, "whole", n_ctx, target_s, prompt_tps, whole_s)
    if wanted <= floor:
        return Budget(floor, "floor", n_ctx, target_s, prompt_tps, whole_s)
    return Budget(wanted, "target", n_ctx, target_s, prompt_tps, whole_s)


def candidates_for(source_tokens: int, *, passage_tokens: int = PASSAGE_TOKENS, at_least: int = 4,
                   at_most: int = 400) -> int:
    """How many passages to retrieve to fill ``source_tokens``: half as many again as fit, for the ones
    that are too long or fall under the relevance floor.

    >>> candidates_for(7700), candidates_for(768), candidates_for(31956)
    (47, 5, 192)
    """
    return max(at_least, min(at_most, math.ceil(1.5 * source_tokens / passage_tokens)))


def prompt_overhead(question: str, *, language: str, count_tokens: Callable[[Sequence[Message]], int],
                    history: Sequence[Message] = ()) -> int:
    """Tokens of the prompt without any source: rules, history, question and chat template."""
    return count_tokens(build_messages(question, [], language=language, history=list(history)))


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
    budget: Budget | None = None

    def meter(self) -> dict:
        meter = {"n_ctx": self.n_ctx, "prompt_tokens": self.prompt_tokens, "answer_reserve": self.answer_tokens,
                 "parts": dict(self.parts), "passages_in": len(self.passages), "passages_left_out": len(self.left_out)}
        if self.budget is not None:
            meter["budget"] = self.budget.as_dict()
        return meter


def pack(passages: Sequence[Passage], *, question: str, language: str, count_tokens: Callable[[Sequence[Message]], int],
         n_ctx: int, answer_tokens: int, history: Sequence[Message] = (), max_source_tokens: int | None = None,
         budget: Budget | None = None) -> PackedContext:
    """Messages holding as many of ``passages`` (best first) as fit in ``n_ctx - answer_tokens``, and in
    ``max_source_tokens`` (the :class:`Budget`'s, when one is given) of sources.

    History is dropped oldest-first when the question and rules alone would not leave room for
    at least one passage. Raises :class:`FolioError` when even the bare question does not fit.
    """
    window = n_ctx - answer_tokens
    history = list(history)
    base = count_tokens(build_messages(question, [], language=language, history=history))
    while history and base > window // 2:
        history = history[2:]
        base = count_tokens(build_messages(question, [], language=language, history=history))
    if base > window:
        raise FolioError(f"The question is too long for the model's {n_ctx}-token window; shorten it or raise FOLIO_N_CTX.")
    if max_source_tokens is None and budget is not None:
        max_source_tokens = budget.source_tokens
    limit = window if max_source_tokens is None else min(window, base + max(0, max_source_tokens))
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
                         n_ctx=n_ctx, answer_tokens=answer_tokens, parts=parts, budget=budget)


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
