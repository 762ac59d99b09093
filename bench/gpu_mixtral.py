"""Mixtral 8x7B Q4_K_M speed on an NVIDIA GPU, all layers offloaded: llama.cpp's own ``llama-bench`` beside
Folio's stream, at 512, 8K and 32K tokens of context, plus ``folio doctor --json`` on that machine.

Stages, each timed, recorded in the result and skipped when already done (a rerun right after a run
stopped by its deadline resumes where it stopped; the work folder keeps the build, the GGUF and the
result so far):

1. ``build``: llama.cpp's libraries and ``llama-bench`` with ``GGML_CUDA=on`` for the card's own
   architecture, from llama-cpp-python's cached sdist, and the Python package on top (:mod:`bench.gpu_build`).
2. ``gguf``: a GGUF with Mixtral's exact architecture and Q4_K_M tensor types and sizes, almost all
   zeros, written sparse in seconds (:mod:`bench.mixtral_gguf`). Zero weights: the text is garbage and
   only the speeds count.
3. ``doctor``: ``python -m app.cli doctor --json`` with that GGUF as ``FOLIO_MODEL``.
4. For each flash-attention setting (``--flash-attn``, default off then on): ``llama-bench`` prompt
   speed (``-p``) on prompts of each context and generation speed (``-n``) after a prompt that long
   (``-d``, the depth), then Folio's own stream (:class:`inference.llama.LlamaCppChatModel`, all
   layers on the GPU, greedy): prompt tokens/s = prompt tokens / time to first token, decode
   tokens/s = tokens after the first / time after the first. Then Folio's own calibration at load
   (:func:`inference.speed.calibrate`) and the context it would pack for a first word within 10 s
   (:func:`rag.packing.first_word_budget`): on a card that reads 32K within the target, the whole window.

Each measurement runs in its own process (one model on the GPU at a time). One JSON result:
``bench/results/gpu_mixtral.json``, or ``--out``. On a GPU machine (README: "GPU benchmark")::

    python3 -m bench.gpu_mixtral --sdist .whl --out "$OUT/gpu_mixtral.json" --deadline-s 560

``--dry-run`` takes the same path on the CPU with a 2-layer, 256-wide Mixtral at toy contexts,
without the CUDA build and with ``llama-bench`` only if one is given or found (tests/test_gpu_bench.py).
Here, with network, ``python -m bench.gpu_mixtral prepare`` fills ``.whl/`` with what travels.

The prompt lengths, worked through: the longest context leaves room for the generated tokens.

>>> prompt_lengths((512, 8192, 32768), n_ctx_train=32768, n_gen=128)
[512, 8192, 32624]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
CONTEXTS = (512, 8192, 32768)
DRY_CONTEXTS = (64, 256, 1024)
WEIGHTS_NOTE = ("Zero weights (ones in the norms, random token embeddings and routers so tokens spread over the "
                "experts): the generated text is garbage; only the speeds count.")
#: Wheels the GPU machine's image lacks (KINDS.md lists what it has); ``prepare`` downloads them.
WHEELS = ("diskcache==5.6.3", "gguf==0.19.0", "platformdirs==4.14.9")


def prompt_lengths(contexts: Sequence[int], *, n_ctx_train: int, n_gen: int) -> list[int]:
    """Prompt tokens for each context: the context itself, capped so prompt + generation fit the window."""
    return [min(c, n_ctx_train - n_gen - 16) for c in contexts]


# -- llama-bench ------------------------------------------------------------------------------------


def llama_bench_rows(text: str) -> list[dict]:
    """The results in ``llama-bench -o jsonl`` output, one per test, as rates (a cut-off run keeps its finished lines).

    >>> llama_bench_rows('{"n_prompt": 512, "n_gen": 0, "n_depth": 0, "flash_attn": 0, "avg_ts": 3012.5, '
    ...                  '"stddev_ts": 4.1, "n_gpu_layers": 99}\\n{"n_prompt": 0, "n_ge')
    [{'test': 'pp', 'tokens': 512, 'depth': 0, 'flash_attn': 0, 'tokens_per_s': 3012.5, 'stddev': 4.1, 'n_gpu_layers': 99}]
    """
    rows = []
    for line in text.splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        pp = r["n_prompt"] > 0
        rows.append({"test": "pp" if pp else "tg", "tokens": r["n_prompt"] if pp else r["n_gen"], "depth": r["n_depth"],
                     "flash_attn": r["flash_attn"], "tokens_per_s": round(r["avg_ts"], 2),
                     "stddev": round(r["stddev_ts"], 2), "n_gpu_layers": r["n_gpu_layers"]})
    return rows


def llama_bench_build(text: str) -> dict:
    """What the first result line of ``llama-bench -o jsonl`` says about the build and the settings it ran with."""
    for line in text.splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        return {k: r.get(k) for k in ("build_commit", "backends", "gpu_info", "cpu_info", "model_type", "model_size",
                                      "n_batch", "n_ubatch", "type_k", "type_v", "n_threads")}
    return {}


def run_llama_bench(exe: Path, model: Path, *, prompts: Sequence[int], n_gen: int, flash_attn: int, reps: int,
                    n_gpu_layers: int, timeout: float | None, env: dict) -> dict:
    """Prompt speed on each prompt length, then generation speed at each of those depths, in two runs."""
    common = [str(exe), "-m", str(model), "-ngl", str(n_gpu_layers), "-fa", str(flash_attn), "-r", str(reps),
              "-o", "jsonl"]
    joined = ",".join(map(str, prompts))
    out: dict = {"commands": [], "rows": [], "seconds": {}}
    for kind, args in (("pp", ["-p", joined, "-n", "0"]), ("tg", ["-p", "0", "-n", str(n_gen), "-d", joined])):
        cmd = common + args
        out["commands"].append(" ".join(cmd))
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
            stdout, rc, err = done.stdout, done.returncode, done.stderr
        except subprocess.TimeoutExpired as stopped:
            stdout, rc, err = _text(stopped.stdout), "timeout", _text(stopped.stderr)
        out["seconds"][kind] = round(time.perf_counter() - start, 1)
        out["rows"] += llama_bench_rows(stdout)
        out.setdefault("build", llama_bench_build(stdout))
        if rc != 0:
            out["error"] = f"llama-bench {kind} run ended with {rc}: {err[-1500:]}"
            break
        if timeout is not None:
            timeout -= time.perf_counter() - start
    return out


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data or ""


# -- Folio's stream (runs in a child process: python -m bench.gpu_mixtral folio-stream ...) ---------------


def filler(n_sentences: int, *, start: int = 0) -> str:
    """Plain sentences to grow a prompt; ``start`` makes prompts of different contexts share no prefix."""
    return " ".join(f"Depot {i} opens at {6 + i % 5} in the morning, closes at {17 + i % 4} in the evening, "
                    f"and its trucks load at bay {i % 40}." for i in range(start, start + n_sentences))


def fit_prompt(model, n_tokens: int, *, start: int) -> tuple[list[dict], int]:
    """A one-message chat whose rendered prompt is about ``n_tokens`` tokens, and its exact length."""
    tokens = model.tokenize(filler(n_tokens // 8 + 16, start=start))
    take = n_tokens
    for _ in range(4):
        text = model._llama.detokenize(tokens[:max(take, 1)]).decode("utf-8", "ignore")
        messages = [{"role": "user", "content": text}]
        length = model.count_tokens(messages)
        if length == n_tokens or take <= 1:
            break
        take += n_tokens - length
    return messages, length


def measure_stream(model, messages: list[dict], *, n_gen: int, clock: Callable[[], float] = time.perf_counter) -> dict:
    """Time one cold answer: prompt tokens / time to first token, and decode rate after the first token."""
    llama = model._llama
    llama.reset()
    prompt = len(model.render(messages)[0])
    start = clock()
    first = None
    for piece in model.stream(messages, max_tokens=n_gen, temperature=0.0):
        if piece and first is None:
            first = clock()
    end = clock()
    if first is None:
        raise RuntimeError("the model generated no text")
    generated = llama.n_tokens - prompt + 1
    return stream_figures(prompt_tokens=prompt, generated=generated, start=start, first=first, end=end)


def stream_figures(*, prompt_tokens: int, generated: int, start: float, first: float, end: float) -> dict:
    """Rates from one timed stream.

    >>> stream_figures(prompt_tokens=8192, generated=128, start=0.0, first=2.0, end=3.27)
    {'prompt_tokens': 8192, 'ttft_s': 2.0, 'prompt_tokens_per_s': 4096.0, 'generated_tokens': 128, 'decode_tokens_per_s': 100.0}
    """
    ttft = first - start
    decode = (generated - 1) / (end - first) if generated > 1 and end > first else None
    return {"prompt_tokens": prompt_tokens, "ttft_s": round(ttft, 4), "prompt_tokens_per_s": round(prompt_tokens / ttft, 2),
            "generated_tokens": generated, "decode_tokens_per_s": round(decode, 2) if decode else None}


def mean_of(runs: Sequence[dict]) -> dict:
    """The runs' mean rates (as llama-bench reports its repetitions), with the first run's token counts.

    >>> mean_of([{"prompt_tokens": 512, "ttft_s": 0.2, "prompt_tokens_per_s": 2560.0, "generated_tokens": 128,
    ...           "decode_tokens_per_s": 100.0}, {"prompt_tokens": 512, "ttft_s": 0.25, "prompt_tokens_per_s": 2048.0,
    ...           "generated_tokens": 128, "decode_tokens_per_s": 90.0}])["decode_tokens_per_s"]
    95.0
    """
    out = dict(runs[0])
    for key in ("ttft_s", "prompt_tokens_per_s", "decode_tokens_per_s"):
        values = [r[key] for r in runs if r[key] is not None]
        out[key] = round(sum(values) / len(values), 4 if key == "ttft_s" else 2) if values else None
    return out


def folio_stream(model_path: Path, *, prompts: Sequence[int], n_gen: int, n_gpu_layers: int, flash_attn: bool,
                 reps: int) -> dict:
    """Folio's stream on each prompt length, the mean of ``reps`` cold runs (after one short warm-up answer)."""
    from inference.llama import LlamaCppChatModel

    started = time.perf_counter()
    model = LlamaCppChatModel(model_path, n_ctx=max(prompts) + n_gen + 16, n_gpu_layers=n_gpu_layers,
                              flash_attn=flash_attn)
    load_s = time.perf_counter() - started
    try:
        import llama_cpp

        warm, _ = fit_prompt(model, 32, start=10_000)
        measure_stream(model, warm, n_gen=4)
        rows = []
        for i, n in enumerate(prompts):
            messages, _ = fit_prompt(model, n, start=i * 5000)
            runs = [measure_stream(model, messages, n_gen=n_gen) for _ in range(reps)]
            rows.append(mean_of(runs) | {"target_prompt_tokens": n, "runs": runs})
        return {"rows": rows, "calibration": calibration_and_budget(model), "load_s": round(load_s, 1), "n_ctx": model.n_ctx, "n_batch": model._llama.n_batch,
                "n_gpu_layers": n_gpu_layers,
                "flash_attn": flash_attn, "gpu_offload_supported": bool(llama_cpp.llama_supports_gpu_offload()),
                "llama_cpp_python": llama_cpp.__version__, "llama_cpp_path": str(Path(llama_cpp.__file__).parent),
                "temperature": 0.0, "seconds": round(time.perf_counter() - started, 1)}
    finally:
        model.close()


def calibration_and_budget(model, *, target_s: float = 10.0, answer_tokens: int = 512, overhead_tokens: int = 400) -> dict:
    """What Folio measures when it loads ``model`` here, and the sources it would then pack for a first word
    within ``target_s`` (``overhead_tokens``: rules, question and template, about what sample_docs' take)."""
    from inference.speed import calibrate
    from rag.packing import first_word_budget

    speed = calibrate(model)
    budget = first_word_budget(target_s=target_s, prompt_tps=speed.prompt_tps, overhead_tokens=overhead_tokens,
                               n_ctx=model.n_ctx, answer_tokens=answer_tokens)
    return {"prompt_tps": round(speed.prompt_tps, 1), "generation_tps": round(speed.generation_tps, 1),
            "target_s": target_s, "n_ctx": model.n_ctx, "source_tokens": budget.source_tokens, "reason": budget.reason,
            "whole_window_s": round(budget.whole_window_s or 0.0, 2)}


# -- stages ----------------------------------------------------------------------------------------


class Run:
    """The result being built, written to ``out`` (and the work folder) after every stage."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.saved = args.work / "result.json"
        previous = json.loads(self.saved.read_text(encoding="utf-8")) if self.saved.exists() and args.resume else {}
        same = previous.get("config") == self.config()
        self.result: dict = {
            "benchmark": "gpu_mixtral", "dry_run": args.dry_run, "ran_on_gpu": False, "weights": WEIGHTS_NOTE,
            "config": self.config(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "stages": previous.get("stages", {}) if same else {}, "figures": previous.get("figures", []) if same else [],
        }
        for kept in ("build", "gguf", "doctor", "llama_bench", "folio"):
            if same and kept in previous:
                self.result[kept] = previous[kept]

    def config(self) -> dict:
        a = self.args
        return {"contexts": list(a.contexts), "n_gen": a.n_gen, "reps": a.reps, "flash_attn": list(a.flash_attn),
                "n_gpu_layers": a.n_gpu_layers, "dry_run": a.dry_run, "model": str(a.model) if a.model else None}

    def remaining(self) -> float | None:
        return None if self.args.deadline_s is None else self.args.deadline_s - (time.monotonic() - self.started)

    def done(self, name: str) -> bool:
        return self.result["stages"].get(name, {}).get("status") in ("done", "cached")

    def stage(self, name: str, fn: Callable[[], dict | None], *, needs_s: float = 0) -> bool:
        """Run one stage unless already done; record its status and seconds. True when it succeeded."""
        if self.done(name):
            print(f"[gpu_mixtral] {name}: already done", flush=True)
            return True
        left = self.remaining()
        if left is not None and left < needs_s:
            self.result["stages"][name] = {"status": "skipped", "reason": f"deadline: {left:.0f} s left, needs ~{needs_s:.0f} s"}
            self.save()
            return False
        print(f"[gpu_mixtral] {name} ...", flush=True)
        start = time.perf_counter()
        try:
            extra = fn() or {}
            status = {"status": extra.pop("status", "done")} | extra
        except Exception as error:  # recorded in the result, which is the point of a benchmark run
            status = {"status": "failed", "error": f"{type(error).__name__}: {error}"[-4000:]}
        status["seconds"] = round(time.perf_counter() - start, 1)
        self.result["stages"][name] = status
        print(f"[gpu_mixtral] {name}: {status['status']} in {status['seconds']} s"
              + (f" ({status.get('error') or status.get('reason')})" if status["status"] not in ("done", "cached") else ""),
              flush=True)
        self.save()
        return status["status"] in ("done", "cached")

    def save(self) -> None:
        self.result["wall_s"] = round(time.monotonic() - self.started, 1)
        text = json.dumps(self.result, indent=2) + "\n"
        for path in (self.saved, self.args.out):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)


def machine() -> dict:
    from bench.gpu_build import gpu_machine
    from bench.machine import cpu_name

    return gpu_machine() | {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
                            "system": f"{platform.system()} {platform.release()} {platform.machine()}"}


def find_sdist(where: Path) -> Path:
    """The sdist at ``where``, or in that folder (the slim copy first)."""
    if where.is_file():
        return where
    found = sorted(where.glob("llama_cpp_python-*-slim.tar.gz")) or sorted(where.glob("llama_cpp_python-*.tar.gz"))
    if not found:
        raise FileNotFoundError(f"no llama_cpp_python-*.tar.gz in {where}; run 'python -m bench.gpu_mixtral prepare' here first")
    return found[-1]


def child_env(run: Run) -> dict:
    """The environment of every measuring process: the built llama_cpp first on the path, if there is one."""
    env = dict(os.environ)
    site = run.result.get("build", {}).get("site")
    paths = [site] if site else []
    paths += [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def stage_build(run: Run) -> dict:
    from bench import gpu_build

    a = run.args
    arch = None if a.cuda_arch == "cpu" else a.cuda_arch
    if a.cuda_arch is None:
        cap = gpu_build.nvidia_smi("compute_cap")
        if cap is None:
            raise RuntimeError("nvidia-smi found no GPU; use --dry-run on a machine without one")
        arch = gpu_build.cuda_arch_from_compute_cap(cap[0])
    record = gpu_build.build(find_sdist(a.sdist), a.work, cuda_arch=arch, jobs=a.jobs, timeout=run.remaining())
    run.result["build"] = record
    return {"status": record.pop("status"), "cuda_arch": arch}


def stage_gguf(run: Run) -> dict:
    from bench import mixtral_gguf
    from tests.gguf_factory import tokenizer_fields

    a = run.args
    if a.model:
        from inference.gguf_info import read_info

        info = read_info(a.model)
        run.result["gguf"] = {"path": str(a.model), "bytes": a.model.stat().st_size, "given": True,
                              "quantization": info.quant, "layers": info.n_layer, "experts": info.n_expert}
        return {}
    if a.dry_run:
        from inference.registry import bundled_llm_path

        tokenizer = tokenizer_fields(bundled_llm_path())
        n_vocab = next(len(v) for k, v, _, _ in tokenizer if k == "tokenizer.ggml.tokens")
        shape, name, template = mixtral_gguf.tiny_shape(n_vocab), "tiny-mixtral-shape-q4_k_m-zeros", None
        source = "the bundled SmolLM2 GGUF"
    else:
        from bench.gpu_build import LLAMA_SPM_VOCAB

        src = Path(run.result["build"]["src"]) if "src" in run.result.get("build", {}) else None
        vocab = (src / LLAMA_SPM_VOCAB) if src else next((a.work / "src").glob(f"*/{LLAMA_SPM_VOCAB}"))
        tokenizer, shape, name = tokenizer_fields(vocab), mixtral_gguf.MIXTRAL_8X7B, "mixtral-8x7b-instruct-shape-q4_k_m-zeros"
        template, source = mixtral_gguf.MIXTRAL_CHAT_TEMPLATE, f"{vocab.name} (Llama's 32,000-piece SentencePiece vocabulary)"
    path = a.work / f"{name}.gguf"
    record = mixtral_gguf.write_gguf(path, shape=shape, tokenizer=tokenizer, name=name, chat_template=template)
    record["tokenizer_from"] = source
    if not a.dry_run:
        from inference.registry import get

        expected = get("mixtral-8x7b-instruct:q4_k_m").size_bytes
        record["registry_q4_k_m_bytes"] = expected
        record["size_vs_registry"] = round(record["bytes"] / expected, 5)
    run.result["gguf"] = record
    return {"seconds_writing": record["seconds"]}


def stage_doctor(run: Run) -> dict:
    env = child_env(run) | {"FOLIO_MODEL": run.result["gguf"]["path"], "FOLIO_HOME": str(run.args.work / "folio-home")}
    done = subprocess.run([sys.executable, "-m", "app.cli", "doctor", "--json"], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"folio doctor --json printed no JSON (exit {done.returncode}): {done.stderr[-1500:]}") from None
    run.result["doctor"] = {"exit_code": done.returncode, "report": report}
    return {}


def find_llama_bench(run: Run) -> Path | None:
    a = run.args
    candidates = [a.llama_bench, run.result.get("build", {}).get("llama_bench"), os.environ.get("FOLIO_LLAMA_BENCH"),
                  shutil.which("llama-bench")]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def stage_llama_bench(run: Run, fa: int) -> dict:
    exe = find_llama_bench(run)
    if exe is None:
        return {"status": "skipped", "reason": "no llama-bench binary (give --llama-bench, or set FOLIO_LLAMA_BENCH)"}
    a = run.args
    left = run.remaining()
    out = run_llama_bench(exe, Path(run.result["gguf"]["path"]), prompts=run.result["prompt_tokens"], n_gen=a.n_gen,
                          flash_attn=fa, reps=a.reps, n_gpu_layers=99 if a.n_gpu_layers < 0 else a.n_gpu_layers,
                          timeout=None if left is None else max(left - 5, 1), env=child_env(run))
    run.result.setdefault("llama_bench", {})[f"fa{fa}"] = out | {"binary": str(exe)}
    for r in out["rows"]:
        context = _context_of(run, r["tokens"] if r["test"] == "pp" else r["depth"])
        key = "prompt_tokens_per_s" if r["test"] == "pp" else "generation_tokens_per_s"
        _figure(run, tool="llama-bench", flash_attn=fa, context=context)[key] = r["tokens_per_s"]
    if "error" in out:
        raise RuntimeError(out["error"])
    return {}


def stage_folio(run: Run, fa: int) -> dict:
    a = run.args
    spec = {"model": run.result["gguf"]["path"], "prompts": run.result["prompt_tokens"], "n_gen": a.n_gen,
            "n_gpu_layers": a.n_gpu_layers, "flash_attn": bool(fa), "reps": a.reps}
    left = run.remaining()
    done = subprocess.run([sys.executable, "-m", "bench.gpu_mixtral", "folio-stream", json.dumps(spec)],
                          capture_output=True, text=True, env=child_env(run), cwd=REPO,
                          timeout=None if left is None else max(left - 5, 1), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Folio's stream failed (exit {done.returncode}): {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    run.result.setdefault("folio", {})[f"fa{fa}"] = out
    for r in out["rows"]:
        _figure(run, tool="folio", flash_attn=fa, context=_context_of(run, r["target_prompt_tokens"])).update(
            {k: r[k] for k in ("prompt_tokens", "ttft_s", "prompt_tokens_per_s", "decode_tokens_per_s", "generated_tokens")})
    return {"gpu_offload_supported": out["gpu_offload_supported"], "load_s": out["load_s"]}


def _context_of(run: Run, prompt_tokens: int) -> int:
    return dict(zip(run.result["prompt_tokens"], run.result["config"]["contexts"]))[prompt_tokens]


def _figure(run: Run, *, tool: str, flash_attn: int, context: int) -> dict:
    for f in run.result["figures"]:
        if (f["tool"], f["flash_attn"], f["context"]) == (tool, flash_attn, context):
            return f
    f = {"tool": tool, "flash_attn": flash_attn, "context": context,
         "prompt_tokens": run.result["prompt_tokens"][run.result["config"]["contexts"].index(context)]}
    run.result["figures"].append(f)
    return f


def run_all(args: argparse.Namespace) -> dict:
    run = Run(args)
    run.result["machine"] = machine()
    run.save()
    if not args.dry_run:
        if not run.stage("build", lambda: stage_build(run)):
            return run.result
    if not run.stage("gguf", lambda: stage_gguf(run)):
        return run.result
    n_ctx_train = run.result["gguf"].get("shape", {}).get("n_ctx_train") or max(args.contexts) + args.n_gen + 16
    run.result["prompt_tokens"] = prompt_lengths(args.contexts, n_ctx_train=n_ctx_train, n_gen=args.n_gen)
    run.stage("doctor", lambda: stage_doctor(run), needs_s=10)
    for fa in args.flash_attn:
        run.stage(f"llama_bench_fa{fa}", lambda: stage_llama_bench(run, fa), needs_s=30)
        run.stage(f"folio_fa{fa}", lambda: stage_folio(run, fa), needs_s=30)
    offloaded = any(v.get("gpu_offload_supported") for v in run.result.get("folio", {}).values())
    run.result["ran_on_gpu"] = bool(not args.dry_run and run.result["machine"].get("gpu") and offloaded)
    run.save()
    print(table(run.result), flush=True)
    return run.result


def table(result: dict) -> str:
    """The figures as a plain-text table."""
    lines = [f"{'tool':12} {'fa':>2} {'context':>7} {'prompt':>7} {'pp tok/s':>10} {'tg tok/s':>9} {'ttft s':>8}"]
    for f in sorted(result["figures"], key=lambda f: (f["flash_attn"], f["tool"], f["context"])):
        def num(key: str, fmt: str) -> str:
            value = f.get(key)
            return format(value, fmt) if isinstance(value, (int, float)) else "-"
        tg = f.get("generation_tokens_per_s", f.get("decode_tokens_per_s"))
        lines.append(f"{f['tool']:12} {f['flash_attn']:>2} {f['context']:>7} {f['prompt_tokens']:>7} "
                     f"{num('prompt_tokens_per_s', '10.1f')} {format(tg, '9.1f') if tg else '        -'} {num('ttft_s', '8.3f')}")
    return "\n".join(lines)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_mixtral", description=__doc__.split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true", help="the CPU path: tiny Mixtral, toy contexts, no CUDA build")
    p.add_argument("--out", type=Path, help="the JSON result (default bench/results/gpu_mixtral[.dry-run].json)")
    p.add_argument("--work", type=Path, help="build, GGUF and partial result (default /tmp/folio-gpu[-dry])")
    p.add_argument("--sdist", type=Path, default=REPO / ".whl", help="llama-cpp-python's sdist, or a folder holding it")
    p.add_argument("--model", type=Path, help="measure this GGUF instead of writing the zero-weight Mixtral")
    p.add_argument("--contexts", type=_ints, help="comma-separated (default 512,8192,32768; dry run 64,256,1024)")
    p.add_argument("--n-gen", type=int, help="tokens generated per measurement (default 128; dry run 16)")
    p.add_argument("--reps", type=int, default=1, help="timed repetitions of each measurement, after a warm-up (mean kept)")
    p.add_argument("--flash-attn", type=_ints, default=(0, 1), help="llama.cpp flash attention settings, in order")
    p.add_argument("--n-gpu-layers", type=int, default=-1, help="-1: all layers (llama-bench gets -ngl 99)")
    p.add_argument("--cuda-arch", help="CMake CUDA architecture (default: nvidia-smi's compute capability); "
                                       "'cpu' builds without CUDA, to check the build path on a machine without a GPU")
    p.add_argument("--jobs", type=int, help="build jobs (default: all cores)")
    p.add_argument("--llama-bench", type=Path, help="a llama-bench binary to use (dry run: optional)")
    p.add_argument("--deadline-s", type=float, help="stop starting stages this many seconds after start")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="ignore stages done by an earlier run")
    a = p.parse_args(argv)
    a.out = a.out or RESULTS / ("gpu_mixtral.dry-run.json" if a.dry_run else "gpu_mixtral.json")
    a.work = a.work or Path("/tmp/folio-gpu-dry" if a.dry_run else "/tmp/folio-gpu")
    a.contexts = a.contexts or (DRY_CONTEXTS if a.dry_run else CONTEXTS)
    a.n_gen = a.n_gen or (16 if a.dry_run else 128)
    return a


def main(argv: Sequence[str] | None = None) -> dict | None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["folio-stream"]:
        spec = json.loads(argv[1])
        out = folio_stream(Path(spec["model"]), prompts=spec["prompts"], n_gen=spec["n_gen"],
                           n_gpu_layers=spec["n_gpu_layers"], flash_attn=spec["flash_attn"], reps=spec["reps"])
        print(json.dumps(out), flush=True)
        return out
    if argv[:1] == ["prepare"]:
        from bench.gpu_build import prepare

        dest = Path(argv[1]) if len(argv) > 1 else REPO / ".whl"
        record = prepare(dest, wheels=WHEELS)
        print(json.dumps(record, indent=2))
        return record
    return run_all(parse_args(argv))


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result is None or not any(s.get("status") == "failed" for s in result.get("stages", {}).values()) else 1)
