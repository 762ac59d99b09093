"""Generation speed on the bundled GGUF: our streaming generator against a bare llama-cpp-python loop,
and the time to first token of a follow-up that re-uses the KV cache against a cold prompt.

1. Decode: :meth:`inference.llama.LlamaCppChatModel.stream` and ``Llama.create_completion(stream=True)``
   on the same prompt tokens, stop strings and ``Llama`` instance (so the same threads), 128 tokens at
   temperature 0, runs interleaved, best of 3. The rate is the tokens after the first over the time
   from the first token to the end, so prompt evaluation is left out. Target: ours ≥ 0.97 × bare.
2. Time to first token with ~6K tokens of sources in an 8,192-token window: cold is the prompt on an
   empty cache; warm is the same sources with another short question just after it (only the new
   tokens are evaluated). Best of 3 each. Target: warm ≤ 0.2 × cold.

Writes ``bench/results/generation.json`` and ``bench/results/generation.png``::

    .venv/bin/python -m bench.bench_generation --threads 2

The result keys, worked through on made-up timings:

>>> summary(ours=[88.0, 90.0], bare=[91.0, 90.5], cold=[4.2, 4.0], warm=[0.21, 0.2])["ttft_warm_over_cold"]
0.05
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.machine import cpu_name
from inference.llama import LlamaCppChatModel
from inference.registry import bundled_llm_path
from inference.speed import first_token_seconds
from core.chat import Message

RESULTS = Path(__file__).resolve().parent / "results"
STORY = [{"role": "user", "content": "Write a long story about a dragon who guards a library in the mountains."}]


def summary(*, ours: Sequence[float], bare: Sequence[float], cold: Sequence[float], warm: Sequence[float]) -> dict:
    """Best-of-N figures and their ratios (decode: highest rate; time to first token: lowest)."""
    best_ours, best_bare, best_cold, best_warm = max(ours), max(bare), min(cold), min(warm)
    return {"decode_tokens_per_s_ours": round(best_ours, 2), "decode_tokens_per_s_bare": round(best_bare, 2),
            "decode_ratio_vs_bare_llama": round(best_ours / best_bare, 3),
            "ttft_cold_s": round(best_cold, 3), "ttft_warm_s": round(best_warm, 3),
            "ttft_warm_over_cold": round(best_warm / best_cold, 3)}


def decode_rate(pieces: Iterable[str], *, llama, prompt_len: int) -> tuple[float, int]:
    """Tokens per second after the first token, and the tokens generated, for one stream run to its end.

    The count comes from llama.cpp's own position: ``n_tokens`` is the prompt plus every generated
    token but the last, which is sampled and never evaluated.
    """
    first = None
    for piece in pieces:
        if piece and first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    generated = llama.n_tokens - prompt_len + 1
    return (generated - 1) / (end - first), generated


def bench_decode(model: LlamaCppChatModel, *, max_tokens: int = 128, repeats: int = 3) -> dict:
    """Interleaved runs of our generator and the bare loop on the same tokens; each rate per run."""
    llama = model._llama
    tokens, stop = model.render(STORY)
    ours, bare, counts = [], [], set()
    for _ in range(repeats):
        rate, n = decode_rate(model.stream(STORY, max_tokens=max_tokens, temperature=0.0), llama=llama,
                              prompt_len=len(tokens))
        ours.append(rate)
        counts.add(n)
        chunks = llama.create_completion(prompt=tokens, max_tokens=max_tokens, temperature=0.0, stop=stop, stream=True)
        rate, n = decode_rate((c["choices"][0]["text"] for c in chunks), llama=llama, prompt_len=len(tokens))
        bare.append(rate)
        counts.add(n)
    return {"ours": ours, "bare": bare, "generated_tokens": sorted(counts), "prompt_tokens": len(tokens)}


def sources(model: LlamaCppChatModel, *, tokens: int) -> Message:
    """A system message of numbered depot-handbook sources, grown to about ``tokens`` tokens."""
    blocks: list[str] = []
    while True:
        i = len(blocks) + 1
        blocks.append(f'<source n="{i}" file="handbook.pdf" page="{i}">\nDepot {i} opens at {6 + i % 5} in the '
                      f"morning, closes at {17 + i % 4} in the evening, and its trucks load at bay {i % 40}.\n</source>")
        message = {"role": "system", "content": "Answer only from the sources below.\n\nSources:\n\n" + "\n\n".join(blocks)}
        if len(blocks) % 10 == 0 and model.count_tokens([message]) >= tokens:
            return message


def bench_ttft(model: LlamaCppChatModel, *, context_tokens: int = 6000, repeats: int = 3) -> dict:
    """Cold (empty cache) then warm (same sources, another question) time to first token, per run."""
    system = sources(model, tokens=context_tokens)
    questions = [f"When does depot {n} open, and which bay do its trucks use?" for n in (3, 7, 11, 19)]
    cold, warm = [], []
    for run in range(repeats):
        model._llama.reset()
        cold.append(first_token_seconds(model, [system, {"role": "user", "content": questions[run % 2]}]))
        warm.append(first_token_seconds(model, [system, {"role": "user", "content": questions[2 + run % 2]}]))
    prompt = model.count_tokens([system, {"role": "user", "content": questions[0]}])
    return {"cold": cold, "warm": warm, "prompt_tokens": prompt}


def load(path: Path, *, n_ctx: int, threads: int) -> LlamaCppChatModel:
    """The model with ``threads`` threads for decoding and for prompts alike."""
    return LlamaCppChatModel(path, n_ctx=n_ctx, n_threads=threads)


def machine() -> str:
    load = f", load {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    return f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}{load}"


def write_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    bars = left.bar(["Folio stream()", "bare llama-cpp-python"],
                    [result["decode_tokens_per_s_ours"], result["decode_tokens_per_s_bare"]], color=["#3b6ea8", "#9aa5b1"])
    left.bar_label(bars, fmt="%.1f")
    left.margins(y=0.15)
    left.set_title(f"Decode, tokens/s (ratio {result['decode_ratio_vs_bare_llama']:.3f})")
    bars = right.bar(["cold", "warm (KV cache)"], [result["ttft_cold_s"], result["ttft_warm_s"]],
                     color=["#9aa5b1", "#3b6ea8"])
    right.bar_label(bars, fmt="%.2f s")
    right.margins(y=0.15)
    right.set_title(f"First token, ~{result['ttft_prompt_tokens']} tokens (warm/cold {result['ttft_warm_over_cold']:.3f})")
    threads = f"{result['n_threads']} thread" + ("s" if result["n_threads"] != 1 else "")
    fig.suptitle(f"{result['model']}, {threads}, {result['machine']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--context-tokens", type=int, default=6000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = machine()
    path = bundled_llm_path()
    with_2k = load(path, n_ctx=2048, threads=args.threads)
    decode = bench_decode(with_2k)
    with_2k.close()
    with_8k = load(path, n_ctx=8192, threads=args.threads)
    ttft = bench_ttft(with_8k, context_tokens=args.context_tokens)
    with_8k.close()
    result = {**summary(ours=decode["ours"], bare=decode["bare"], cold=ttft["cold"], warm=ttft["warm"]),
              "model": path.name, "n_threads": args.threads, "machine": started,
              "decode_generated_tokens": decode["generated_tokens"], "ttft_prompt_tokens": ttft["prompt_tokens"],
              "runs": {"decode_ours": decode["ours"], "decode_bare": decode["bare"], "ttft_cold": ttft["cold"],
                       "ttft_warm": ttft["warm"]},
              "targets": {"decode_ratio_vs_bare_llama": ">= 0.97", "ttft_warm_over_cold": "<= 0.2"}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_chart(result, args.out / "generation.png")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    return result


if __name__ == "__main__":
    main()
