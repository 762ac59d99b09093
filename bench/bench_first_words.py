"""The first useful words: time to the quotes, and time to the first token with the context budget
against the old fixed 24 candidates, on this CPU with the bundled stand-in.

1. Quotes: every question of sample_docs' own set (``sample_docs/eval.jsonl``) asked through
   :func:`rag.answering.answer_stream` up to its :class:`rag.answering.Quotes` event (retrieval,
   packing and quote picking included; no generation): the time from asking, p50/p95, and how often
   one of the first three quotes holds all the question's answer terms, per language.
2. First token: the same few questions answered by the stand-in (16 tokens) with windows of 2,048
   and 8,192 tokens, once with the budget (sources sized to the 10 s target at the calibrated speed,
   candidates as many as the budget needs) and once as before this change (24 candidates packed
   into the whole window). Runs alternate; the KV cache is cleared before each.
3. Calibration: the speed measured at load (:func:`inference.speed.calibrate`) against each
   answer's measured prompt reading: the error of the predicted reading time, median and worst, with
   the calibration alone and once refined by the answers before (:mod:`app.pacing`).

Writes ``bench/results/first_words.json`` and ``bench/results/first_words.png``::

    .venv/bin/python -m bench.bench_first_words --answers 4

>>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 95)
(2.5, 3.85)
>>> holds_terms(["It was founded in 1987 by 23 people."], ["1987"]), holds_terms(["Nothing."], ["1987"])
(True, False)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from app.pacing import ema
from app.settings import REPO_ROOT
from bench.machine import cpu_name
from core.chat import ChatModel
from inference.llama import LlamaCppChatModel
from inference.registry import bundled_llm_path
from inference.speed import calibrate
from rag.answering import Done, Quotes, Stats, answer_stream

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLES = REPO_ROOT / "sample_docs"
WINDOWS = (2048, 8192)
TARGET_S = 10.0
ANSWER_TOKENS = 16


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile, linearly interpolated."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (at - low), 4)


def holds_terms(sentences: Sequence[str], terms: Sequence[str]) -> bool:
    """Whether one of ``sentences`` holds every answer term (case and thousands separators ignored)."""
    def norm(text: str) -> str:
        return text.lower().replace(",", "").replace("\u202f", "").replace("'", "").replace(" ", "")

    return any(all(norm(term) in norm(sentence) for term in terms) for sentence in sentences)


def index_samples(home: Path, embedder):
    from rag.index.client import open_client
    from rag.index.manifest import Manifest
    from rag.index.store import Store
    from rag.ingest import ingest

    store = Store(client=open_client(home / "index"), manifest=Manifest(home / "manifest.sqlite3"),
                  collection="default", embedder=embedder.name, dim=embedder.dim)
    list(ingest([SAMPLES], store=store, embedder=embedder))
    return store


def questions() -> list[dict]:
    return [json.loads(line) for line in (SAMPLES / "eval.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def bench_quotes(store, embedder, chat: ChatModel, items: list[dict]) -> dict:
    """Time to the quotes, and whether the first three hold the answer, for every question."""
    times, hits = [], defaultdict(list)
    for item in items:
        started = time.perf_counter()
        for event in answer_stream(item["question"], store=store, embedder=embedder, chat=chat, answer_tokens=512,
                                   prompt_tps=None):
            if isinstance(event, Quotes):
                times.append(time.perf_counter() - started)
                hits[item["language"]].append(holds_terms([q.text for q in event.quotes[:3]], item["answer_contains"]))
                break
            if isinstance(event, Done):  # nothing relevant found: no quotes
                times.append(time.perf_counter() - started)
                hits[item["language"]].append(False)
    per_language = {lang: round(sum(h) / len(h), 3) for lang, h in sorted(hits.items())}
    every = [h for values in hits.values() for h in values]
    return {"quotes_p50_s": percentile(times, 50), "quotes_p95_s": percentile(times, 95),
            "quotes_hold_answer_top3": round(sum(every) / len(every), 3), "quotes_hold_answer_top3_by_language": per_language,
            "quotes_questions": len(times)}


def answer_once(question: str, *, store, embedder, chat: LlamaCppChatModel, budget: bool, prompt_tps: float) -> Stats:
    chat._llama.reset()
    options = {"prompt_tps": prompt_tps, "ttft_target_s": TARGET_S} if budget else {"k": 24}
    stats = None
    for event in answer_stream(question, store=store, embedder=embedder, chat=chat, answer_tokens=ANSWER_TOKENS,
                               temperature=0.0, **options):
        if isinstance(event, Stats):
            stats = event
    return stats


def bench_ttft(store, embedder, path: Path, items: list[dict], *, threads: int) -> dict:
    """Budget against fixed 24 candidates, per window; and the calibration's error on the budget runs."""
    out: dict = {}
    errors_first, errors_refined = [], []
    for window in WINDOWS:
        chat = LlamaCppChatModel(path, n_ctx=window, n_threads=threads)
        try:
            speed = calibrate(chat)
            refined = speed.prompt_tps
            runs = {"budget": [], "fixed_24": []}
            prompts = {"budget": [], "fixed_24": []}
            for item in items:
                for mode in ("budget", "fixed_24"):
                    stats = answer_once(item["question"], store=store, embedder=embedder, chat=chat,
                                        budget=mode == "budget", prompt_tps=speed.prompt_tps)
                    runs[mode].append(stats.ttft_s)
                    prompts[mode].append(stats.prompt_tokens)
                    if stats.read_tokens and stats.prefill_s > 0:
                        measured = stats.prefill_s
                        errors_first.append(abs(stats.read_tokens / speed.prompt_tps - measured) / measured)
                        errors_refined.append(abs(stats.read_tokens / refined - measured) / measured)
                        refined = ema(refined, stats.read_tokens / measured)
            out[f"ctx_{window}"] = {
                "calibrated_prompt_tps": round(speed.prompt_tps, 1), "calibrated_generation_tps": round(speed.generation_tps, 1),
                "ttft_p50_s_budget": round(statistics.median(runs["budget"]), 2),
                "ttft_p50_s_fixed_24": round(statistics.median(runs["fixed_24"]), 2),
                "prompt_tokens_p50_budget": int(statistics.median(prompts["budget"])),
                "prompt_tokens_p50_fixed_24": int(statistics.median(prompts["fixed_24"])),
                "runs": runs}
        finally:
            chat.close()
    out["calibration_error_median"] = round(statistics.median(errors_first), 3)
    out["calibration_error_max"] = round(max(errors_first), 3)
    out["calibration_error_median_refined"] = round(statistics.median(errors_refined), 3)
    return out


def machine() -> str:
    load = f", load {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    return f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}{load}"


def write_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    labels, budget, fixed = [], [], []
    for window in WINDOWS:
        entry = result[f"ctx_{window}"]
        labels.append(f"{window:,}-token window")
        budget.append(entry["ttft_p50_s_budget"])
        fixed.append(entry["ttft_p50_s_fixed_24"])
    xs = range(len(labels))
    left = ax.bar([x - 0.2 for x in xs], fixed, width=0.4, color="#9aa5b1", label="fixed 24 candidates")
    right = ax.bar([x + 0.2 for x in xs], budget, width=0.4, color="#3b6ea8", label=f"budget ({TARGET_S:.0f} s target)")
    ax.bar_label(left, fmt="%.1f s")
    ax.bar_label(right, fmt="%.1f s")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("time to first token, p50 (s)")
    ax.margins(y=0.15)
    ax.legend()
    ax.set_title(f"Quotes after {result['quotes_p50_s']:.2f} s (p50); first token:", fontsize=10)
    fig.suptitle(f"{result['model']}, {result['machine']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--answers", type=int, default=4, help="questions answered per window and mode")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from rag.embedding import build_embedder
    from app.settings import Settings

    started = machine()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = build_embedder(Settings().embedder, threads=args.threads)
    path = bundled_llm_path()
    items = questions()
    with tempfile.TemporaryDirectory() as home:
        store = index_samples(Path(home), embedder)
        counter = LlamaCppChatModel(path, n_ctx=2048, n_threads=args.threads)
        try:
            quotes = bench_quotes(store, embedder, counter, items)
        finally:
            counter.close()
        picked = [item for item in items if not item.get("cross_language")][:: max(1, len(items) // (2 * args.answers))]
        ttft = bench_ttft(store, embedder, path, picked[: args.answers], threads=args.threads)
    result = {**quotes, **ttft, "model": path.name, "n_threads": args.threads, "machine": started,
              "target_s": TARGET_S, "answer_tokens": ANSWER_TOKENS, "answers_per_mode": args.answers,
              "library": "sample_docs (17 files, 5 languages)"}
    for window in WINDOWS:
        entry = result[f"ctx_{window}"]
        result[f"ttft_p50_s_budget_{window // 1024}k"] = entry["ttft_p50_s_budget"]
        result[f"ttft_p50_s_fixed_24_{window // 1024}k"] = entry["ttft_p50_s_fixed_24"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "first_words.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_chart(result, args.out / "first_words.png")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict) or "runs" not in v}, indent=2))
    for window in WINDOWS:
        print(window, {k: v for k, v in result[f"ctx_{window}"].items() if k != "runs"})
    return result


if __name__ == "__main__":
    main()
