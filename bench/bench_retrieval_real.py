"""Retrieval on documents no one here wrote: the Debian installation guide in en, fr, de, es and it.

Builds the indexes with Folio's normal code (``app.factory.build``, ``app.service.ingest_paths``,
``app.service.search_passages``) in a temporary FOLIO_HOME, with the settings the environment gives
(``FOLIO_*`` variables, so a lever can be measured by setting one):

- **same-language**: all five versions indexed (420 pages, named ``<language>/<page>``); each question
  must be answered from its own language's version of the page (or from ``only_in``'s version);
- **cross-language**: only the English version indexed (84 pages); the questions in fr/de/es/it about
  facts the English version states must be answered from the English page.

A hit is a passage from the right page holding all the answer terms (see :mod:`rag.evaluation`).
For each retrieval mode (hybrid, dense, keyword) it writes hit@1, hit@5 and MRR overall, per language
and per kind, and every miss with its question id and what came first instead, to
``bench/results/retrieval_real.json``, with the indexing time and pages/s. Not part of ``make test``:
it needs the package download (see :mod:`bench.installation_guide`).

    .venv/bin/python -m bench.bench_retrieval_real [--modes hybrid dense keyword] [--cache DIR]

>>> row("hit@5", {"en": {"hit@5": 0.9}, "fr": {"hit@5": 0.75}}, ["en", "fr", "de"])
'  hit@5     0.90    0.75       -'
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import replace
import tempfile
import time
from pathlib import Path

from app.factory import build
from app.service import ingest_paths, search_passages
from app.settings import Settings
from bench.installation_guide import LANGUAGES, PACKAGE, SET, cache_dir, fetch, pages, split_name, version_name
from rag.evaluation import in_setting, load_questions, metrics_from_ranks, rank_of
from rag.retrieval import MODES

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("table", "procedure", "number", "name", "concept")
INDEXED = {"same": LANGUAGES, "cross": ("en",)}
K = 5


def run(*, cache: Path | str | None = None, questions: Path = SET, modes: tuple[str, ...] = MODES,
        out: Path | None = RESULTS / "retrieval_real.json") -> dict:
    """Index, search and score both settings; returns (and writes to ``out``) the whole report."""
    folders = fetch(cache)
    question_set = load_questions(questions)
    report: dict = {"corpus": corpus_info(folders, cache), "questions": str(questions), "k": K, "settings": {}}
    with tempfile.TemporaryDirectory(prefix="folio-bench-real-") as scratch:
        for setting, languages in INDEXED.items():
            settings = Settings.load(home=Path(scratch) / setting)
            report.setdefault("embedder", settings.embedder)
            report.setdefault("chunk_tokens", settings.chunk_tokens)
            report.setdefault("chunk_overlap", settings.chunk_overlap)
            folio = build(settings, llm=False, writer=True)
            try:
                index = index_versions(folio, folders, languages)
                bound = in_setting(question_set, setting)
                results = {mode: score(folio, bound, mode=mode) for mode in modes}
            finally:
                folio.close()
            report["settings"][setting] = {"indexed": list(languages), "index": index, "questions": len(bound),
                                           "modes": results}
            print(render(setting, report["settings"][setting]), flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def corpus_info(folders: dict[str, Path], cache: Path | str | None) -> dict:
    debs = sorted(cache_dir(cache).glob(f"{PACKAGE}_*.deb"))
    return {"package": debs[-1].name if debs else PACKAGE,
            "pages": {language: len(pages(folder)) for language, folder in folders.items()}}


def index_versions(folio, folders: dict[str, Path], languages: tuple[str, ...]) -> dict:
    """Ingest every page of the given language versions (named ``<language>/<page>``); times it."""
    paths = [path for language in languages for path in pages(folders[language])]
    names = [version_name(path.parent.name, path.name) for path in paths]
    started = time.perf_counter()
    results = list(ingest_paths(folio, paths, names=names))
    seconds = time.perf_counter() - started
    failed = [f"{r.name}: {r.reason}" for r in results if r.status == "failed"]
    if failed:
        print("failed to index:", *failed, sep="\n  ")
    return {"pages": len(paths), "chunks": sum(r.chunks for r in results), "failed": failed,
            "seconds": round(seconds, 1), "pages_per_s": round(len(paths) / seconds, 2),
            "chars": sum(path.stat().st_size for path in paths)}


def score(folio, questions: list, *, mode: str) -> dict:
    """Search every question once in ``mode``; the metrics, and each miss with what came first instead."""
    ranks, page_ranks, misses = [], [], []
    started = time.perf_counter()
    for question in questions:
        passages = search_passages(folio, question.question, k=K, mode=mode)[:K]
        rank = rank_of(passages, question)
        ranks.append(rank)
        page_ranks.append(rank_of(passages, replace(question, answer_terms={})))
        if rank is None:
            misses.append(miss(question, passages))
    search_ms = 1000 * (time.perf_counter() - started) / max(1, len(questions))
    metrics, page_level = metrics_from_ranks(questions, ranks), metrics_from_ranks(questions, page_ranks)
    by_language = {language: metrics.get(language) or metrics.get(f"cross:{language}") for language in LANGUAGES}
    return {"overall": metrics["all"], "search_ms": round(search_ms, 1),
            "by_language": {language: m for language, m in by_language.items() if m},
            "page_level": {"note": "a passage from the right page (and version) counts, with or without the terms",
                           "overall": page_level["all"],
                           **{language: page_level.get(language) or page_level.get(f"cross:{language}")
                              for language in LANGUAGES if by_language[language]}},
            "by_kind": {kind: metrics[f"kind:{kind}"] for kind in KINDS if f"kind:{kind}" in metrics},
            "miss_reasons": dict(Counter(m["reason"] for m in misses).most_common()), "misses": misses}


def miss(question, passages: list) -> dict:
    """A miss, told so it can be understood: was the right page retrieved at all (without the terms)?

    >>> from types import SimpleNamespace as P
    >>> q = P(id="q-fr", kind="table", question="?", source="fr/a.html", answer_terms={"fr": ("x",)}, version="fr")
    >>> miss(q, [P(source="en/a.html", text="x")])["reason"]
    'another language version of the page'
    """
    right_page = next((rank for rank, p in enumerate(passages, 1) if p.source == question.source), None)
    page = split_name(question.source)[1]
    if right_page:
        reason = "right page, no passage with the terms"
    elif any(split_name(p.source)[1] == page for p in passages):
        reason = "another language version of the page"
    else:
        reason = "page not retrieved"
    return {"id": question.id, "kind": question.kind, "question": question.question, "expected": question.source,
            "reason": reason,
            "terms": list(question.answer_terms.get(question.version, ())), "right_page_at": right_page,
            "top": [p.source for p in passages],
            "first": " ".join(passages[0].text.split())[:160] if passages else ""}


def row(metric: str, groups: dict, names: list[str]) -> str:
    values = [groups.get(name, {}).get(metric) for name in names]
    return f"  {metric:<6}" + "".join(f"{v:>8.2f}" if v is not None else f"{'-':>8}" for v in values)


def render(setting: str, result: dict) -> str:
    index = result["index"]
    lines = [f"{setting}-language: {index['pages']} pages, {index['chunks']} chunks indexed in {index['seconds']} s "
             f"({index['pages_per_s']} pages/s); {result['questions']} questions"]
    for mode, m in result["modes"].items():
        groups = {**m["by_language"], **m["by_kind"], "all": m["overall"]}
        names = [*m["by_language"], *m["by_kind"], "all"]
        lines.append(f"{mode:<8}" + "".join(f"{name[:7]:>8}" for name in names) + f"   ({m['search_ms']} ms/search)")
        lines.extend(row(metric, groups, names) for metric in ("hit@1", "hit@5", "mrr"))
        lines.append(f"  page-level hit@5 (terms not required) {m['page_level']['overall']['hit@5']:.2f}; misses: "
                     + ", ".join(f"{n} {reason}" for reason, n in m["miss_reasons"].items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help=f"where the {PACKAGE} package is kept")
    parser.add_argument("--questions", type=Path, default=SET)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval_real.json")
    args = parser.parse_args(argv)
    return run(cache=args.cache, questions=args.questions, modes=tuple(args.modes), out=args.out)


if __name__ == "__main__":
    main()
