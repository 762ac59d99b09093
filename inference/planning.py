"""Will it fit? How many layers of a GGUF model go on the GPU, and what that costs in VRAM and RAM.

Pure functions over numbers: nothing here touches a file or a device. The input is either a
:class:`~inference.gguf_info.GGUFInfo` (exact bytes per layer, read from the header) or a registry
:class:`~inference.registry.ModelSpec` (bytes estimated from the published file size, split across
tensors in proportion to their parameter counts).

Worked example (Mixtral 8x7B Instruct Q4_K_M, 28.4 GB file, 32K context, f16 KV cache)::

    KV cache per token  = 32 layers x 8 kv heads x 128 dims x 2 (K and V) x 2 bytes = 131,072 B
    KV cache at 32,768  = 131,072 x 32,768 = 4 GiB (q8_0 cache: 34 bytes per 32 values -> 2.1 GiB)
    compute scratch     = 512-token micro-batch x 4 bytes x (32,768 ctx x 32 heads + 32,000 vocab)
                        = 2.06 GiB, plus GPU_RESERVE_BYTES (768 MiB) of fixed overhead
    full offload needs  ~ 26.4 GiB of weights (token_embd stays in RAM) + 4 GiB KV + 2.8 GiB = ~33.2 GiB of VRAM

    >>> from inference.registry import get
    >>> p = plan(get("mixtral-8x7b-instruct:q4_k_m"), vram_bytes=80 * GiB, ram_bytes=64 * GiB, n_ctx=32768)
    >>> p.offload, p.n_gpu_layers, p.fits
    ('full', 33, True)
    >>> plan(get("mixtral-8x7b-instruct:q4_k_m"), vram_bytes=24 * GiB, ram_bytes=64 * GiB, n_ctx=32768).offload
    'partial'

How layers are placed (as llama.cpp does it): ``n_gpu_layers`` is the number handed to
``llama_cpp.Llama(n_gpu_layers=...)``. llama.cpp counts the output layer (``output.weight``,
``output_norm``) as one more layer and offloads it first, then repeating layers from the last one
backwards; the input embeddings (``token_embd``) always stay in RAM. So for Mixtral (32 layers)
``n_gpu_layers`` runs from 0 (CPU only) to 33 (everything), and ``n_gpu_layers=k`` puts the output
plus the last ``k-1`` blocks on the GPU. Each layer's KV cache lives with its layer.

What is reserved beyond weights and KV cache:

- ``GPU_RESERVE_BYTES`` (768 MiB) on the GPU whenever it is used: CUDA/Metal context, cuBLAS
  workspaces and allocator slack.
- a compute buffer proportional to the context on each device that runs layers:
  :func:`compute_buffer_bytes` = the f32 attention scores of one 512-token micro-batch
  (``n_ctx x n_head``) plus its logits (``n_vocab``). That is llama.cpp's size without flash attention;
  with flash attention the real buffer is smaller, so the plan errs on the safe side.
- ``RAM_RESERVE_BYTES`` (512 MiB) in RAM for the process itself.

``max_ctx_that_fits`` answers "how far can I raise the context?": if the whole model fits on the GPU
at some context, it is the largest context (a multiple of 256, at most the trained context) at which
it still fits entirely on the GPU; otherwise it is the largest context at which the plan's own
``n_gpu_layers`` still fit in VRAM with the rest in RAM (with ``n_gpu_layers=0``: the largest context
that fits in RAM). 0 means not even a 256-token context fits.

``cache_type='q8_0'`` matches llama.cpp's ``type_k``/``type_v`` = Q8_0 (a quantized V cache needs
flash attention enabled).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference.gguf_info import GGUFInfo
    from inference.registry import Architecture, ModelSpec

__all__ = [
    "CACHE_TYPES",
    "GPU_RESERVE_BYTES",
    "GiB",
    "Footprint",
    "OffloadPlan",
    "RAM_RESERVE_BYTES",
    "compute_buffer_bytes",
    "footprint",
    "kv_cache_bytes",
    "plan",
]

GiB = 1024**3
MiB = 1024**2
#: Fixed VRAM overhead whenever the GPU is used: driver context, cuBLAS workspaces, allocator slack.
GPU_RESERVE_BYTES = 768 * MiB
#: Fixed RAM overhead of the process (interpreter, llama.cpp host buffers).
RAM_RESERVE_BYTES = 512 * MiB
#: llama.cpp's default physical batch (n_ubatch): the compute buffer scales with it.
N_UBATCH = 512
#: Context sizes are planned in steps of this many tokens (llama.cpp pads the KV cache to 256).
CTX_STEP = 256
#: KV cache element formats: (bytes per block, values per block).
CACHE_TYPES: dict[str, tuple[int, int]] = {"f32": (4, 1), "f16": (2, 1), "bf16": (2, 1), "q8_0": (34, 32),
                                           "q4_0": (18, 32)}


def _row_bytes(n_values: int, cache_type: str) -> int:
    try:
        per_block, block = CACHE_TYPES[cache_type]
    except KeyError:
        raise ValueError(f"unknown KV cache type {cache_type!r}; use one of {', '.join(CACHE_TYPES)}") from None
    return ceil(n_values / block) * per_block


def kv_cache_bytes(*, n_layer: int, n_ctx: int, n_head_kv: int, head_dim: int, head_dim_v: int | None = None,
                   cache_type: str = "f16") -> int:
    """Bytes of the K and V cache for ``n_ctx`` tokens over ``n_layer`` layers.

    >>> kv_cache_bytes(n_layer=32, n_ctx=1, n_head_kv=8, head_dim=128)                     # Mixtral, f16
    131072
    >>> kv_cache_bytes(n_layer=32, n_ctx=32768, n_head_kv=8, head_dim=128) / 2**30
    4.0
    >>> kv_cache_bytes(n_layer=32, n_ctx=1, n_head_kv=8, head_dim=128, cache_type="q8_0")  # 34 B / 32 values
    69632
    """
    k = _row_bytes(n_head_kv * head_dim, cache_type)
    v = _row_bytes(n_head_kv * (head_dim if head_dim_v is None else head_dim_v), cache_type)
    return n_layer * n_ctx * (k + v)


def compute_buffer_bytes(*, n_ctx: int, n_head: int, n_vocab: int, n_ubatch: int = N_UBATCH) -> int:
    """Scratch llama.cpp needs per device for one micro-batch: f32 attention scores plus logits.

    >>> round(compute_buffer_bytes(n_ctx=32768, n_head=32, n_vocab=32000) / 2**30, 2)   # Mixtral at 32K
    2.06
    """
    return n_ubatch * 4 * (n_ctx * n_head + n_vocab)


@dataclass(frozen=True)
class Footprint:
    """The numbers planning needs about a model, whether read from a GGUF or estimated from the registry."""

    name: str
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    n_vocab: int
    n_ctx_train: int
    layer_bytes: tuple[int, ...]
    input_bytes: int  # token_embd: always in RAM
    output_bytes: int  # what the output layer costs on the GPU
    other_bytes: int
    exact: bool  # True when byte counts come from a GGUF header
    output_ram_bytes: int | None = None  # what it costs in RAM, if different (tied embeddings share token_embd)

    @property
    def output_cpu_bytes(self) -> int:
        return self.output_bytes if self.output_ram_bytes is None else self.output_ram_bytes

    @property
    def weights_bytes(self) -> int:
        """Bytes of all tensors in the file."""
        return sum(self.layer_bytes) + self.input_bytes + self.output_cpu_bytes + self.other_bytes

    def kv_bytes(self, n_layers: int, n_ctx: int, cache_type: str) -> int:
        return kv_cache_bytes(n_layer=n_layers, n_ctx=n_ctx, n_head_kv=self.n_head_kv, head_dim=self.head_dim_k,
                              head_dim_v=self.head_dim_v, cache_type=cache_type)


_SHAPE = ("n_layer", "n_head", "n_head_kv", "head_dim_k", "head_dim_v", "n_vocab", "n_ctx_train")


def _sized(shape: GGUFInfo | Architecture, **sizes) -> Footprint:
    """The footprint of a model of ``shape`` (a GGUF header or a registry architecture) with the byte counts given."""
    return Footprint(**{name: getattr(shape, name) for name in _SHAPE}, **sizes)


def footprint(model: GGUFInfo | ModelSpec | Footprint) -> Footprint:
    """Planning numbers for a GGUF header (exact) or a registry entry (estimated from its file size)."""
    if isinstance(model, Footprint):
        return model
    if hasattr(model, "layer_bytes"):  # GGUFInfo
        # Without an output.weight, llama.cpp reuses token_embd as the output matrix and copies it to
        # the GPU with the output layer (in RAM both share the same mapped bytes).
        tied = not any(t.name == "output.weight" for t in model.tensors)
        return _sized(  # the file's name reads better than general.name ("Smollm2 135M 8k Lc100K Mix1 Ep2")
            model,
            name=model.path.stem if model.path else f"{model.name or model.architecture} {model.quant}",
            layer_bytes=tuple(model.layer_bytes),
            input_bytes=model.input_bytes,
            output_bytes=model.output_bytes + (model.input_bytes if tied else 0),
            other_bytes=model.other_bytes,
            exact=True,
            output_ram_bytes=model.output_bytes if tied else None,
        )
    arch = getattr(model, "arch", None)
    if arch is None or not model.size_bytes:
        raise ValueError(f"{model.name} has no architecture or size in the registry, so it cannot be planned")
    total, params = model.size_bytes, arch.n_params
    embd = arch.n_vocab * arch.n_embd
    per_layer = total * arch.layer_params // params
    input_bytes = total * embd // params
    output_bytes = total * (embd + arch.n_embd) // params
    other = total - per_layer * arch.n_layer - input_bytes - output_bytes  # rounding; header
    return _sized(
        arch,
        name=f"{model.family} {model.quant}" if model.quant else model.name,
        layer_bytes=(per_layer,) * arch.n_layer,
        input_bytes=input_bytes,
        output_bytes=output_bytes,
        other_bytes=max(0, other),
        exact=False,
    )


@dataclass(frozen=True)
class OffloadPlan:
    """Where a model goes for a given context and memory; ``summary`` says it in one sentence.

    ``n_gpu_layers`` is llama.cpp's number (output layer first, then blocks from the last one):
    0 = CPU only, ``n_layers + 1`` = everything on the GPU.
    """

    model: str
    n_gpu_layers: int
    n_layers: int
    n_ctx: int
    cache_type: str
    weights_bytes: int
    kv_cache_bytes: int  # for cache_type, all layers
    kv_cache_bytes_f16: int
    kv_cache_bytes_q8_0: int
    vram_needed: int
    ram_needed: int
    vram_bytes: int  # what was available
    ram_bytes: int
    fits: bool
    offload: str  # "full" | "partial" | "none"
    max_ctx_that_fits: int
    exact: bool  # byte counts from a GGUF header (True) or estimated from the registry (False)
    summary: str

    @property
    def gpu_repeating_layers(self) -> int:
        """Transformer blocks on the GPU (the output layer not counted)."""
        return max(0, self.n_gpu_layers - 1)

    @property
    def output_on_gpu(self) -> bool:
        return self.n_gpu_layers >= 1


def _needs(fp: Footprint, n_gpu_layers: int, n_ctx: int, cache_type: str) -> tuple[int, int]:
    """(VRAM, RAM) bytes for ``n_gpu_layers`` (llama.cpp's meaning) at ``n_ctx``."""
    n = fp.n_layer
    k = max(0, min(n_gpu_layers, n + 1))
    gpu_blocks = max(0, k - 1)
    cpu_blocks = n - gpu_blocks
    compute = compute_buffer_bytes(n_ctx=n_ctx, n_head=fp.n_head, n_vocab=fp.n_vocab)
    vram = 0
    if k > 0:
        vram = (fp.output_bytes + sum(fp.layer_bytes[n - gpu_blocks:]) + fp.kv_bytes(gpu_blocks, n_ctx, cache_type)
                + compute + GPU_RESERVE_BYTES)
    ram = (fp.input_bytes + fp.other_bytes + sum(fp.layer_bytes[:cpu_blocks])
           + fp.kv_bytes(cpu_blocks, n_ctx, cache_type) + RAM_RESERVE_BYTES)
    if k == 0:
        ram += fp.output_cpu_bytes
    if cpu_blocks > 0 or k == 0:
        ram += compute
    return vram, ram


def _best_layers(fp: Footprint, n_ctx: int, cache_type: str, vram_bytes: int) -> int:
    best = 0
    for k in range(1, fp.n_layer + 2):  # VRAM need grows with k, so stop at the first miss
        if _needs(fp, k, n_ctx, cache_type)[0] > vram_bytes:
            break
        best = k
    return best


def _largest_ctx(fp: Footprint, n_gpu_layers: int, cache_type: str, *, vram_bytes: int, ram_bytes: int,
                 cap: int) -> int:
    def ok(ctx: int) -> bool:
        vram, ram = _needs(fp, n_gpu_layers, ctx, cache_type)
        return vram <= vram_bytes and ram <= ram_bytes

    lo, hi = 0, cap // CTX_STEP  # steps of CTX_STEP tokens; ok() is monotone in ctx
    if hi == 0 or not ok(CTX_STEP):
        return 0
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid * CTX_STEP):
            lo = mid
        else:
            hi = mid - 1
    return lo * CTX_STEP


def _gb(n: int) -> str:
    return f"{n / GiB:.1f} GiB"


def plan(model: GGUFInfo | ModelSpec | Footprint, *, vram_bytes: int, ram_bytes: int, n_ctx: int,
         cache_type: str = "f16") -> OffloadPlan:
    """Put as many layers on the GPU as fit in ``vram_bytes`` at ``n_ctx`` tokens; say whether the rest fits in RAM.

    ``vram_bytes`` is the GPU memory free to use (0 when there is no usable GPU); ``ram_bytes`` the RAM
    available. See the module docstring for what is counted and how layers are placed.
    """
    if n_ctx <= 0:
        raise ValueError("n_ctx must be a positive number of tokens")
    fp = footprint(model)
    _row_bytes(1, cache_type)  # validate early
    k = _best_layers(fp, n_ctx, cache_type, max(0, vram_bytes)) if vram_bytes > 0 else 0
    vram, ram = _needs(fp, k, n_ctx, cache_type)
    fits = vram <= vram_bytes and ram <= ram_bytes
    full = fp.n_layer + 1
    offload = "full" if k == full else "partial" if k > 0 else "none"

    cap = fp.n_ctx_train or max(n_ctx, 32768)
    limits = dict(vram_bytes=max(0, vram_bytes), ram_bytes=ram_bytes, cap=cap)
    full_ctx = _largest_ctx(fp, full, cache_type, **limits) if vram_bytes > 0 else 0
    max_ctx = full_ctx if full_ctx else _largest_ctx(fp, k, cache_type, **limits)

    ctx = f"{n_ctx:,} tokens of context"
    if n_ctx > fp.n_ctx_train > 0:
        ctx += f" (beyond the {fp.n_ctx_train:,} the model was trained for)"
    if not fits and ram > ram_bytes:
        summary = (f"{fp.name} needs {_gb(ram)} of RAM at {ctx} with n_gpu_layers={k}, but only "
                   f"{_gb(ram_bytes)} is available; choose a smaller quantization or a shorter context.")
    elif offload == "full":
        summary = (f"{fp.name} fits entirely on the GPU at {ctx}: {_gb(vram)} of {_gb(vram_bytes)} VRAM, "
                   f"{_gb(ram)} of RAM.")
    elif offload == "partial":
        placed = ("only the output layer" if k == 1
                  else f"{k - 1} of {fp.n_layer} layers (and the output layer)")
        hint = (f"at {full_ctx:,} tokens or fewer it would fit entirely on the GPU" if full_ctx
                else "a shorter context or a smaller quantization would put more layers on the GPU")
        summary = (f"{fp.name} at {ctx} puts {placed} on the GPU ({_gb(vram)} of {_gb(vram_bytes)} VRAM) and the "
                   f"rest in RAM ({_gb(ram)}); {hint}.")
    else:
        why = "no GPU memory is available" if vram_bytes <= 0 else "not even the output layer fits in VRAM"
        summary = f"{fp.name} runs on the CPU at {ctx} because {why}: it needs {_gb(ram)} of RAM."

    def kv(ct: str) -> int:
        return fp.kv_bytes(fp.n_layer, n_ctx, ct)

    return OffloadPlan(
        model=fp.name,
        n_gpu_layers=k,
        n_layers=fp.n_layer,
        n_ctx=n_ctx,
        cache_type=cache_type,
        weights_bytes=fp.weights_bytes,
        kv_cache_bytes=kv(cache_type),
        kv_cache_bytes_f16=kv("f16"),
        kv_cache_bytes_q8_0=kv("q8_0"),
        vram_needed=vram,
        ram_needed=ram,
        vram_bytes=max(0, vram_bytes),
        ram_bytes=ram_bytes,
        fits=fits,
        offload=offload,
        max_ctx_that_fits=max_ctx,
        exact=fp.exact,
        summary=summary,
    )
