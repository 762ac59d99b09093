"""Every retrieval lever of issue 11, measured on the same indexes in one run: the installation guide and sample_docs.

The indexes are built once with Folio's own code (``app.factory.build``, ``app.service.ingest_paths``,
``rag.backfill.backfill``): the fast embedder (USE) + BM25 first — the time until *searchable* — then
multilingual-e5-small's second pass — the time until *complete*. For every question, each ranked list is
fetched once, deep (the fast embedder's, e5's, BM25's, and the candidates' vectors); every configuration
then ranks them with :func:`rag.retrieval.combine` / :func:`rag.retrieval.fold_translations` and the
same de-duplication and merging as ``folio search``, so the figures differ only by the lever.

It also measures each embedder's chance level (the cosine of a question with passages about something
else: mean and standard deviation, the calibration of :class:`rag.retrieval.Tuning`) and the fused
scores of right answers and of off-topic questions (the relevance floor of :mod:`rag.answering`).

    .venv/bin/python -m bench.bench_levers [--cache DIR] [--out bench/results/levers.json]

>>> label(Tuning(), ("use", "e5"))
'use+e5+bm25 z kw1 fold0.6'
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.factory import build
from app.service import ingest_paths
from app.settings import Settings
from bench.bench_retrieval_real import index_versions
from bench.installation_guide import LANGUAGES, SET, fetch
from rag.backfill import backfill
from rag.evaluation import in_setting, load_questions, metrics_from_ranks, rank_of
from rag.language import detect
from rag.retrieval import RAW, Ranked, Tuning, combine, drop_near_duplicates, fold_translations, merge_neighbours

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLE_DOCS = Path(__file__).resolve().parent.parent / "sample_docs"
DEPTH, K = 80, 5
SECOND = "multilingual-e5-small"
OFF_TOPIC = ("How long should I boil an egg for a soft yolk?", "Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?",
             "¿Cuál es la receta tradicional de la paella valenciana?", "Qual è la capitale dell'Australia?",
             "Quelle est la meilleure saison pour planter des tulipes ?", "What is the plot of Moby Dick?",
             "Wie viele Kalorien hat ein Apfel?", "¿Cómo se entrena a un perro para que no ladre?",
             "Come si prepara il tiramisù?", "Quel est le prix moyen d'un loyer à Lyon ?",
             "Which planet has the most moons?", "Wie funktioniert eine Wärmepumpe im Winter?")

CONFIGS: tuple[tuple[tuple[str, ...], Tuning], ...] = (
    (("use",), RAW),  # Folio before this issue
    (("use",), replace(RAW, translations=0.6)),
    (("use",), Tuning(translations=None)),
    (("use",), Tuning(keyword_weight=0.5, translations=None)),
    (("use",), Tuning(keyword_weight=2.0, translations=None)),
    (("use",), Tuning()),
    (("e5",), Tuning(translations=None)),
    (("e5",), Tuning()),
    (("use", "e5"), replace(RAW, translations=None)),
    (("use", "e5"), replace(RAW, keyword_weight=0.0, translations=None)),
    (("use", "e5"), Tuning(keyword_weight=0.0, translations=None)),
    (("use", "e5"), Tuning(keyword_weight=0.5, translations=None)),
    (("use", "e5"), Tuning(translations=None)),
    (("use", "e5"), Tuning(keyword_weight=2.0, translations=None)),
    (("use", "e5"), Tuning(translations=0.5)),
    (("use", "e5"), Tuning()),
    (("use", "e5"), Tuning(translations=0.7)),
    (("use", "e5"), Tuning(translations=0.8)),
    (("use", "e5"), Tuning(keyword_weight=0.5)),
    (("use", "e5"), Tuning(keyword_weight=2.0)),
)


@dataclass
class Lists:
    """One question's ranked lists, fetched once."""

    language: str
    dense: dict[str, list]
    keyword: list
    vectors: dict[str, np.ndarray]


def label(tuning: Tuning, embedders: tuple[str, ...]) -> str:
    kw = f"+bm25 {'z' if tuning.calibration == 'embedder' else 'raw'} kw{tuning.keyword_weight:g}" \
        if tuning.keyword_weight else f" {'z' if tuning.calibration == 'embedder' else 'raw'} no-bm25"
    fold = f" fold{tuning.translations:g}" if tuning.translations is not None else ""
    return "+".join(embedders) + kw + fold


def build_indexes(scratch: Path, folders: dict[str, Path]) -> tuple[dict, dict]:
    """The three indexes (guide same/cross, sample_docs), searchable then complete; their timings."""
    folios, timings = {}, {}
    for setting, languages in (("same", LANGUAGES), ("cross", ("en",)), ("sample", ())):
        settings = Settings.load(home=scratch / setting).with_(second_embedder=SECOND)
        folio = build(settings, llm=False, writer=True)
        started = time.perf_counter()
        if languages:
            info = index_versions(folio, folders, languages)
        else:
            results = list(ingest_paths(folio, [SAMPLE_DOCS]))
            info = {"pages": sum(r.pages for r in results), "chunks": sum(r.chunks for r in results)}
        searchable = time.perf_counter() - started
        backfill(folio.store(), folio.second_embedder)
        complete = time.perf_counter() - started
        timings[setting] = {**info, "searchable_s": round(searchable, 1), "complete_s": round(complete, 1),
                            "pages_per_s_searchable": round(info["pages"] / searchable, 2),
                            "pages_per_s_complete": round(info["pages"] / complete, 2)}
        print(setting, timings[setting], flush=True)
        folios[setting] = folio
    return folios, timings


def fetch_lists(folio, question: str) -> Lists:
    store = folio.store()
    language = detect(question)
    language = language if language in LANGUAGES else "en"
    dense = {"use": store.vectors.query(folio.embedder.embed_query(question), k=DEPTH),
             "e5": store.second.query(folio.second_embedder.embed_query(question), k=DEPTH)}
    keyword = store.keyword_query(question, k=DEPTH, language=language)
    ids = list({p.chunk.chunk_id for ranked in (*dense.values(), keyword) for p in ranked})
    return Lists(language, dense, keyword, store.vectors.vectors(ids))


def ranked(lists: Lists, embedders: tuple[str, ...], tuning: Tuning, calibration: dict) -> list:
    dense = [Ranked(lists.dense[name], mean=calibration[name][0], std=calibration[name][1]) for name in embedders]
    order = combine(dense, lists.keyword, tuning=tuning)
    if tuning.translations is not None:
        order = fold_translations(order[: 3 * K + 10], language=lists.language, threshold=tuning.translations,
                                  vectors=lambda ids: lists.vectors)
    return merge_neighbours(drop_near_duplicates(order[: 3 * K]))[:K]


def chance_level(folio, questions: list[str], *, sample: int = 600, seed: int = 7) -> dict:
    """Each embedder's cosine between questions and random passages: (mean, std)."""
    store = folio.store()
    ids = store.vectors.ids()
    picked = [ids[i] for i in np.random.default_rng(seed).choice(len(ids), size=min(sample, len(ids)), replace=False)]
    out = {}
    for name, embedder, vectors in (("use", folio.embedder, store.vectors), ("e5", folio.second_embedder, store.second)):
        matrix = np.stack(list(vectors.vectors(picked).values()))
        scores = np.concatenate([matrix @ embedder.embed_query(q) for q in questions])
        out[name] = (round(float(scores.mean()), 4), round(float(scores.std()), 4))
    return out


def run(*, cache: Path | None = None, out: Path | None = RESULTS / "levers.json") -> dict:
    folders = fetch(cache)
    guide = load_questions(SET)
    sample = load_questions(SAMPLE_DOCS / "eval.jsonl")
    sets = {"same": in_setting(guide, "same"), "cross": in_setting(guide, "cross"), "sample": sample}
    with tempfile.TemporaryDirectory(prefix="folio-levers-") as scratch:
        folios, timings = build_indexes(Path(scratch), folders)
        try:
            calibration = chance_level(folios["same"], [q.question for q in sets["same"]][::4])
            print("chance level (mean, std):", calibration, flush=True)
            lists = {name: [fetch_lists(folios[name], q.question) for q in questions] for name, questions in sets.items()}
            off_topic = {name: [fetch_lists(folios[name], q) for q in OFF_TOPIC] for name in ("same", "sample")}
        finally:
            for folio in folios.values():
                folio.close()
    configs = []
    for embedders, tuning in CONFIGS:
        row = {"config": label(tuning, embedders)}
        for name, questions in sets.items():
            ranks = [rank_of(ranked(item, embedders, tuning, calibration), q) for item, q in zip(lists[name], questions)]
            metrics = metrics_from_ranks(questions, ranks)
            group = "all"
            row[name] = {"hit@1": metrics[group]["hit@1"], "hit@5": metrics[group]["hit@5"], "mrr": metrics[group]["mrr"],
                         "by_language": {lang: (metrics.get(lang) or metrics.get(f"cross:{lang}") or {}).get("hit@5")
                                         for lang in LANGUAGES}}
            if name == "sample":
                row[name]["same_hit@5"] = metrics["same"]["hit@5"]
                row[name]["cross_hit@5"] = metrics["cross"]["hit@5"]
        row["relevance"] = relevance(lists, off_topic, sets, calibration, embedders=embedders, tuning=tuning)
        configs.append(row)
        print(f"{row['config']:<34} same {row['same']['hit@5']:.3f}  cross {row['cross']['hit@5']:.3f}  "
              f"sample same {row['sample']['same_hit@5']:.3f} cross {row['sample']['cross_hit@5']:.3f}", flush=True)
    for row in configs:
        print(f"{row['config']:<34} relevance: {row['relevance']}", flush=True)
    report = {"k": K, "depth": DEPTH, "indexes": timings, "chance_level": calibration, "configs": configs}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def relevance(lists: dict, off_topic: dict, sets: dict, calibration: dict, *, embedders: tuple[str, ...],
              tuning: Tuning) -> dict:
    """Top fused scores of questions answered in the top 5 (guide and sample_docs), and of off-topic questions."""
    right, wrong = [], []
    for name in ("same", "sample"):
        for item, question in zip(lists[name], sets[name]):
            passages = ranked(item, embedders, tuning, calibration)
            if passages and rank_of(passages, question) is not None:
                right.append(passages[0].score)
        wrong.extend(ranked(item, embedders, tuning, calibration)[0].score for item in off_topic[name])
    return {"weakest_right": round(min(right), 3), "right_p01": round(float(np.percentile(right, 1)), 3),
            "right_median": round(statistics.median(right), 3), "off_topic": [round(s, 3) for s in sorted(wrong)]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "levers.json")
    args = parser.parse_args(argv)
    return run(cache=args.cache, out=args.out)


if __name__ == "__main__":
    main()
