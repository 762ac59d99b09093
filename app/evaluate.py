"""``folio eval``: retrieval (and optionally answer) metrics on a question set.

With the default question set (``sample_docs/eval.jsonl``) the samples are indexed into a
temporary home first, so the user's own library is never touched.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.factory import build
from app.service import answer, ingest_paths, search_passages
from app.settings import Settings
from rag.backfill import backfill
from rag.evaluation import answer_metrics, load_questions, retrieval_metrics
from rag.retrieval import MODES

GROUPS = ("en", "fr", "de", "es", "it", "same", "cross", "all")


def run_eval(settings: Settings, *, questions: Path | None = None, answers: bool = False,
             modes: list[str] | None = None) -> dict:
    """Index the samples (default question set) and measure retrieval; returns the report as a dict."""
    path = questions or settings.sample_docs / "eval.jsonl"
    question_set = load_questions(path)
    with tempfile.TemporaryDirectory(prefix="folio-eval-") as scratch:
        home = Path(scratch) if questions is None else settings.home
        folio = build(settings.with_(home=home), llm=answers)
        try:
            started = time.perf_counter()
            if questions is None:
                list(ingest_paths(folio, [settings.sample_docs]))
                if folio.second_embedder is not None:  # measure what a user gets once the second pass is done
                    backfill(folio.store(), folio.second_embedder)
            index_s = time.perf_counter() - started
            reports, timings = {}, {}
            for mode in modes or list(MODES):
                started = time.perf_counter()
                reports[mode] = retrieval_metrics(question_set, lambda q: search_passages(folio, q, k=5, mode=mode))
                timings[mode] = round(1000 * (time.perf_counter() - started) / max(1, len(question_set)), 1)
            if answers:
                reports["answers"] = answer_metrics(question_set, lambda q: answer(folio, q))
                reports["answers"]["model"] = folio.chat.info.get("name")
        finally:
            folio.close()
    return {"questions": str(path), "embedder": settings.embedder, "index_s": round(index_s, 2),
            "search_ms": timings, **reports}


def render(report: dict) -> str:
    timings = ", ".join(f"{mode} {ms} ms" for mode, ms in report["search_ms"].items())
    lines = [f"questions: {report['questions']} · embedder: {report['embedder']} · "
             f"indexing {report['index_s']} s · per search: {timings}", ""]
    for mode in ("dense", "keyword", "hybrid"):
        if mode not in report:
            continue
        lines.append(f"{mode:<8}" + "".join(f"{g:>8}" for g in GROUPS))
        for metric in ("hit@1", "hit@5", "mrr"):
            row = [report[mode].get(g, {}).get(metric) for g in GROUPS]
            lines.append(f"  {metric:<6}" + "".join(f"{v:>8.2f}" if v is not None else f"{'-':>8}" for v in row))
        lines.append("")
    if "answers" in report:
        lines.append(f"answers ({report['answers']['model']})" + "".join(f"{g:>8}" for g in GROUPS))
        for metric in ("cited_page", "answer_language", "contains_answer"):
            row = [report["answers"].get(g, {}).get(metric) for g in GROUPS]
            lines.append(f"  {metric[:6]:<6}" + "".join(f"{v:>8.2f}" if v is not None else f"{'-':>8}" for v in row))
    return "\n".join(lines)
