"""The GPU benchmark (bench/gpu_mixtral.py) without a GPU: its CPU dry run for real, and its GGUF size math.

The dry run writes the tiny Mixtral through the same sparse Q4_K_M writer as the real run, loads it
in the real llama.cpp on the CPU, measures Folio's stream, runs the real ``folio doctor --json``, and
(where a ``llama-bench`` binary is given in ``FOLIO_LLAMA_BENCH`` or on the PATH) llama.cpp's bench.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.mixtral_gguf import MIXTRAL_8X7B, PlannedTensor, q4_k_m_type, tensor_plan, write_gguf
from inference.gguf_info import parse_header
from inference.registry import APPROX_SIZE_TOLERANCE, bundled_llm_path, get
from tests.gguf_factory import tokenizer_fields

REPO = Path(__file__).resolve().parent.parent


def _dry_run(work: Path, out: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.gpu_mixtral", "--dry-run", "--work", str(work), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    return done, time.perf_counter() - start


def test_dry_run_measures_every_context_and_writes_one_json(tmp_path):
    out = tmp_path / "gpu_mixtral.json"
    done, seconds = _dry_run(tmp_path / "work", out)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())

    assert result["dry_run"] is True and result["ran_on_gpu"] is False
    assert "only the speeds count" in result["weights"]
    assert result["machine"]["cores"] and "python" in result["machine"]
    assert result["gguf"]["types"] == {"F32": 7, "Q4_K": 8, "Q5_K": 2, "Q6_K": 2, "Q8_0": 4}
    for stage in ("gguf", "doctor", "folio_fa0", "folio_fa1"):
        assert result["stages"][stage]["status"] == "done", result["stages"][stage]
        assert result["stages"][stage]["seconds"] >= 0

    doctor = result["doctor"]["report"]
    assert result["doctor"]["exit_code"] == 0 and doctor["ok"] is True
    assert (doctor["model"]["quantization"], doctor["model"]["experts"], doctor["model"]["stand_in"]) == ("Q4_K_M", 8, False)

    contexts, n_gen = result["config"]["contexts"], result["config"]["n_gen"]
    folio = {(f["flash_attn"], f["context"]): f for f in result["figures"] if f["tool"] == "folio"}
    assert set(folio) == {(fa, c) for fa in (0, 1) for c in contexts}
    for (fa, context), f in folio.items():
        assert abs(f["prompt_tokens"] - context) <= 2, f
        assert f["prompt_tokens_per_s"] > 0 and f["ttft_s"] > 0, f
        # the one-hot output row keeps greedy decoding going: every answer runs to the token limit
        assert f["generated_tokens"] == n_gen and f["decode_tokens_per_s"] > 0, f

    # Folio's calibration at load on that machine, and the context it would pack for a 10 s first word.
    calibration = result["folio"]["fa0"]["calibration"]
    assert calibration["prompt_tps"] > 0 and calibration["generation_tps"] > 0
    assert calibration["reason"] in ("target", "floor", "whole") and 0 < calibration["source_tokens"] < calibration["n_ctx"]

    bench = [f for f in result["figures"] if f["tool"] == "llama-bench"]
    if os.environ.get("FOLIO_LLAMA_BENCH") or shutil.which("llama-bench"):
        assert {(f["flash_attn"], f["context"]) for f in bench} == set(folio)
        assert all(f["prompt_tokens_per_s"] > 0 and f["generation_tokens_per_s"] > 0 for f in bench), bench
    else:
        assert not bench
        assert "no llama-bench binary" in result["stages"]["llama_bench_fa0"]["reason"]
    assert seconds < 120

    # a second run in the same work folder finds every stage done and keeps the figures
    again, _ = _dry_run(tmp_path / "work", tmp_path / "again.json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("already done") >= 4
    assert json.loads((tmp_path / "again.json").read_text())["figures"] == result["figures"]


def _vocab_of(n: int) -> tuple:
    """The bundled SmolLM2 tokenizer cut to ``n`` tokens: enough for a header whose vocabulary is ``n`` long."""
    cut = []
    for key, value, vtype, sub in tokenizer_fields(bundled_llm_path()):
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.scores"):
            value = value[:n]
        if key not in ("tokenizer.ggml.merges", "tokenizer.chat_template"):
            cut.append((key, value, vtype, sub))
    return tuple(cut)


def test_mixtral_gguf_has_q4_k_m_shapes_types_and_size(tmp_path):
    path = tmp_path / "mixtral.gguf"
    record = write_gguf(path, shape=MIXTRAL_8X7B, tokenizer=_vocab_of(32000), header_only=True)
    info = parse_header(path.read_bytes(), file_size=record["bytes"])

    assert (info.architecture, info.quant, info.expert_layout) == ("llama", "Q4_K_M", "merged")
    assert (info.n_layer, info.n_embd, info.n_head, info.n_head_kv, info.n_ff) == (32, 4096, 32, 8, 14336)
    assert (info.n_expert, info.n_expert_used, info.n_vocab, info.n_ctx_train) == (8, 2, 32000, 32768)
    assert info.metadata["llama.rope.freq_base"] == 1e6
    assert "[INST]" in info.chat_template
    assert not info.is_truncated and info.expected_file_size == record["bytes"]

    tensors = {t.name: t for t in info.tensors}
    assert len(tensors) == 1 + 32 * 10 + 2
    expect = {"token_embd.weight": ((4096, 32000), "Q4_K"), "output.weight": ((4096, 32000), "Q6_K"),
              "output_norm.weight": ((4096,), "F32"), "blk.5.attn_q.weight": ((4096, 4096), "Q4_K"),
              "blk.5.attn_k.weight": ((4096, 1024), "Q8_0"), "blk.5.attn_v.weight": ((4096, 1024), "Q8_0"),
              "blk.5.attn_output.weight": ((4096, 4096), "Q5_K"), "blk.5.ffn_gate_inp.weight": ((4096, 8), "F32"),
              "blk.5.ffn_gate_exps.weight": ((4096, 14336, 8), "Q4_K"), "blk.5.ffn_up_exps.weight": ((4096, 14336, 8), "Q4_K"),
              "blk.5.ffn_down_exps.weight": ((14336, 4096, 8), "Q4_K"), "blk.6.ffn_down_exps.weight": ((14336, 4096, 8), "Q6_K")}
    for name, (shape, type_name) in expect.items():
        assert (tensors[name].shape, tensors[name].type_name) == (shape, type_name), name
    q6_down = sorted(i for i in range(32) if tensors[f"blk.{i}.ffn_down_exps.weight"].type_name == "Q6_K")
    assert q6_down == [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]

    # the real file Folio downloads (tensorblock's Q4_K_M, llama.cpp b4242): 28.448 GB on its model card
    published = get("mixtral-8x7b-instruct:q4_k_m").size_bytes
    assert abs(record["bytes"] - published) / published < APPROX_SIZE_TOLERANCE / 10
    assert path.stat().st_size < 2_000_000  # the test wrote the header only


def test_the_same_plan_under_q4_0_rules_matches_the_published_q4_0_size():
    """A cross-check of the size arithmetic on a second published file: llama.cpp's Q4_0 recipe puts every
    tensor in Q4_0 except the Q6_K output matrix and, on an 8-expert model, Q8_0 attention K and V."""
    total = 0
    for t in tensor_plan(MIXTRAL_8X7B):
        keep = t.ggml_type in ("F32", "Q8_0") or t.name == "output.weight"
        total += PlannedTensor(t.name, t.shape, t.ggml_type if keep else "Q4_0", t.fill).n_bytes
    published = get("mixtral-8x7b-instruct:q4_0").size_bytes  # 26.444 GB
    assert abs(total - published) / published < 0.001


@pytest.mark.parametrize(("name", "expected"), [("blk.31.ffn_down_exps.weight", "Q6_K"), ("blk.26.ffn_down_exps.weight", "Q4_K"),
                                                ("blk.26.attn_v.weight", "Q8_0"), ("blk.0.ffn_norm.weight", "F32")])
def test_q4_k_m_recipe_for_mixtral(name, expected):
    assert q4_k_m_type(name, n_layer=32, n_expert=8) == expected


@pytest.mark.parametrize("module", ["bench.gpu_build", "bench.gpu_mixtral", "bench.mixtral_gguf"])
def test_worked_examples_in_the_bench_docstrings(module):
    """bench/ is outside pytest's doctest paths, so its worked examples run here."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
