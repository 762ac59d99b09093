"""Question → answer with numbered sources, streamed as typed events.

retrieve → pack (token budget) → quotes → prompt (sources as data, language rule) → stream tokens →
check citations. The UI and CLI only show the events; all logic is here.

The events of one answer, in order: :class:`Status` (searching), :class:`Quotes` (the passages' best
sentences, at once), :class:`Sources` (what went into the prompt, and the context meter with its
:class:`rag.packing.Budget`), :class:`Status` (waiting for the model, reading the prompt) with
:class:`Reading` (the fraction of the prompt read), :class:`Token` s, :class:`Stats`, :class:`Done`.
With the machine's measured prompt speed (``prompt_tps``) the sources are sized to a first word
within ``ttft_target_s`` (:func:`rag.packing.first_word_budget`), and as many candidates are
retrieved as that budget needs; ``whole_window`` fills the window whatever the wait.

>>> import tempfile, pathlib
>>> from core.chat import FakeChatModel
>>> from rag.embedding import FakeEmbedder
>>> from rag.ingest import ingest
>>> from rag.index.manifest import Manifest
>>> from rag.index.client import open_client
>>> from rag.index.store import Store
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> _ = (home / "depots.txt").write_text("The depot opens at six.")
>>> store = Store(client=open_client(home / "i"), manifest=Manifest(home / "m"), collection="default",
...               embedder="fake-hash-64", dim=64)
>>> _ = list(ingest([home], store=store, embedder=FakeEmbedder()))
>>> result = ask("When does the depot open?", store=store, embedder=FakeEmbedder(), chat=FakeChatModel())
>>> result.text, result.language, [s.label for s in result.sources]
('The depot opens at six. [1]', 'en', ['[1] depots.txt, p. 1'])
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from rag import citations, whole
from core.chat import ChatModel, Message, PromptRead, Waiting
from rag.citations import CitationReport
from rag.documents import LANGUAGES, Source
from rag.embedding import Embedder
from rag.language import detect
from rag.packing import candidates_for, first_word_budget, pack, prompt_overhead
from rag.quotes import Quote, best_sentences
from rag.retrieval import search
from rag.translation import Translator
from rag.index.store import Store


@dataclass(frozen=True)
class Status:
    """What the answer is doing now: ``stage`` is one of :data:`STAGES`; ``detail`` e.g. the rewritten question."""

    stage: str
    detail: str = ""


STAGES = ("rewriting", "searching_for", "searching", "reading_whole", "waiting", "reading_prompt", "generating")


@dataclass(frozen=True)
class Quotes:
    """The retrieved passages' sentences that best answer the question, verbatim: shown before the model speaks."""

    quotes: list[Quote]


Reading = PromptRead  # the model is reading the prompt: the answer passes the model's own event on


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Sources:
    sources: list[Source]
    meter: dict


@dataclass(frozen=True)
class Stats:
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    tokens_per_s: float
    total_s: float
    read_tokens: int = 0     # prompt tokens the model actually read (a prefix in its cache is not read again)
    prefill_s: float = 0.0   # how long reading them took
    quotes_s: float = 0.0    # from asking to the quotes

    def as_dict(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "ttft_s": round(self.ttft_s, 3), "tokens_per_s": round(self.tokens_per_s, 1),
                "total_s": round(self.total_s, 3), "read_tokens": self.read_tokens,
                "prefill_s": round(self.prefill_s, 3), "quotes_s": round(self.quotes_s, 3)}


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    language: str
    answer_language: str
    sources: tuple[Source, ...]
    citations: CitationReport
    stats: Stats
    meter: dict
    model: str
    stopped: bool = False
    extra: dict = field(default_factory=dict)
    quotes: tuple[Quote, ...] = ()

    def as_dict(self) -> dict:
        return {"question": self.question, "answer": self.text, "language": self.language,
                "answer_language": self.answer_language, "quotes": [q.as_dict() for q in self.quotes],
                "sources": [s.as_dict() for s in self.sources],
                "citations": self.citations.as_dict(),
                "stats": self.stats.as_dict(), "context": self.meter, "model": self.model, "stopped": self.stopped,
                **self.extra}


@dataclass(frozen=True)
class Done:
    answer: Answer


Event = Status | Quotes | Sources | Reading | Token | Stats | Done

# Below this fused score no passage is about the question. Measured with bench/bench_levers.py on the
# installation guide and sample_docs (rag.retrieval.TUNING's scale: calibrated cosines + BM25): the weakest
# right answer scores 0.58 with both embedders and 0.48 with USE alone (before the second pass is done);
# 24 off-topic questions score -1.4 to 2.2. At 0.2 the floor turns away 9 of them and no right answer, with a
# margin for right answers in noisy chunks (one fact amid tables or OCR noise scores below the clean ones).
RELEVANCE_FLOOR = 0.2
NOTHING_FOUND = {
    "en": "I could not find anything about this in your documents.",
    "fr": "Je n'ai rien trouvé à ce sujet dans vos documents.",
    "de": "Dazu habe ich in Ihren Dokumenten nichts gefunden.",
    "es": "No he encontrado nada sobre esto en sus documentos.",
    "it": "Non ho trovato nulla su questo nei suoi documenti.",
}


def choose_language(question: str, requested: str = "auto") -> str:
    """The answer's language: the one asked for, else the question's (English when unsure)."""
    if requested in LANGUAGES:
        return requested
    detected = detect(question)
    return detected if detected in LANGUAGES else "en"


def answer_stream(question: str, *, store: Store, embedder: Embedder, chat: ChatModel, language: str = "auto",
                  history: Sequence[Message] = (), k: int | None = None, answer_tokens: int = 512,
                  temperature: float = 0.2, doc_ids: list[str] | None = None, stop: threading.Event | None = None,
                  relevance_floor: float = RELEVANCE_FLOOR, prompt_tps: float | None = None,
                  ttft_target_s: float = 10.0, whole_window: bool = False, second: Embedder | None = None,
                  translator: Translator | None = None) -> Iterator[Event]:
    """Stream the events of answering ``question``: status, quotes, sources, reading, tokens, stats, the answer.

    ``k`` candidates are retrieved (None: as many as the budget needs, :func:`rag.packing.candidates_for`).
    When no passage is relevant enough (``relevance_floor``), the answer says so in the question's
    language, without asking the model: nothing is invented. A set ``stop`` is honoured at every
    stage: while waiting for the model, while it reads the prompt, and between tokens. ``second`` is the
    second pass's embedder, whose index joins the search (:func:`rag.retrieval.search`); with a
    ``translator``, the question is searched in the other languages too (:mod:`rag.translation`).
    """
    started = time.perf_counter()
    language = choose_language(question, language)
    query = question
    if history:
        yield Status("rewriting")
        query = standalone_question(question, history=history, chat=chat)
        yield Status("searching_for", query)
    else:
        yield Status("searching")
    asked = detect(query)
    translations = translator.translate(query, source=asked if asked in LANGUAGES else "en") if translator else None
    budget = first_word_budget(target_s=ttft_target_s, prompt_tps=prompt_tps, n_ctx=chat.n_ctx,
                               answer_tokens=answer_tokens, whole=whole_window,
                               overhead_tokens=prompt_overhead(question, language=language, count_tokens=chat.count_tokens,
                                                               history=history))
    depth = k or candidates_for(budget.source_tokens)
    found = search(query, store=store, embedder=embedder, k=depth, candidates=max(40, 2 * depth),
                   doc_ids=doc_ids, second=second, translations=translations)
    passages = [p for p in found if p.score >= relevance_floor]
    if not passages and found and _names_a_document(question, query, store=store, doc_ids=doc_ids):
        passages = found  # "summarise the fleet report": its words name the document, they do not describe a passage
    if not passages:
        yield from _nothing_found(question, language=language, started=started, chat=chat)
        return
    mode = "passages"
    if whole.wants_whole_document(question):
        scope = doc_ids or [passages[0].chunk.doc_id]
        yield Status("reading_whole")
        packed, mode = whole.pack_whole(question, whole.document_passages(store, scope), chat=chat, language=language,
                                        answer_tokens=answer_tokens, history=history, stop=stop)
    else:
        packed = pack(passages, question=question, language=language, count_tokens=chat.count_tokens,
                      n_ctx=chat.n_ctx, answer_tokens=answer_tokens, history=history, budget=budget)
    quotes = best_sentences(query, packed.passages, language=detect(query) if query != question else language,
                            embed=embedder.embed)
    quotes_s = time.perf_counter() - started
    yield Quotes(quotes)
    sources = Source.numbered(packed.passages)
    yield Sources(sources, packed.meter())
    yield Status("reading_prompt")
    pieces: list[str] = []
    first_token_at = None
    read: PromptRead | None = None
    waited = False
    generation_started = time.perf_counter()
    events = chat.stream_events(packed.messages, max_tokens=answer_tokens, temperature=temperature, stop=stop)
    for event in events:
        if isinstance(event, Waiting):
            waited = True
            yield Status("waiting")
        elif isinstance(event, PromptRead):
            if waited:
                waited = False
                yield Status("reading_prompt")
            read = event
            if event.done < event.total:
                yield event
        else:
            if first_token_at is None:
                first_token_at = time.perf_counter()
                yield Status("generating")
            pieces.append(event)
            yield Token(event)
    finished = time.perf_counter()
    text = "".join(pieces).strip()
    completion_tokens = max(0, chat.count_tokens([{"role": "assistant", "content": text}])
                            - chat.count_tokens([{"role": "assistant", "content": ""}])) if text else 0
    ttft = (first_token_at or finished) - generation_started
    decode_time = finished - (first_token_at or finished)
    stats = Stats(prompt_tokens=packed.prompt_tokens, completion_tokens=completion_tokens, ttft_s=ttft,
                  tokens_per_s=(completion_tokens - 1) / decode_time if decode_time > 0 and completion_tokens > 1 else 0.0,
                  total_s=finished - started, read_tokens=read.total if read is not None else packed.prompt_tokens,
                  prefill_s=read.seconds if read is not None and read.done == read.total else ttft, quotes_s=quotes_s)
    yield stats
    yield Done(Answer(question=question, text=text, language=language, answer_language=detect(text),
                      sources=tuple(sources), citations=citations.verify(text, sources, embed=embedder.embed), stats=stats,
                      meter=packed.meter(), model=chat.name, stopped=bool(stop and stop.is_set()), quotes=tuple(quotes),
                      extra={"mode": mode, **({"standalone_question": query} if history else {})}))


def _names_a_document(question: str, query: str, *, store: Store, doc_ids: list[str] | None) -> bool:
    """A whole-document request whose words the keyword index finds: answered from that document, whatever
    the dense score of its passages (a request to summarise is never similar to what it summarises)."""
    if not whole.wants_whole_document(question):
        return False
    language = detect(query)
    return bool(store.keyword_query(query, k=1, doc_ids=doc_ids, language=language if language in LANGUAGES else "en"))


def standalone_question(question: str, *, history: Sequence[Message], chat: ChatModel) -> str:
    """The follow-up ``question`` rewritten by the model so that it stands alone (used for retrieval).

    A rewrite that is empty or rambles falls back to the previous question followed by this one.
    """
    from rag.prompting import rewrite_messages

    pieces = "".join(chat.stream(rewrite_messages(question, history), max_tokens=64, temperature=0.0))
    rewritten = pieces.strip().splitlines()[0].strip(" \"'") if pieces.strip() else ""
    if 3 <= len(rewritten) <= 3 * len(question) + 200:
        return rewritten
    previous = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
    return f"{previous} {question}".strip()


def _nothing_found(question: str, *, language: str, started: float, chat: ChatModel) -> Iterator[Event]:
    text = NOTHING_FOUND[language]
    yield Quotes([])
    yield Sources([], {"n_ctx": chat.n_ctx, "prompt_tokens": 0, "parts": {}, "passages_in": 0, "passages_left_out": 0})
    yield Token(text)
    stats = Stats(prompt_tokens=0, completion_tokens=0, ttft_s=0.0, tokens_per_s=0.0, total_s=time.perf_counter() - started)
    yield stats
    yield Done(Answer(question=question, text=text, language=language, answer_language=language, sources=(),
                      citations=citations.verify(text, []), stats=stats, meter={}, model=chat.name,
                      extra={"nothing_found": True}))


def final(events: Iterable[Event], *, on_event: Callable[[Event], None] | None = None) -> Answer:
    """The :class:`Answer` that ends a stream of ``events``; each event is also handed to ``on_event``."""
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, Done):
            return event.answer
    raise RuntimeError("the answer ended before it was complete")


def ask(question: str, **options) -> Answer:
    """:func:`answer_stream` run to the end; returns the final :class:`Answer`."""
    return final(answer_stream(question, **options))
