"""Load a GGUF with the planned GPU layers and context, stepping down when llama.cpp runs out of memory.

The offload plan (:mod:`inference.planning`) is an estimate; drivers, other processes and compute
buffers take memory it cannot see. When llama.cpp fails for memory (``Failed to load model`` or
``Failed to create llama_context``), :func:`load_with_fallback` retries, first with half the GPU
layers (down to none: answers get slower but keep the context the user asked for), then with half
the context (never below ``min_ctx``), and says in one sentence what it fell back to.
:func:`fallback_steps` is the plan of retries, as a pure function.

>>> [f"{gpu}/{ctx}" for gpu, ctx in fallback_steps(n_gpu_layers=8, n_ctx=8192)]
['8/8192', '4/8192', '2/8192', '1/8192', '0/8192', '0/4096', '0/2048']

With a fake loader that only fits 2 GPU layers:

>>> def loader(path, *, n_ctx, n_gpu_layers, **options):
...     if n_gpu_layers > 2:
...         raise ValueError("Failed to create llama_context")
...     return f"model with {n_gpu_layers} layers"
>>> load_with_fallback("m.gguf", n_ctx=8192, n_gpu_layers=8, loader=loader)
('model with 2 layers', 'Not enough memory for 8 GPU layers, so the model runs with 2 GPU layers (slower).')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ModelError

if TYPE_CHECKING:
    from inference.llama import LlamaCppChatModel

__all__ = ["MEMORY_FAILURES", "fallback_steps", "is_memory_failure", "load_with_fallback"]

#: llama.cpp's messages when the weights or the context (KV cache, compute buffers) do not fit.
MEMORY_FAILURES = ("Failed to create llama_context", "Failed to load model")


def fallback_steps(*, n_gpu_layers: int, n_ctx: int, min_ctx: int = 2048) -> Iterator[tuple[int, int]]:
    """The (GPU layers, context) to try in order: the plan, then halved layers to 0, then halved context."""
    layers, ctx = max(0, n_gpu_layers), n_ctx
    yield layers, ctx
    while layers > 0:
        layers //= 2
        yield layers, ctx
    while ctx > min_ctx:
        ctx = max(min_ctx, ctx // 2)
        yield layers, ctx


def is_memory_failure(error: Exception) -> bool:
    """Whether llama.cpp's error (raw, or wrapped in a :class:`ModelError`) may be for lack of memory."""
    return any(marker in str(error) for marker in MEMORY_FAILURES)


def load_with_fallback(path: Path | str, *, n_ctx: int, n_gpu_layers: int, n_threads: int | None = None,
                       min_ctx: int = 2048, loader: Callable[..., LlamaCppChatModel] | None = None,
                       **options: Any) -> tuple[LlamaCppChatModel, str | None]:
    """The model loaded with the plan or the first step down that fits, and a note if it stepped down.

    ``loader`` defaults to :class:`inference.llama.LlamaCppChatModel` (tests inject a fake); ``options``
    go to it unchanged. ``n_ctx`` is the context wanted (already capped to the trained one). Errors
    other than memory ones, and weights that fail to load with no GPU layers (a bad file, or too little
    RAM, which no smaller context fixes) are raised at once as :class:`ModelError`; so is running out of
    steps.
    """
    if loader is None:
        from inference.llama import LlamaCppChatModel

        loader = LlamaCppChatModel
    failed: Exception | None = None
    for layers, ctx in fallback_steps(n_gpu_layers=n_gpu_layers, n_ctx=n_ctx, min_ctx=min(min_ctx, n_ctx)):
        try:
            model = loader(path, n_ctx=ctx, n_gpu_layers=layers, n_threads=n_threads, **options)
        except (ValueError, ModelError) as error:
            # Weights that fail to load with nothing on the GPU point at the file, not at memory.
            if not is_memory_failure(error) or (layers == 0 and "Failed to load model" in str(error)):
                raise _as_model_error(error, path) from None
            failed = error
            continue
        return model, None if failed is None else _note(n_gpu_layers, n_ctx, layers, ctx)
    raise ModelError(f"The model {Path(path).name} does not fit in this machine's memory even with "
                     f"{layers} GPU layers and a {ctx}-token context ({_detail(failed)}); "
                     "free memory, lower FOLIO_N_CTX, or pick a smaller quantization.")


def _note(planned_layers: int, planned_ctx: int, layers: int, ctx: int) -> str:
    """One sentence: what did not fit and what the model runs with instead."""
    wanted, got = [], []
    if layers != planned_layers:
        wanted.append(f"{planned_layers} GPU layers")
        got.append(f"{layers} GPU layers (slower)" if layers else "the CPU only (slower)")
    if ctx != planned_ctx:
        wanted.append(f"a {planned_ctx}-token context")
        got.append(f"a {ctx}-token context (fewer sources per answer)")
    return f"Not enough memory for {' and '.join(wanted)}, so the model runs with {' and '.join(got)}."


def _detail(error: Exception | None) -> str:
    """llama.cpp's own words, unwrapped from :class:`inference.llama.LlamaCppChatModel`'s sentence."""
    text = str(error or "unknown error").rstrip(".")
    return text.split(" could not be loaded (", 1)[-1].split("); ", 1)[0] if "could not be loaded (" in text else text


def _as_model_error(error: Exception, path: Path | str) -> ModelError:
    if isinstance(error, ModelError):
        return error
    return ModelError(f"The model {Path(path).name} could not be loaded ({_detail(error)}); "
                      "check the file or try a smaller context.")
