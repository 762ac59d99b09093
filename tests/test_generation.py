"""Generation in-process: loading with memory fallbacks, queued concurrent streams, stopping, and the
KV cache re-used across prompts that share their sources. Real bundled GGUF except for the fallback
logic, which a fake loader drives."""

from __future__ import annotations

import os
import threading

import pytest

from inference.loading import fallback_steps, load_with_fallback
from inference.registry import bundled_llm_path
from inference.speed import first_token_seconds
from core.errors import ModelError

SHORT = [{"role": "user", "content": "Write a long story about a dragon who guards a library."}]
OTHER = [{"role": "user", "content": "List the colours of the rainbow."}]


class FakeLoader:
    """Fits only within ``max_layers`` GPU layers and ``max_ctx`` tokens of context; records each try."""

    def __init__(self, *, max_layers: int = 99, max_ctx: int = 1 << 20,
                 error: str = "Failed to create llama_context", wrap: bool = False) -> None:
        self.max_layers, self.max_ctx, self.error, self.wrap = max_layers, max_ctx, error, wrap
        self.tries: list[tuple[int, int]] = []

    def __call__(self, path, *, n_ctx: int, n_gpu_layers: int, n_threads=None, **options):
        self.tries.append((n_gpu_layers, n_ctx))
        if n_gpu_layers > self.max_layers or n_ctx > self.max_ctx:
            if self.wrap:  # as LlamaCppChatModel reports it
                raise ModelError(f"The model m.gguf could not be loaded ({self.error}); "
                                 "check the file or try a smaller context.")
            raise ValueError(self.error)
        return {"n_gpu_layers": n_gpu_layers, "n_ctx": n_ctx, **options}


def test_fallback_steps_halve_layers_to_zero_then_context_to_the_floor():
    assert list(fallback_steps(n_gpu_layers=33, n_ctx=32768)) == [
        (33, 32768), (16, 32768), (8, 32768), (4, 32768), (2, 32768), (1, 32768), (0, 32768),
        (0, 16384), (0, 8192), (0, 4096), (0, 2048)]
    assert list(fallback_steps(n_gpu_layers=0, n_ctx=3000)) == [(0, 3000), (0, 2048)]
    assert list(fallback_steps(n_gpu_layers=0, n_ctx=2048)) == [(0, 2048)]


def test_the_plan_that_fits_loads_as_is_without_a_note():
    loader = FakeLoader()
    model, note = load_with_fallback("m.gguf", n_ctx=8192, n_gpu_layers=33, loader=loader, flash_attn=True)
    assert model == {"n_gpu_layers": 33, "n_ctx": 8192, "flash_attn": True} and note is None
    assert loader.tries == [(33, 8192)]


@pytest.mark.parametrize("wrap", [False, True], ids=["ValueError", "ModelError"])
def test_fewer_gpu_layers_first(wrap):
    loader = FakeLoader(max_layers=5, wrap=wrap)
    model, note = load_with_fallback("m.gguf", n_ctx=8192, n_gpu_layers=33, loader=loader)
    assert loader.tries == [(33, 8192), (16, 8192), (8, 8192), (4, 8192)] and model["n_gpu_layers"] == 4
    assert note == "Not enough memory for 33 GPU layers, so the model runs with 4 GPU layers (slower)."


def test_then_a_smaller_context_never_below_the_floor():
    loader = FakeLoader(max_layers=0, max_ctx=5000)
    model, note = load_with_fallback("m.gguf", n_ctx=16384, n_gpu_layers=2, loader=loader)
    assert loader.tries == [(2, 16384), (1, 16384), (0, 16384), (0, 8192), (0, 4096)]
    assert note == ("Not enough memory for 2 GPU layers and a 16384-token context, so the model runs with "
                    "the CPU only (slower) and a 4096-token context (fewer sources per answer).")
    loader = FakeLoader(max_layers=0, max_ctx=1024)
    with pytest.raises(ModelError, match=r"even with 0 GPU layers and a 2048-token context \(Failed to create"):
        load_with_fallback("m.gguf", n_ctx=4096, n_gpu_layers=0, loader=loader)
    assert loader.tries == [(0, 4096), (0, 2048)]


def test_errors_that_are_not_memory_are_raised_at_once():
    loader = FakeLoader(max_layers=0, error="unknown model architecture: 'mamba9'")
    with pytest.raises(ModelError, match="could not be loaded .unknown model architecture"):
        load_with_fallback("m.gguf", n_ctx=4096, n_gpu_layers=8, loader=loader)
    assert loader.tries == [(8, 4096)]


def test_weights_that_fail_on_the_cpu_are_not_retried_with_less_context():
    loader = FakeLoader(max_layers=-1, error="Failed to load model from file: m.gguf")
    with pytest.raises(ModelError, match="Failed to load model from file"):
        load_with_fallback("m.gguf", n_ctx=8192, n_gpu_layers=2, loader=loader)
    assert loader.tries == [(2, 8192), (1, 8192), (0, 8192)]


# -- the real bundled model ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    """The bundled GGUF loaded through the fallback loader; one thread, so a busy machine slows it least."""
    model, note = load_with_fallback(bundled_llm_path(), n_ctx=2048, n_gpu_layers=0, n_threads=1)
    assert note is None and model.n_ctx == 2048 and model.n_gpu_layers == 0
    # llama-cpp-python evaluates prompts with one thread per core unless told otherwise (n_threads_batch);
    # on a shared machine those threads' spin-waits make prompt timings erratic, so pin them to one too.
    model._llama._ctx.set_n_threads(1, 1)
    yield model
    model.close()


def answer(model, messages, max_tokens: int = 24, **options) -> str:
    return "".join(model.stream(messages, max_tokens=max_tokens, temperature=0, **options))


def test_two_threads_streaming_at_once_are_queued_and_both_complete(model):
    pieces: list[tuple[int, str]] = []  # (which thread, piece), in the order they arrive
    started = threading.Barrier(2)

    def run(i: int, messages) -> None:
        started.wait()
        for piece in model.stream(messages, max_tokens=24, temperature=0):
            pieces.append((i, piece))

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate([SHORT, OTHER])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    order = [i for i, _ in pieces]
    assert sorted(set(order)) == [0, 1] and sum(a != b for a, b in zip(order, order[1:])) == 1, "one after the other"
    story, colours = ("".join(p for i, p in pieces if i == n).lower() for n in (0, 1))
    assert "dragon" in story and "rainbow" in colours  # each answer is about its own question
    assert not model._lock.locked()


def sources_message(n: int) -> dict[str, str]:
    blocks = "\n\n".join(f'<source n="{i}" file="handbook.pdf" page="{i}">\nDepot {i} opens at {6 + i % 5} in the morning, '
                         f"closes at {17 + i % 4} in the evening, and trucks load at bay {i}.\n</source>"
                         for i in range(1, n + 1))
    return {"role": "system", "content": f"Answer only from the sources below.\n\nSources:\n\n{blocks}"}


def test_a_follow_up_on_the_same_sources_evaluates_only_its_new_tokens(model, monkeypatch):
    system = sources_message(26)
    cold_messages = [system, {"role": "user", "content": "When does depot 3 open?"}]
    warm_messages = [system, {"role": "user", "content": "Which bay does depot 7 use?"}]
    cold_tokens, warm_tokens = model.render(cold_messages)[0], model.render(warm_messages)[0]
    shared = len(os.path.commonprefix([cold_tokens, warm_tokens]))
    assert len(cold_tokens) > 1400 and len(warm_tokens) - shared < 30

    evaluated: list[int] = []
    eval_tokens = model._llama.eval
    monkeypatch.setattr(model._llama, "eval", lambda tokens: (evaluated.append(len(tokens)), eval_tokens(tokens))[1])

    def cold_then_warm(messages) -> float:
        evaluated.clear()
        return first_token_seconds(model, messages)

    # The prompt is read in batches (progress, Stop between them); a token or two of the answer may follow.
    model._llama.reset()  # cold: nothing cached
    cold = cold_then_warm(cold_messages)
    assert len(cold_tokens) <= sum(evaluated) <= len(cold_tokens) + 3 and len(evaluated) > 1
    warm = cold_then_warm(warm_messages)
    new = len(warm_tokens) - shared
    assert new <= sum(evaluated) <= new + 3, "only the tokens after the shared sources are evaluated"
    assert warm < 0.5 * cold, f"warm {warm:.3f}s vs cold {cold:.3f}s"
