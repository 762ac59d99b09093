"""``folio models list | pull NAME | plan NAME_OR_PATH``: what is known, what is here, what fits."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.settings import Settings

GiB = 1024**3


def run(args: argparse.Namespace, settings: Settings) -> int:
    return {"list": _list, "pull": _pull, "plan": _plan}[args.models_command](args, settings)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from inference import registry

    rows = []
    for spec in registry.all_models():
        path = registry.local_path(spec, settings.models_dir)
        rows.append({"name": spec.name, "kind": spec.kind, "size_gb": round(spec.size_bytes / 1e9, 2) if spec.size_bytes else None,
                     "bundled": spec.bundled, "present": path is not None, "path": str(path) if path else None,
                     "default": spec.default, "description": spec.description})
    if args.json:
        print(json.dumps({"models": rows}, indent=2))
        return 0
    print(f"{'name':<36} {'kind':<9} {'size':>8}  status")
    for r in rows:
        size = f"{r['size_gb']:.1f} GB" if r["size_gb"] else "-"
        status = "bundled" if r["bundled"] else "present" if r["present"] else "not downloaded"
        print(f"{r['name']:<36} {r['kind']:<9} {size:>8}  {status}{' (default)' if r['default'] else ''}")
    return 0


def _pull(args: argparse.Namespace, settings: Settings) -> int:
    from inference import download, registry

    spec = registry.get(args.name)
    path = download.pull(spec, settings.models_dir, progress=not args.json)
    if args.json:
        print(json.dumps({"name": spec.name, "path": str(path)}))
    else:
        use = (f"FOLIO_SECOND_EMBEDDER={spec.name} (the background pass; FOLIO_EMBEDDER re-indexes everything)"
               if spec.kind == "embedder" else f"FOLIO_MODEL={spec.name}")
        print(f"{spec.name} is ready at {path}; use it with {use}")
    return 0


def _plan(args: argparse.Namespace, settings: Settings) -> int:
    from inference import gguf_info, hardware, planning, registry

    source = registry.bundled_llm_path() if args.name == registry.BUNDLED else Path(args.name).expanduser()
    model = gguf_info.read_info(source) if source.suffix == ".gguf" else registry.get(args.name)
    hw = None
    if args.vram_gb is None or args.ram_gb is None:
        hw = hardware.probe()
    vram = int(args.vram_gb * GiB) if args.vram_gb is not None else hw.usable_vram_bytes
    ram = int(args.ram_gb * GiB) if args.ram_gb is not None else hw.ram_bytes
    plan = planning.plan(model, vram_bytes=vram, ram_bytes=ram, n_ctx=args.ctx, cache_type=args.cache_type)
    data = {k: getattr(plan, k) for k in plan.__dataclass_fields__}
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    print(plan.summary)
    print(f"  n_gpu_layers {plan.n_gpu_layers} of {plan.n_layers + 1} · KV cache {plan.kv_cache_bytes_f16 / GiB:.2f} GiB f16, "
          f"{plan.kv_cache_bytes_q8_0 / GiB:.2f} GiB q8_0 · VRAM needed {plan.vram_needed / GiB:.1f} GiB of "
          f"{plan.vram_bytes / GiB:.1f} · RAM needed {plan.ram_needed / GiB:.1f} GiB of {plan.ram_bytes / GiB:.1f} · "
          f"{'fits' if plan.fits else 'does not fit'} · largest context that fits: {plan.max_ctx_that_fits:,}")
    return 0
