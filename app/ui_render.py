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
>>> from rag.answering import Stats
>>> speed_warning(Stats(prompt_tokens=900, completion_tokens=40, ttft_s=0.5, tokens_per_s=1.2, total_s=34), {})[:41]
'Only 1.2 tokens/s: the weights may be spi'
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd

from app.i18n import t
from rag.answering import Answer, Stats
from rag.documents import Source

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
BACKENDS = {"llama.cpp in-process": "backend_llama", "openai-compatible": "backend_remote"}


def backend_label(model_info: dict, *, language: str = "en") -> str:
    """Where the model runs, in ``language`` (an unknown backend's own name, escaped).

    >>> backend_label({"backend": "llama.cpp in-process"}, language="fr")
    'llama.cpp dans ce processus'
    """
    backend = model_info.get("backend") or ""
    return t(language, BACKENDS[backend]) if backend in BACKENDS else escape_text(backend)


def banner_markdown(model_info: dict, *, language: str = "en") -> str:
    """The banner: what Folio is, the model in use, and the stand-in note when it applies."""
    details = [backend_label(model_info, language=language)] if model_info.get("backend") else []
    if model_info.get("n_ctx"):
        details.append(t(language, "banner_context").format(tokens=f"{int(model_info['n_ctx']):,}"))
    name = escape_text(model_info.get("name") or t(language, "none_loaded"))
    lines = [f"## {t(language, 'title')}",
             t(language, "banner_model").format(name=name) + (f" ({', '.join(details)})" if details else "")]
    if model_info.get("stand_in"):
        lines.append(f"> ⚠️ {escape_text(t(language, 'stand_in_note').format(name=model_info.get('name', '')))}")
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


def _placement(model_info: dict, language: str) -> str:
    layers = model_info.get("n_gpu_layers")
    if model_info.get("backend") == "openai-compatible":
        return t(language, "placement_remote").format(url=escape_text(model_info.get("url", "?")))
    if layers is None:
        return t(language, "unknown")
    if layers == 0:
        return t(language, "placement_cpu")
    return t(language, "placement_all_gpu") if layers < 0 else t(language, "placement_gpu").format(layers=layers)


def models_markdown(model_info: dict, report: dict | None, *, language: str = "en") -> str:
    """The Models panel: model, quantization, GPU layers or CPU, context, and doctor's plan and warnings."""
    model = (report or {}).get("model", {})
    rows = [("row_model", escape_text(model_info.get("name") or t(language, "none_loaded"))),
            ("row_backend", backend_label(model_info, language=language)),
            ("row_quant", escape_text(model.get("quantization") or t(language, "unknown"))),
            ("row_placement", _placement(model_info, language)),
            ("row_context", t(language, "tokens").format(n=f"{int(model_info.get('n_ctx') or 0):,}"))]
    if model.get("architecture"):
        rows.append(("row_arch", escape_text(t(language, "arch_layers").format(arch=model["architecture"],
                                                                               layers=model.get("layers")))))
    lines = [f"- **{t(language, key)}:** {value}" for key, value in rows]
    if model_info.get("stand_in"):
        lines += ["", "> ⚠️ " + t(language, "stand_in_panel")]
    if report is None:
        return "\n".join(lines + ["", f"_{t(language, 'checking_hardware')}_"])
    if report.get("error"):
        return "\n".join(lines + ["", f"_{t(language, 'hardware_failed').format(error=escape_text(report['error']))}_"])
    hw = report.get("hardware", {})
    gpus = ", ".join(t(language, "gpu_free").format(name=g["name"], free=g["free_gb"], total=g["total_gb"])
                     for g in hw.get("gpus", [])) or t(language, "gpu_none")
    lines += ["", t(language, "hardware_line").format(cpus=hw.get("cpu_count", "?"), ram_free=hw.get("ram_available_gb", "?"),
                                                      ram_total=hw.get("ram_total_gb", "?"), gpus=escape_text(gpus))
              + " " + t(language, "offload_yes" if report.get("gpu_offload_supported") else "offload_no")]
    if report.get("plan"):
        lines += ["", t(language, "plan_line").format(summary=escape_text(report["plan"]["summary"]))]
    lines += [f"\n> ⚠️ {escape_text(w)}" for w in report.get("warnings", [])]
    lines += [f"\n> ❌ {escape_text(p)}" for p in report.get("problems", [])]
    lines += ["", f"_{t(language, 'doctor_hint')}_"]
    return "\n".join(lines)


# -- sources, stats, context meter --------------------------------------------------------------
def page_label(source: Source, *, language: str = "en") -> str:
    """``file, p. N`` (the page abbreviated in ``language``), and "(OCR)" for a page read from an image."""
    ocr = f" ({t(language, 'ocr_page')})" if source.ocr else ""
    return f"{source.source}, {t(language, 'page_abbr')} {source.page}{ocr}"


def source_label(source: Source, *, language: str = "en") -> str:
    """``[n] file, p. N``."""
    return f"[{source.n}] {page_label(source, language=language)}"


def sources_html(sources: Sequence[Source], *, cited: Iterable[int] = (), spans: dict[int, list[str]] | None = None,
                 language: str = "en") -> str:
    """The numbered passages that went into the prompt, escaped; cited ones marked, supporting quotes highlighted."""
    if not sources:
        return f"<p class='folio-muted'>{escape_html(t(language, 'no_passages'))}</p>"
    cited, spans = set(cited), spans or {}
    blocks = []
    for source in sources:
        mark = f" ✓ {t(language, 'cited_mark')}" if source.n in cited else ""
        head = source_label(source, language=language) + mark
        blocks.append(f"<div class='folio-source'><div class='folio-source-head'>{escape_html(head)}</div>"
                      f"<div class='folio-source-text'>{mark_spans(source.text, spans.get(source.n, []))}</div></div>")
    return "\n".join(blocks)


def speed_warning(stats: Stats, model_info: dict, *, language: str = "en") -> str | None:
    """A warning when decoding is far slower than the model's placement promises (weights spilling to the CPU)."""
    speed, tokens = float(stats.tokens_per_s or 0), int(stats.completion_tokens or 0)
    if tokens < MIN_TOKENS_FOR_SPEED or speed <= 0:
        return None
    on_gpu = int(model_info.get("n_gpu_layers") or 0) != 0
    if speed < SLOW_TOKENS_PER_S or (on_gpu and speed < GPU_SLOW_TOKENS_PER_S):
        return t(language, "speed_warning_gpu" if on_gpu else "speed_warning").format(speed=f"{speed:.1f}")
    return None


def stats_markdown(answer: Answer, model_info: dict, *, language: str = "en") -> str:
    """Prompt tokens, TTFT, tokens/s, the mode when not "passages", the rewritten question, the citation check."""
    stats = answer.stats
    parts = [t(language, "stat_prompt").format(n=stats.prompt_tokens), t(language, "stat_ttft").format(s=f"{stats.ttft_s:.2f}"),
             t(language, "stat_speed").format(n=f"{stats.tokens_per_s:.1f}"),
             t(language, "stat_answer").format(n=stats.completion_tokens)]
    mode = answer.extra.get("mode")
    if mode and mode != "passages":
        parts.append(t(language, "stat_mode").format(mode=escape_text(mode)))
    checked = answer.citations
    if answer.sources and checked.sentences:
        parts.append(t(language, "stat_supported").format(pct=round(100 * checked.supported_ratio))
                     if checked.cited else t(language, "stat_no_citation"))
    if answer.stopped:
        parts.append(t(language, "stat_stopped"))
    lines = [f"_{' · '.join(parts)}_"]
    if answer.extra.get("standalone_question"):
        lines.append(f"_{t(language, 'searched_for')}_ {escape_text(answer.extra['standalone_question'])}")
    warning = speed_warning(stats, model_info, language=language)
    if warning:
        lines.append(f"**⚠️ {escape_text(warning)}**")
    return "\n\n".join(lines)


def meter_html(meter: dict, *, language: str = "en") -> str:
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
    legend = "".join(f"<i class='m-{name}'></i>{escape_html(t(language, 'meter_' + name))} {tokens:,}"
                     for name, tokens in used.items() if tokens)
    free = max(0, n_ctx - sum(used.values()))
    total = t(language, "meter_total").format(used=f"{sum(used.values()):,}", n_ctx=f"{n_ctx:,}")
    why = budget_sentence(meter, language=language)
    return (f"<div class='folio-meter' id='folio-meter-bar'>{bars}</div>"
            f"<div class='folio-meter-legend'>{escape_html(total)}{legend}"
            f"<i style='background:#e5e7eb'></i>{escape_html(t(language, 'meter_free'))} {free:,}</div>"
            + (f"<div class='folio-meter-why' id='folio-meter-why'>{escape_html(why)}</div>" if why else ""))


def _round_seconds(seconds: float) -> str:
    return f"{seconds:,.0f}" if seconds >= 10 else f"{seconds:.1f}".rstrip("0").rstrip(".")


def budget_sentence(meter: dict, *, language: str = "en") -> str:
    """Why the context holds what it holds: the first-word target at this machine's speed, or the whole window.

    >>> meter = {"n_ctx": 32768, "prompt_tokens": 8192, "budget": {"reason": "target", "target_s": 10.0,
    ...          "prompt_tps": 800.0, "whole_window_s": 40.3, "n_ctx": 32768}}
    >>> budget_sentence(meter)
    '8,192 of 32,768 tokens: keeps the first word under 10 s here, at ~800 tokens/s; the whole window would take ~40 s.'
    """
    budget = meter.get("budget")
    if not budget:
        return ""
    tps = float(budget.get("prompt_tps") or 0)
    used, n_ctx = int(meter.get("prompt_tokens") or 0), int(meter.get("n_ctx") or budget.get("n_ctx") or 0)
    key = "budget_asked" if budget.get("asked_whole") and tps else f"budget_{budget['reason']}"
    if key == "budget_whole" and not tps:
        key = "budget_unmeasured"
    return t(language, key).format(used=f"{used:,}", n_ctx=f"{n_ctx:,}", target=_round_seconds(float(budget["target_s"])),
                                   tps=f"{tps:,.0f}", whole=_round_seconds(float(budget.get("whole_window_s") or 0)),
                                   first=_round_seconds(used / tps if tps else 0.0))


def budget_limited(meter: dict) -> bool:
    """Whether a time target kept the sources below the whole window (so asking again with it gives more)."""
    return (meter.get("budget") or {}).get("reason") in ("target", "floor") and int(meter.get("passages_left_out") or 0) > 0


def quotes_markdown(quotes: Sequence, *, language: str = "en") -> str:
    """The quotes shown before the answer, as a Markdown block quote: each sentence, escaped, with its [n], file and page.

    >>> from rag.quotes import Quote
    >>> print(quotes_markdown([Quote(1, "depots.pdf", 2, "The depot opens at <b>six</b>.", 0.9)], language="de"))
    > **Zitiert aus Ihren Dokumenten (die Antwort des Modells folgt):**
    >
    > “The depot opens at &lt;b&gt;six&lt;/b&gt;.” — [1] depots.pdf, S. 2
    <BLANKLINE>
    <BLANKLINE>
    """
    if not quotes:
        return ""
    lines = [f"> **{escape_text(t(language, 'quotes_heading'))}**"]
    for quote in quotes:  # a ">" line between them: each quote its own paragraph
        lines += [">", f"> “{escape_text(quote.text)}” — [{quote.n}] {escape_text(quote.source)}, "
                       f"{t(language, 'page_abbr')} {quote.page}"]
    return "\n".join(lines) + "\n\n"


def reading_line(fraction: float, *, language: str = "en") -> str:
    """The status line while the model reads the prompt.

    >>> reading_line(0.456, language="fr")
    'Le modèle lit les sources : 46 % lus.'
    """
    return t(language, "reading_progress").format(pct=round(100 * fraction))


def cited_footer(answer: Answer, *, language: str = "en") -> str:
    """A line under an answer in the chat: the sources it cites, with file and page (Markdown, escaped)."""
    by_number = {s.n: s for s in answer.sources}
    cited = [by_number[n] for n in answer.citations.cited if n in by_number]
    if not cited:
        return ""
    return "\n\n— " + escape_text(" · ".join(source_label(s, language=language) for s in cited))


# -- tables -------------------------------------------------------------------------------------
RESULT_COLUMNS = ("file", "status", "pages", "chunks", "language", "reason")
DOCUMENT_COLUMNS = ("name", "pages", "chunks", "language", "added")


def columns(names: Sequence[str], *, language: str = "en") -> list[str]:
    """Table headers in ``language``."""
    return [t(language, f"col_{name}") for name in names]


def results_frame(results: list[dict], *, language: str = "en") -> pd.DataFrame:
    rows = [[r["name"], t(language, f"status_{r['status']}"), r["pages"], r["chunks"], r["language"], r.get("reason") or ""]
            for r in results]
    return pd.DataFrame(rows, columns=columns(RESULT_COLUMNS, language=language))


def documents_frame(records: list, *, language: str = "en") -> pd.DataFrame:
    rows = [[d.name, d.pages, d.chunks, d.language, (d.added_at or "")[:16].replace("T", " ")] for d in records]
    return pd.DataFrame(rows, columns=columns(DOCUMENT_COLUMNS, language=language))
