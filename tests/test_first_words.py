"""Useful words at once: the context budget from the measured speed, quotes before the model speaks,
prompt-reading progress, and Stop at every stage — with the real bundled GGUF where a model is needed."""

from __future__ import annotations

import json
import threading
import time

import pytest

from app.pacing import Pacing, ema
from core.chat import FakeChatModel, PromptRead, Waiting
from rag.answering import Done, Quotes, Reading, Sources, Status, Token, answer_stream
from rag.documents import Chunk, Passage
from rag.packing import FLOOR_TOKENS, candidates_for, first_word_budget, pack
from rag.quotes import best_sentences

LONG = [{"role": "user", "content": "Summarise these notes. " + " ".join(
    f"Note {i}: the depot number {i} opens at {i % 12} and keeps {i * 3} railcars in its sheds." for i in range(40))}]


# -- the budget (pure) ----------------------------------------------------------------------------
def test_the_budget_keeps_the_first_word_within_the_target():
    b = first_word_budget(target_s=10, prompt_tps=800, overhead_tokens=300, n_ctx=32768, answer_tokens=512)
    assert (b.source_tokens, b.reason) == (7700, "target")
    assert (b.source_tokens + 300) / 800 <= 10, "the prompt is read within the target"
    assert b.whole_window_s == pytest.approx((32768 - 512) / 800)
    faster = first_word_budget(target_s=10, prompt_tps=1600, overhead_tokens=300, n_ctx=32768, answer_tokens=512)
    assert faster.source_tokens > b.source_tokens, "a faster machine reads more in the same time"
    longer = first_word_budget(target_s=20, prompt_tps=800, overhead_tokens=300, n_ctx=32768, answer_tokens=512)
    assert longer.source_tokens == 15700


def test_the_budget_never_takes_the_answer_reserve_and_keeps_a_floor():
    gpu = first_word_budget(target_s=10, prompt_tps=20000, overhead_tokens=300, n_ctx=32768, answer_tokens=512)
    assert (gpu.source_tokens, gpu.reason) == (32768 - 512 - 300, "whole")
    slow = first_word_budget(target_s=10, prompt_tps=30, overhead_tokens=300, n_ctx=32768, answer_tokens=512)
    assert (slow.source_tokens, slow.reason) == (FLOOR_TOKENS, "floor")
    tiny = first_word_budget(target_s=1, prompt_tps=10, overhead_tokens=300, n_ctx=1024, answer_tokens=512)
    assert tiny.source_tokens == 1024 - 512 - 300, "the floor never overflows a small window"
    unknown = first_word_budget(target_s=10, prompt_tps=None, overhead_tokens=300, n_ctx=4096, answer_tokens=512)
    assert (unknown.source_tokens, unknown.reason, unknown.whole_window_s) == (4096 - 812, "unmeasured", None)
    asked = first_word_budget(target_s=10, prompt_tps=30, overhead_tokens=300, n_ctx=32768, answer_tokens=512, whole=True)
    assert (asked.source_tokens, asked.reason, asked.asked_whole) == (31956, "whole", True)


def test_candidates_follow_the_budget_not_a_fixed_24():
    assert candidates_for(768) < 24 < candidates_for(31956)
    assert candidates_for(31956) * 250 >= 31956, "enough candidates to fill a 32K window"


def _passages(n: int, words: int = 60) -> list[Passage]:
    return [Passage(Chunk("d", f"doc{i}.txt", i + 1, 0, 0, f"Passage {i}. " + "word " * words, "en", i, "0" * 64),
                    0.9 - i / 100) for i in range(n)]


def test_packing_keeps_to_the_budget():
    model = FakeChatModel(n_ctx=8192)
    budget = first_word_budget(target_s=5, prompt_tps=100, overhead_tokens=60, n_ctx=8192, answer_tokens=64,
                               floor_tokens=128)
    packed = pack(_passages(40), question="Why?", language="en", count_tokens=model.count_tokens, n_ctx=8192,
                  answer_tokens=64, budget=budget)
    whole = pack(_passages(40), question="Why?", language="en", count_tokens=model.count_tokens, n_ctx=8192,
                 answer_tokens=64)
    assert packed.parts["sources"] <= budget.source_tokens < whole.parts["sources"]
    assert 0 < len(packed.passages) < len(whole.passages)
    assert packed.meter()["budget"]["reason"] == "target" and "budget" not in whole.meter()


# -- quotes (pure) ----------------------------------------------------------------------------------
def test_quotes_are_the_sentences_that_answer_with_their_source():
    ps = [Passage(Chunk("a", "fleet.pdf", 4, 0, 0, "The fleet has forty railcars. Most were built in 1998.", "en", 0,
                        "0" * 64), 0.7),
          Passage(Chunk("b", "depots.pdf", 2, 0, 0, "Staff park behind the canteen. The Lausanne depot opens at 05:30 "
                        "on weekdays. Its gate closes at 23:00.", "en", 0, "1" * 64), 0.6)]
    quotes = best_sentences("When does the Lausanne depot open?", ps, language="en")
    assert quotes[0].text == "The Lausanne depot opens at 05:30 on weekdays."
    assert (quotes[0].n, quotes[0].source, quotes[0].page) == (2, "depots.pdf", 2)
    assert all(q.text != "Staff park behind the canteen." for q in quotes)


def test_quotes_across_languages_keep_the_documents_language(embedder):
    ps = [Passage(Chunk("a", "horaires.pdf", 3, 0, 0, "Le parking est gratuit le dimanche. Le dépôt de Lausanne ouvre à "
                        "5 h 30 en semaine.", "fr", 0, "0" * 64), 0.5)]
    [quote] = best_sentences("What time does the depot in Lausanne open?", ps, language="en", embed=embedder.embed)[:1]
    assert quote.text == "Le dépôt de Lausanne ouvre à 5 h 30 en semaine."


# -- answering: quotes first, the budget, Stop before anything ---------------------------------------------
@pytest.fixture
def depot_store(tmp_path, store, embedder):
    from rag.ingest import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    import random

    for i in range(12):  # each with words of its own, or they would be dropped as near-duplicates
        rng = random.Random(i)
        words = ["".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(3)) for _ in range(90)]
        filler = ". ".join(" ".join(words[j:j + 9]).capitalize() for j in range(0, 90, 9))
        (folder / f"depot-{i}.txt").write_text(
            f"Depot {i} handbook. The depot number {i} opens at {5 + i % 4}:30 on weekdays and closes at 23:00. "
            f"Its workshop keeps {i + 3} railcars. {filler}.")
    list(ingest([folder], store=store, embedder=embedder))
    return store


def test_quotes_come_before_the_first_token_and_the_budget_sizes_the_sources(depot_store, embedder):
    chat = FakeChatModel(n_ctx=8192)
    events = list(answer_stream("When does depot number 3 open?", store=depot_store, embedder=embedder, chat=chat,
                                answer_tokens=64, prompt_tps=100.0, ttft_target_s=12, relevance_floor=float("-inf")))
    kinds = [type(e) for e in events]
    assert kinds.index(Quotes) < kinds.index(Sources) < kinds.index(Token)
    [quotes] = [e.quotes for e in events if isinstance(e, Quotes)]
    [sources] = [e for e in events if isinstance(e, Sources)]
    numbered = {s.n: s for s in sources.sources}
    assert quotes and "depot number 3 opens at 8:30" in quotes[0].text
    assert all(q.text in numbered[q.n].text and q.source == numbered[q.n].source for q in quotes)
    budget = sources.meter["budget"]
    assert budget["reason"] == "target" and sources.meter["parts"]["sources"] <= budget["source_tokens"]
    answer = events[-1].answer
    assert answer.as_dict()["quotes"][0]["text"] == quotes[0].text

    whole = list(answer_stream("When does depot number 3 open?", store=depot_store, embedder=embedder, chat=chat,
                               answer_tokens=64, prompt_tps=100.0, ttft_target_s=12, relevance_floor=float("-inf"), whole_window=True))
    [more] = [e for e in whole if isinstance(e, Sources)]
    assert more.meter["budget"]["asked_whole"] and len(more.sources) > len(sources.sources)


def test_a_stop_pressed_before_the_model_starts_is_honoured(depot_store, embedder, chat_model):
    stop = threading.Event()
    stop.set()  # pressed while the answer was still searching, or queued behind others
    events = list(answer_stream("When does depot number 3 open?", store=depot_store, embedder=embedder, chat=chat_model,
                                answer_tokens=32, stop=stop))
    assert any(isinstance(e, Quotes) and e.quotes for e in events), "the quotes still show"
    assert not [e for e in events if isinstance(e, Token)]
    assert events[-1].answer.stopped and events[-1].answer.text == ""


# -- the real bundled GGUF: reading in batches, Stop while reading or waiting, calibration -----------------
def test_prompt_reading_reports_progress_and_stop_ends_it(chat_model):
    events = list(chat_model.stream_events(LONG, max_tokens=4, temperature=0))
    reads = [e for e in events if isinstance(e, PromptRead)]
    first_text = next(i for i, e in enumerate(events) if isinstance(e, str))
    assert len(reads) >= 3 and all(isinstance(e, PromptRead) for e in events[:first_text])
    fractions = [r.fraction for r in reads]
    assert fractions == sorted(fractions) and fractions[0] < 0.4 and fractions[-1] == 1.0
    assert reads[-1].total > 700 and reads[-1].seconds > 0
    full_read = reads[-1].seconds

    stop, seen = threading.Event(), []
    started = time.perf_counter()
    changed = LONG[0]["content"].replace("Summarise", "Shorten")  # nothing cached: it is all read again
    for event in chat_model.stream_events([{"role": "user", "content": changed}], max_tokens=64, temperature=0,
                                          stop=stop):
        seen.append(event)
        if isinstance(event, PromptRead):
            stop.set()  # at the first report
    elapsed = time.perf_counter() - started
    assert not [e for e in seen if isinstance(e, str)], "no word after Stop"
    assert max(e.fraction for e in seen) < 0.5 and elapsed < 0.8 * full_read, "Stop ended the reading"
    assert "".join(chat_model.stream([{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0)), \
        "the model answers again after a stopped read"


def test_stop_takes_a_waiting_answer_out_of_the_queue(chat_model):
    busy = threading.Event()

    def long_answer():
        story = [{"role": "user", "content": "Write a long story about a dragon who guards a library."}]
        for event in chat_model.stream_events(story, max_tokens=40, temperature=0):
            busy.set()

    holder = threading.Thread(target=long_answer)
    holder.start()
    try:
        assert busy.wait(30)
        stop = threading.Event()
        waiting = chat_model.stream_events([{"role": "user", "content": "Hi"}], max_tokens=8, stop=stop)
        assert isinstance(next(waiting), Waiting), "the second answer says it waits"
        stop.set()
        started = time.perf_counter()
        rest = list(waiting)
        assert rest == [] and time.perf_counter() - started < 1.0 and holder.is_alive()
    finally:
        holder.join()


def test_calibration_on_the_real_gguf_is_stored_and_refined(chat_model, tmp_path):
    from rag.answering import Stats

    pacing = Pacing(tmp_path)
    speed = pacing.calibrate("bundled|test", chat_model)
    assert speed.prompt_tps > 5 and speed.generation_tps > 0.5, speed
    stored = json.loads((tmp_path / "pacing.json").read_text())["bundled|test"]
    assert stored["prompt_tps"] == pytest.approx(speed.prompt_tps) and stored["answers"] == 0

    # Measured once: the next load with the same key does not measure again.
    assert pacing.calibrate("bundled|test", FakeChatModel()) == speed

    # A real read of ~800 tokens: the calibrated speed predicts it within a factor of four (the machine is shared).
    reads = [e for e in chat_model.stream_events(LONG, max_tokens=2, temperature=0) if isinstance(e, PromptRead)]
    measured = reads[-1].total / reads[-1].seconds
    assert speed.prompt_tps / 4 < measured < speed.prompt_tps * 4, (speed, measured)

    stats = Stats(prompt_tokens=reads[-1].total, completion_tokens=20, ttft_s=reads[-1].seconds, tokens_per_s=30.0,
                  total_s=5.0, read_tokens=reads[-1].total, prefill_s=reads[-1].seconds)
    refined = pacing.refine("bundled|test", stats)
    assert refined.prompt_tps == pytest.approx(ema(speed.prompt_tps, measured))
    assert json.loads((tmp_path / "pacing.json").read_text())["bundled|test"]["answers"] == 1
    cached = Stats(prompt_tokens=1500, completion_tokens=2, ttft_s=0.01, tokens_per_s=0.0, total_s=0.1,
                   read_tokens=12, prefill_s=0.01)
    assert pacing.refine("bundled|test", cached) == refined, "a cached follow-up teaches nothing"


def test_the_status_says_waiting_and_reading(depot_store, embedder, chat_model):
    events = list(answer_stream("When does depot number 3 open?", store=depot_store, embedder=embedder,
                                chat=chat_model, answer_tokens=16, temperature=0, k=2))
    stages = [e.stage for e in events if isinstance(e, Status)]
    assert stages[0] == "searching" and "reading_prompt" in stages and stages[-1] == "generating"
    kinds = [type(e) for e in events]
    assert kinds.index(Quotes) < kinds.index(Token)
    if Reading in kinds:
        assert kinds.index(Reading) < kinds.index(Token)
    stats = events[-2]
    assert stats.read_tokens > 0 and 0 < stats.prefill_s <= stats.ttft_s + 0.05
    assert isinstance(events[-1], Done)
