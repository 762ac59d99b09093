"""``folio doctor``: which models are in use, whether the GPU is used, the plan, and the index's health.

It loads no weights: the GGUF header is read for the plan, the hardware is probed, and the index
and manifest are only read. ``--check`` also compares every collection's index with its manifest
(:mod:`rag.index.integrity`) and repairs it, holding the writer lock: orphaned chunks and keyword rows are
deleted, keyword rows rebuilt, and documents missing chunks removed with a message to ingest them
again. Each repair is reported as a warning; a check that could not run is a problem.

>>> report = {"index": {"check": {"default": {"documents": 2, "manifest_chunks": 9, "index_chunks": 9,
...                                           "consistent": True, "repaired": []}}}}
>>> _check_lines(report)
['check       default: 2 documents, 9 chunks, index and manifest agree']
"""

from __future__ import annotations

import platform
from pathlib import Path

from app.settings import Settings
from core.errors import FolioError


def diagnose(settings: Settings, *, check: bool = False) -> dict:
    """A JSON-ready report; ``ok`` is False when something would stop Folio from answering."""
    from inference import gguf_info, hardware, planning
    from inference.choice import window_for

    problems: list[str] = []
    warnings: list[str] = []
    hw = hardware.probe()
    report: dict = {"python": platform.python_version(), "home": str(settings.home), "collection": settings.collection,
                    "embedder": settings.embedder, "hardware": _hardware_dict(hw),
                    "gpu_offload_supported": bool(hw.gpu_offload_supported)}
    hint = hardware.reinstall_hint(hw)
    if hint:
        warnings.append(f"A GPU is present but this llama-cpp-python build cannot use it, so Mixtral would run on the CPU; reinstall with: {hint}")
        report["reinstall_command"] = hint
    report["model"] = _model_dict(settings, problems)
    model_path = report["model"].get("path")
    if model_path and not settings.llm_url:
        try:
            info = gguf_info.read_info(Path(model_path))
            plan = planning.plan(info, vram_bytes=hw.usable_vram_bytes, ram_bytes=hw.ram_bytes,
                                 n_ctx=window_for(Path(model_path), n_ctx=settings.n_ctx,
                                                  stand_in=report["model"]["stand_in"]))
            report["model"].update({"architecture": info.architecture, "quantization": info.quant,
                                    "layers": info.n_layer, "experts": info.n_expert,
                                    "trained_context": info.n_ctx_train})
            report["plan"] = {"n_gpu_layers": plan.n_gpu_layers, "offload": plan.offload, "n_ctx": plan.n_ctx,
                              "kv_cache_bytes": plan.kv_cache_bytes, "vram_needed": plan.vram_needed,
                              "ram_needed": plan.ram_needed, "fits": plan.fits, "summary": plan.summary}
            if not plan.fits:
                warnings.append(plan.summary)
        except FolioError as error:
            problems.append(str(error))
    report["ocr"] = _ocr_dict(warnings)
    report["index"] = _index_dict(settings, problems, warnings, check=check)
    report["warnings"], report["problems"] = warnings, problems
    report["ok"] = not problems
    return report


def _ocr_dict(warnings: list[str]) -> dict:
    """Whether scanned pages can be read (Tesseract and its language packs); a warning when they can't all be."""
    from rag import ocr

    state = ocr.status()
    if not state.available or state.missing:
        warnings.append(state.message)
    return {"available": state.available, "version": state.version, "languages": list(state.languages),
            "missing": list(state.missing), "summary": state.message}


def _hardware_dict(hw) -> dict:
    return {"gpus": [{"name": g.name, "vendor": g.vendor, "total_gb": round(g.total_bytes / 1e9, 1),
                      "free_gb": round(g.free_bytes / 1e9, 1)} for g in hw.gpus],
            "ram_total_gb": round(hw.ram_total_bytes / 1e9, 1), "ram_available_gb": round(hw.ram_available_bytes / 1e9, 1),
            "cpu_count": hw.cpu_count, "system": f"{hw.system} {hw.machine}"}


def _model_dict(settings: Settings, problems: list[str]) -> dict:
    from inference.choice import STAND_IN_NOTE, resolve_model_path

    if settings.llm_url:
        return {"backend": "openai-compatible", "url": settings.llm_url, "stand_in": False}
    try:
        path, stand_in = resolve_model_path(settings.model, models_dir=settings.models_dir)
    except FolioError as error:
        problems.append(str(error))
        return {"setting": settings.model, "path": None}
    out = {"backend": "llama.cpp in-process", "setting": settings.model, "path": str(path), "name": path.stem,
           "size_gb": round(path.stat().st_size / 1e9, 2), "stand_in": stand_in}
    if stand_in:
        out["note"] = STAND_IN_NOTE.format(name=path.stem)
    return out


def _index_dict(settings: Settings, problems: list[str], warnings: list[str], *, check: bool) -> dict:
    from rag.index.manifest import Manifest

    if not settings.manifest_path.exists():
        return {"collections": {}, "note": "no index yet; 'folio ingest PATH' creates it"}
    try:
        manifest = Manifest(settings.manifest_path, index_dir=settings.index_dir)
    except FolioError as error:
        problems.append(str(error))
        return {"collections": {}}
    try:
        collections = {name: {"documents": len(docs := manifest.documents(name)), "chunks": sum(d.chunks for d in docs),
                              "pending": len(manifest.work(name).pending.items())} for name in manifest.collections()}
        out: dict = {"collections": collections, "schema": manifest.meta("schema"),
                     "created_by": manifest.meta("created_by")}
    finally:
        manifest.close()
    if check:
        out["check"] = _check_index(settings, problems, warnings)
    return out


def _check_index(settings: Settings, problems: list[str], warnings: list[str]) -> dict:
    """Check every collection against its manifest and repair it (interrupted work is recovered on open)."""
    from app.factory import build
    from rag.index import integrity

    try:
        folio = build(settings, llm=False, writer=True)
    except FolioError as error:
        problems.append(f"The index could not be checked: {error}")
        return {}
    try:
        result = {}
        for name in folio.collections():
            store = folio.store(name)
            report = integrity.check(store)
            repaired = integrity.repair(store, report) if not report.consistent else []
            warnings.extend(repaired)
            result[name] = report.as_dict() | {"repaired": repaired}
        return result
    finally:
        folio.close()


def _check_lines(report: dict) -> list[str]:
    lines = []
    for name, c in report["index"].get("check", {}).items():
        state = "index and manifest agree" if c["consistent"] else f"repaired ({len(c['repaired'])} fixes, see below)"
        lines.append(f"check       {name}: {c['documents']} documents, {c['manifest_chunks']} chunks, {state}")
    return lines


def render(report: dict) -> str:
    model = report["model"]
    hw = report["hardware"]
    lines = ["Folio doctor", ""]
    if model.get("stand_in"):
        lines += [f"! {model['note']}", ""]
    lines.append(f"model       {model.get('name') or model.get('url') or model.get('setting')} ({model.get('backend')})")
    if "quantization" in model:
        experts = f"{model['experts']} experts, " if model.get("experts") else ""
        lines.append(f"            {model['architecture']}, {model['quantization']}, {model['layers']} layers, "
                     f"{experts}trained context {model['trained_context']}")
    lines.append(f"embedder    {report['embedder']}")
    gpus = ", ".join(f"{g['name']} ({g['free_gb']}/{g['total_gb']} GB free)" for g in hw["gpus"]) or "none"
    lines.append(f"hardware    {hw['cpu_count']} CPU cores, {hw['ram_available_gb']}/{hw['ram_total_gb']} GB RAM free, GPU: {gpus}")
    lines.append(f"gpu offload {'supported by this llama-cpp-python build' if report['gpu_offload_supported'] else 'NOT supported by this llama-cpp-python build (CPU only)'}")
    if "plan" in report:
        lines.append(f"plan        {report['plan']['summary']}")
    if "ocr" in report:
        lines.append(f"ocr         {report['ocr']['summary']}")
    for name, c in report["index"].get("collections", {}).items():
        lines.append(f"collection  {name}: {c['documents']} documents, {c['chunks']} chunks")
    lines += _check_lines(report)
    lines += [f"warning     {w}" for w in report["warnings"]] + [f"problem     {p}" for p in report["problems"]]
    lines.append("")
    lines.append("All good." if report["ok"] and not report["warnings"] else "See above.")
    return "\n".join(lines)
