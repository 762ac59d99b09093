"""What the web app shows, as pure functions from service results to Markdown or HTML.

Text safety first: document text and model output are never rendered as live HTML.
:func:`escape_text` is for Markdown components (chat, banner): HTML special characters become
entities and Markdown image syntax is neutralised, so an answer cannot make the browser fetch a
remote image. :func:`escape_html` is for HTML components: every markup and template character
becomes an entity. The only tags in the HTML built here are our own (``div``, ``span``, ``mark``),
wrapped around text that was escaped first.

>>> escape_text('<img src=x onerror=alert(1)> 5 & 6 ![logo](http://example.com/a.png)')
'&lt;img src=x onerror=alert(1)&gt; 5 &amp; 6 !\\\\[logo](http://example.com/a.png)'
>>> mark_spans("a <b> c. Depot opens at 6.", ["Depot opens at 6."])
'a &lt;b&gt; c. <mark>Depot opens at 6.</mark>'
>>> speed_warning({"tokens_per_s": 1.2, "completion_tokens": 40}, {"n_gpu_layers": 0})[:41]
'Only 1.2 tokens/s: the weights may be spi'
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd

from app.i18n import t

RESULT_COLUMNS = ["file", "status", "pages", "chunks", "language", "reason"]
DOCUMENT_COLUMNS = ["name", "pages", "chunks", "language", "added"]
METER_PARTS = ("sources", "history", "question", "instructions", "answer_reserve")
MIN_TOKENS_FOR_SPEED = 8    # fewer answer tokens say nothing about decoding speed
GPU_SLOW_TOKENS_PER_S = 5.0
SLOW_TOKENS_PER_S = 2.0
CSS = """
.folio-source { margin: 0 0 0.8em 0; }
.folio-source-head { font-weight: 600; }
.folio-source-text { white-space: pre-wrap; font-size: 0.92em; opacity: 0.95; }
.folio-source mark, .folio-page mark.folio-span { background: #ffd54f; color: inherit; padding: 0 1px; }
.folio-page { white-space: pre-wrap; font-size: 0.9em; max-height: 420px; overflow-y: auto; }
.folio-page mark.folio-passage { background: #fff3c4; color: inherit; }
.folio-muted { opacity: 0.7; }
.folio-warning { color: #b45309; font-weight: 600; }
.folio-meter { display: flex; height: 12px; width: 100%; border-radius: 3px; overflow: hidden;
               background: #e5e7eb; margin: 4px 0; }
.folio-meter span { display: block; height: 100%; }
.folio-meter-legend { font-size: 0.85em; opacity: 0.85; }
.folio-meter-legend i { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.25em 0 0.6em;
                        vertical-align: -0.05em; border-radius: 2px; }
.m-sources { background: #2563eb; } .m-history { background: #9333ea; } .m-question { background: #16a34a; }
.m-instructions { background: #64748b; } .m-answer_reserve { background: #f59e0b; }
#folio-banner.folio-stand-in blockquote { border-left: 4px solid #f59e0b; background: #fffbeb; padding: 0.4em 0.8em; }
"""


# -- text safety ------------------------------------------------------------------------------
def escape_text(text: str) -> str:
    """Text for a Markdown component: HTML special characters as entities, image syntax neutralised."""
    return html.escape(str(text), quote=False).replace("![", "!\\[")


def escape_html(text: object) -> str:
    """Text for an HTML component: every markup and template character as an entity."""
    return html.escape(str(text), quote=True).replace("$", "&#36;").replace("`", "&#96;")


def mark_spans(text: str, spans: Iterable[str], *, css_class: str = "") -> str:
    """``text`` escaped, with each span found in it wrapped in ``<mark>`` (escape first, then wrap)."""
    found: list[tuple[int, int]] = []
    for span in spans:
        span = (span or "").strip()
        at = text.find(span) if span else -1
        if at >= 0 and not any(at < end and start < at + len(span) for start, end in found):
            found.append((at, at + len(span)))
    out, done = [], 0
    opening = f"<mark class='{css_class}'>" if css_class else "<mark>"
    for start, end in sorted(found):
        out += [escape_html(text[done:start]), opening, escape_html(text[start:end]), "</mark>"]
        done = end
    out.append(escape_html(text[done:]))
    return "".join(out)


# -- banner and models panel --------------------------------------------------------------------
def banner_markdown(model_info: dict, *, language: str = "en") -> str:
    """The banner: what Folio is, the model in use, and the stand-in note when it applies."""
    details = [escape_text(model_info["backend"])] if model_info.get("backend") else []
    if model_info.get("n_ctx"):
        details.append(f"context {int(model_info['n_ctx']):,} tokens")
    lines = [f"## {t(language, 'title')}",
             f"Model: **{escape_text(model_info.get('name', 'none loaded'))}**"
             + (f" ({', '.join(details)})" if details else "")]
    if model_info.get("stand_in") and model_info.get("note"):
        lines.append(f"> ⚠️ {escape_text(model_info['note'])}")
    if model_info.get("fallback"):
        lines.append(f"> ⚠️ {escape_text(model_info['fallback'])}")
    return "\n\n".join(lines)


def banner_classes(model_info: dict) -> list[str]:
    """The banner's CSS classes: amber while the stand-in answers."""
    return ["folio-stand-in"] if model_info.get("stand_in") else []


def model_choices(models: Iterable, *, language: str = "en") -> list[tuple[str, str]]:
    """The switcher's (label, name) pairs for :class:`inference.registry.LocalModel` entries, the stand-in said so.

    >>> from pathlib import Path
    >>> from inference.registry import LocalModel
    >>> model_choices([LocalModel("bundled", Path("s.gguf"), "smollm2-135m-instruct:q4_1", stand_in=True),
    ...                LocalModel("/m/my-model.gguf", Path("/m/my-model.gguf"), "my-model.gguf")], language="de")
    [('smollm2-135m-instruct:q4_1 (kleines Ersatzmodell)', 'bundled'), ('my-model.gguf', '/m/my-model.gguf')]
    """
    return [(f"{m.label} ({t(language, 'stand_in')})" if m.stand_in else m.label, m.name) for m in models]


def models_markdown(model_info: dict, report: dict | None) -> str:
    """The Models panel: model, quantization, GPU layers or CPU, context, and doctor's plan and warnings."""
    model = (report or {}).get("model", {})
    layers = model_info.get("n_gpu_layers")
    if model_info.get("backend") == "openai-compatible":
        placement = f"served by {escape_text(model_info.get('url', 'a remote engine'))}"
    elif layers is None:
        placement = "unknown"
    elif layers == 0:
        placement = "CPU only (no layers on the GPU)"
    else:
        placement = "all layers on the GPU" if layers < 0 else f"{layers} layers on the GPU"
    rows = [("Model", escape_text(model_info.get("name", "none loaded"))),
            ("Backend", escape_text(model_info.get("backend", ""))),
            ("Quantization", escape_text(model.get("quantization", "unknown"))),
            ("Placement", placement),
            ("Context", f"{int(model_info.get('n_ctx') or 0):,} tokens")]
    if model.get("architecture"):
        rows.append(("Architecture", escape_text(f"{model['architecture']}, {model.get('layers')} layers")))
    lines = [f"- **{k}:** {v}" for k, v in rows]
    if model_info.get("stand_in"):
        lines += ["", "> ⚠️ **The small stand-in model is answering.** It proves every path works, not Folio's "
                  "answer quality. For real answers run `folio models pull mixtral-8x7b-instruct:q4_k_m`, then "
                  "pick it under *Local models* above."]
    if report is None:
        lines += ["", "_Checking the hardware and the offload plan…_"]
        return "\n".join(lines)
    if report.get("error"):
        lines += ["", f"_The hardware check failed: {escape_text(report['error'])}_"]
        return "\n".join(lines)
    hw = report.get("hardware", {})
    gpus = ", ".join(f"{g['name']} ({g['free_gb']}/{g['total_gb']} GB free)" for g in hw.get("gpus", [])) or "none"
    lines += ["", f"**Hardware:** {hw.get('cpu_count', '?')} CPU cores, {hw.get('ram_available_gb', '?')}/"
              f"{hw.get('ram_total_gb', '?')} GB RAM free, GPU: {escape_text(gpus)}. GPU offload "
              + ("supported by this llama-cpp-python build." if report.get("gpu_offload_supported")
                 else "**not** supported by this llama-cpp-python build (CPU only).")]
    if report.get("plan"):
        lines += ["", f"**Plan:** {escape_text(report['plan']['summary'])}"]
    lines += [f"\n> ⚠️ {escape_text(w)}" for w in report.get("warnings", [])]
    lines += [f"\n> ❌ {escape_text(p)}" for p in report.get("problems", [])]
    lines += ["", "_The same report on the command line: `folio doctor`._"]
    return "\n".join(lines)


# -- sources, stats, context meter --------------------------------------------------------------
def supporting_spans(answer: dict) -> dict[int, list[str]]:
    """Per source number, the sentences of that source that support a sentence of the answer."""
    spans: dict[int, list[str]] = {}
    for sentence in (answer.get("citations") or {}).get("sentences", []):
        if sentence.get("supported") and sentence.get("span") and sentence.get("source") is not None:
            spans.setdefault(sentence["source"], []).append(sentence["span"])
    return spans


def sources_html(sources: list[dict], *, cited: Iterable[int] = (), spans: dict[int, list[str]] | None = None) -> str:
    """The numbered passages that went into the prompt, escaped; cited ones marked, supporting quotes highlighted."""
    if not sources:
        return "<p class='folio-muted'>No passages were found for this question.</p>"
    cited, spans = set(cited), spans or {}
    blocks = []
    for source in sources:
        mark = " ✓ cited" if source["n"] in cited else ""
        head = f"[{source['n']}] {source['source']}, p. {source['page']}{mark}"
        blocks.append(f"<div class='folio-source'><div class='folio-source-head'>{escape_html(head)}</div>"
                      f"<div class='folio-source-text'>{mark_spans(source['text'], spans.get(source['n'], []))}</div></div>")
    return "\n".join(blocks)


def speed_warning(stats: dict, model_info: dict) -> str | None:
    """A warning when decoding is far slower than the model's placement promises (weights spilling to the CPU)."""
    speed, tokens = float(stats.get("tokens_per_s") or 0), int(stats.get("completion_tokens") or 0)
    if tokens < MIN_TOKENS_FOR_SPEED or speed <= 0:
        return None
    on_gpu = int(model_info.get("n_gpu_layers") or 0) != 0
    if speed < SLOW_TOKENS_PER_S or (on_gpu and speed < GPU_SLOW_TOKENS_PER_S):
        return (f"Only {speed:.1f} tokens/s: the weights may be spilling to the CPU"
                f"{' although layers are on the GPU' if on_gpu else ''}; see folio doctor.")
    return None


def stats_markdown(answer: dict, model_info: dict) -> str:
    """Prompt tokens, TTFT, tokens/s, the mode when not "passages", the rewritten question, the citation check."""
    stats = answer.get("stats") or {}
    parts = [f"{stats.get('prompt_tokens', 0)} prompt tokens", f"TTFT {stats.get('ttft_s', 0):.2f} s",
             f"{stats.get('tokens_per_s', 0):.1f} tokens/s", f"{stats.get('completion_tokens', 0)} answer tokens"]
    mode = answer.get("mode")
    if mode and mode != "passages":
        parts.append(f"mode: {escape_text(mode)}")
    checked = answer.get("citations") or {}
    if answer.get("sources") and checked.get("sentences"):
        parts.append(f"{round(100 * checked.get('supported_ratio', 0))}% of sentences supported by their sources"
                     if checked.get("cited") else "the answer cites no source")
    if answer.get("stopped"):
        parts.append("stopped")
    lines = [f"_{' · '.join(parts)}_"]
    if answer.get("standalone_question"):
        lines.append(f"_Searched for:_ {escape_text(answer['standalone_question'])}")
    warning = speed_warning(stats, model_info)
    if warning:
        lines.append(f"**⚠️ {escape_text(warning)}**")
    return "\n\n".join(lines)


def meter_html(meter: dict) -> str:
    """The context window as a stacked bar: sources, history, question, instructions and answer reserve of n_ctx."""
    n_ctx = int(meter.get("n_ctx") or 0)
    parts = meter.get("parts") or {}
    if n_ctx <= 0 or not parts:
        return ""
    used = {name: max(0, int(parts.get(name) or 0)) for name in METER_PARTS}
    if "answer_reserve" not in parts:
        used["answer_reserve"] = max(0, int(meter.get("answer_reserve") or 0))
    bars = "".join(f"<span class='m-{name}' style='width:{100 * tokens / n_ctx:.2f}%' title='{name}: {tokens}'></span>"
                   for name, tokens in used.items() if tokens)
    legend = "".join(f"<i class='m-{name}'></i>{name.replace('_', ' ')} {tokens:,}" for name, tokens in used.items()
                     if tokens)
    free = max(0, n_ctx - sum(used.values()))
    return (f"<div class='folio-meter' id='folio-meter-bar'>{bars}</div>"
            f"<div class='folio-meter-legend'>Context {sum(used.values()):,} of {n_ctx:,} tokens:{legend}"
            f"<i style='background:#e5e7eb'></i>free {free:,}</div>")


def cited_footer(answer: dict) -> str:
    """A line under an answer in the chat: the sources it cites, with file and page (Markdown, escaped)."""
    by_number = {s["n"]: s for s in answer.get("sources") or []}
    cited = [by_number[n] for n in (answer.get("citations") or {}).get("cited", []) if n in by_number]
    if not cited:
        return ""
    return "\n\n— " + escape_text(" · ".join(f"[{s['n']}] {s['source']}, p. {s['page']}" for s in cited))


# -- tables -------------------------------------------------------------------------------------
def results_frame(results: list[dict]) -> pd.DataFrame:
    rows = [[r["name"], r["status"], r["pages"], r["chunks"], r["language"], r.get("reason") or ""] for r in results]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def documents_frame(records: list) -> pd.DataFrame:
    rows = [[d.name, d.pages, d.chunks, d.language, (d.added_at or "")[:16].replace("T", " ")] for d in records]
    return pd.DataFrame(rows, columns=DOCUMENT_COLUMNS)
