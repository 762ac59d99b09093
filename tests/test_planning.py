"""The offload planner on Mixtral 8x7B's real numbers (no file, no GPU needed)."""

from __future__ import annotations

import pytest

from inference.planning import (
    GPU_RESERVE_BYTES,
    RAM_RESERVE_BYTES,
    Footprint,
    GiB,
    compute_buffer_bytes,
    footprint,
    kv_cache_bytes,
    plan,
)
from inference.registry import get

Q4 = get("mixtral-8x7b-instruct:q4_k_m")
Q8 = get("mixtral-8x7b-instruct:q8_0")
RAM = 128 * GiB
CTX = 32768


def mixtral_plan(spec, vram_gb: float, *, n_ctx: int = CTX, ram: int = RAM, cache_type: str = "f16"):
    return plan(spec, vram_bytes=int(vram_gb * GiB), ram_bytes=ram, n_ctx=n_ctx, cache_type=cache_type)


# --- KV cache -------------------------------------------------------------------------------------


def test_mixtral_kv_cache_is_128_kib_per_token_in_f16():
    per_token = kv_cache_bytes(n_layer=32, n_ctx=1, n_head_kv=8, head_dim=128)
    assert per_token == 32 * 8 * 128 * 2 * 2 == 131072
    assert kv_cache_bytes(n_layer=32, n_ctx=CTX, n_head_kv=8, head_dim=128) == 131072 * CTX == 4 * GiB
    assert footprint(Q4).kv_bytes(32, 1, "f16") == 131072  # what the plan uses for a registry entry


def test_q8_0_cache_costs_34_bytes_per_32_values():
    # one layer, one token: K and V rows of 8 heads x 128 = 1024 values = 32 blocks of 34 bytes each
    assert kv_cache_bytes(n_layer=1, n_ctx=1, n_head_kv=8, head_dim=128, cache_type="q8_0") == 2 * 32 * 34
    f16 = kv_cache_bytes(n_layer=32, n_ctx=CTX, n_head_kv=8, head_dim=128)
    q8 = kv_cache_bytes(n_layer=32, n_ctx=CTX, n_head_kv=8, head_dim=128, cache_type="q8_0")
    assert q8 == f16 * 34 // 64


def test_kv_cache_rejects_unknown_type():
    with pytest.raises(ValueError, match="q5_9"):
        kv_cache_bytes(n_layer=1, n_ctx=1, n_head_kv=1, head_dim=32, cache_type="q5_9")


def test_kv_cache_args_are_keyword_only():
    with pytest.raises(TypeError):
        kv_cache_bytes(32, 1, 8, 128)  # type: ignore[misc]


# --- the registry estimate ------------------------------------------------------------------------


def test_registry_footprint_adds_up_to_the_file_size():
    fp = footprint(Q4)
    assert fp.n_layer == 32 and len(fp.layer_bytes) == 32 and not fp.exact
    assert fp.weights_bytes == Q4.size_bytes
    # the 32 blocks hold ~99.4% of Mixtral's 46.7B parameters
    assert 0.99 < sum(fp.layer_bytes) / Q4.size_bytes < 1.0
    assert Q4.arch.n_params == pytest.approx(46.7e9, rel=0.005)


# --- the plans the README promises ----------------------------------------------------------------


def test_no_gpu_means_cpu_only():
    p = mixtral_plan(Q4, 0)
    assert p.n_gpu_layers == 0 and p.offload == "none" and p.vram_needed == 0
    assert p.fits  # 128 GiB of RAM holds it
    assert p.ram_needed > Q4.size_bytes
    assert "CPU" in p.summary and p.summary.endswith(".")


def test_8_gb_card_takes_a_few_layers():
    p = mixtral_plan(Q4, 8)
    assert p.offload == "partial"
    assert 2 <= p.gpu_repeating_layers <= 8
    assert p.vram_needed <= 8 * GiB and p.fits


def test_24_gb_card_at_32k_is_a_partial_offload():
    p = mixtral_plan(Q4, 24)
    assert p.offload == "partial" and p.fits
    assert 0 < p.n_gpu_layers < 33
    assert p.vram_needed <= 24 * GiB
    # one more block (its weights and its KV cache) would not fit
    fp = footprint(Q4)
    one_more = fp.layer_bytes[0] + kv_cache_bytes(n_layer=1, n_ctx=CTX, n_head_kv=8, head_dim=128)
    assert p.vram_needed + one_more > 24 * GiB


def test_48_gb_holds_q4_k_m_entirely():
    p = mixtral_plan(Q4, 48)
    assert p.offload == "full" and p.fits
    assert p.n_gpu_layers == 33 and p.gpu_repeating_layers == 32 and p.output_on_gpu


def test_80_gb_holds_everything_with_room_to_spare():
    p = mixtral_plan(Q4, 80)
    assert p.n_gpu_layers == p.n_layers + 1 == 33
    assert p.gpu_repeating_layers == 32 and p.fits and p.offload == "full"
    assert p.max_ctx_that_fits == 32768  # capped at the trained context
    assert p.ram_needed < 2 * GiB  # only token_embd and the process stay in RAM


def test_q8_0_is_partial_on_48_gb_and_full_on_80_gb():
    p48 = mixtral_plan(Q8, 48)
    assert p48.offload == "partial" and p48.fits and p48.vram_needed <= 48 * GiB
    # at a short enough context Q8_0 would fit whole on the 48 GB card, and the plan says how short
    assert 0 < p48.max_ctx_that_fits < CTX
    assert mixtral_plan(Q8, 48, n_ctx=p48.max_ctx_that_fits).offload == "full"
    assert mixtral_plan(Q8, 48, n_ctx=p48.max_ctx_that_fits + 256).offload != "full"
    assert f"{p48.max_ctx_that_fits:,}" in p48.summary
    p80 = mixtral_plan(Q8, 80)
    assert p80.offload == "full" and p80.n_gpu_layers == 33 and p80.fits


def test_more_vram_never_means_fewer_layers():
    layers = [mixtral_plan(Q4, gb).n_gpu_layers for gb in range(0, 81, 2)]
    assert layers == sorted(layers)
    assert layers[0] == 0 and layers[-1] == 33


def test_longer_context_never_means_more_layers():
    layers = [mixtral_plan(Q4, 24, n_ctx=ctx).n_gpu_layers for ctx in (2048, 4096, 8192, 16384, 32768)]
    assert layers == sorted(layers, reverse=True)


def test_q8_0_cache_puts_more_layers_on_the_gpu():
    f16 = mixtral_plan(Q4, 24)
    q8 = mixtral_plan(Q4, 24, cache_type="q8_0")
    assert q8.n_gpu_layers >= f16.n_gpu_layers
    assert q8.kv_cache_bytes == q8.kv_cache_bytes_q8_0 < q8.kv_cache_bytes_f16 == 4 * GiB


def test_too_little_ram_does_not_fit_and_says_so():
    p = mixtral_plan(Q4, 0, ram=16 * GiB)
    assert not p.fits
    assert "RAM" in p.summary and "16.0 GiB" in p.summary


# --- the accounting itself ------------------------------------------------------------------------


def _toy(n_layer: int = 4, layer: int = 1000, n_ctx_train: int = 4096) -> Footprint:
    return Footprint(name="toy", n_layer=n_layer, n_head=2, n_head_kv=1, head_dim_k=32, head_dim_v=32, n_vocab=100,
                     n_ctx_train=n_ctx_train, layer_bytes=(layer,) * n_layer, input_bytes=300, output_bytes=500,
                     other_bytes=7, exact=True)


def test_vram_and_ram_needs_are_the_documented_sums():
    fp = _toy()
    n_ctx = 1024
    kv_layer = kv_cache_bytes(n_layer=1, n_ctx=n_ctx, n_head_kv=1, head_dim=32)
    compute = compute_buffer_bytes(n_ctx=n_ctx, n_head=2, n_vocab=100)
    # room for the output layer and two blocks, not three
    vram = 500 + 2 * (1000 + kv_layer) + compute + GPU_RESERVE_BYTES
    p = plan(fp, vram_bytes=vram, ram_bytes=10 * GiB, n_ctx=n_ctx)
    assert p.n_gpu_layers == 3 and p.gpu_repeating_layers == 2
    assert p.vram_needed == vram
    assert p.ram_needed == 300 + 7 + 2 * (1000 + kv_layer) + compute + RAM_RESERVE_BYTES
    # CPU only: every byte of the file is in RAM, once
    p0 = plan(fp, vram_bytes=0, ram_bytes=10 * GiB, n_ctx=n_ctx)
    assert p0.ram_needed == fp.weights_bytes + 4 * kv_layer + compute + RAM_RESERVE_BYTES


def test_max_ctx_is_the_largest_context_that_keeps_the_plan():
    fp = _toy(n_ctx_train=1 << 20)
    p = plan(fp, vram_bytes=2 * GiB, ram_bytes=4 * GiB, n_ctx=4096)
    assert p.offload == "full"
    edge = p.max_ctx_that_fits
    assert edge % 256 == 0 and edge > 4096
    assert plan(fp, vram_bytes=2 * GiB, ram_bytes=4 * GiB, n_ctx=edge).offload == "full"
    assert plan(fp, vram_bytes=2 * GiB, ram_bytes=4 * GiB, n_ctx=edge + 256).offload != "full"


def test_nothing_fits_gives_zero_context():
    p = plan(_toy(), vram_bytes=0, ram_bytes=1000, n_ctx=256)
    assert not p.fits and p.max_ctx_that_fits == 0


def test_plan_rejects_a_bad_context():
    with pytest.raises(ValueError):
        plan(Q4, vram_bytes=GiB, ram_bytes=GiB, n_ctx=0)


def test_embedders_cannot_be_planned():
    with pytest.raises(ValueError, match="all-minilm"):
        footprint(get("all-minilm-l6-v2"))


def test_plan_for_the_bundled_model_on_this_machine():
    from inference import gguf_info, hardware
    from inference.registry import bundled_llm_path

    hw = hardware.probe()
    p = plan(gguf_info.read(bundled_llm_path()), vram_bytes=hw.usable_vram_bytes, ram_bytes=hw.ram_bytes, n_ctx=2048)
    assert p.exact and p.n_layers == 30 and p.fits
    if hw.usable_vram_bytes == 0:
        assert p.n_gpu_layers == 0 and p.offload == "none"
