"""Search latency at 1k, 10k, 100k and 1,000,000 chunks (with peak memory), and deleting + re-ingesting one
document at 100k.

Chunks are synthetic (random unit vectors of the default embedder's size; text drawn from
sample_docs' words so BM25 has real postings), inserted through the same Store the app uses, so
the measured path is the real one: the query embedding, Chroma's HNSW query, the FTS5 BM25 query,
fusion, de-duplication. The vectors are synthetic, so the dense side's *latency* is real (HNSW over
that many vectors) but its ranking means nothing. Targets: p50 ≤ 30 ms at 100k chunks on 2 cores;
delete + re-ingest of one document in a 100k-chunk index ≤ 1 s.

    .venv/bin/python -m bench.bench_search [--sizes 1000 10000 100000 1000000]

>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bench_library import peak_rss_mb
from bench.corpus import paragraphs_by_language
from rag.chunking import chunk_document
from rag.documents import Chunk, Document, Page
from rag.embedding import build_embedder
from rag.index.manifest import Manifest
from rag.retrieval import search
from rag.index.client import open_client
from rag.index.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUERIES = ["When does the Lausanne depot open?", "Wie oft werden die Bremsen geprüft?",
           "Quel est le prix du billet ?", "¿Pueden viajar los perros?", "Quanto costa la tessera di socio?"]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def fill(store: Store, *, chunks: int, dim: int, words: list[str], rng: random.Random, start: int = 0) -> None:
    """Add synthetic documents of 100 chunks each until the index holds ``chunks`` chunks (50 documents a write)."""
    per_doc, per_write = 100, 50
    vectors_rng = np.random.default_rng(rng.randrange(2**32))
    numbers = list(range(start // per_doc, chunks // per_doc))
    for first in range(0, len(numbers), per_write):
        items = []
        for number in numbers[first:first + per_write]:
            texts = [" ".join(rng.choices(words, k=60)) for _ in range(per_doc)]
            document = Document(name=f"synthetic-{number:05d}.txt", path="-", sha256=f"{number:064x}",
                                pages=(Page(1, "\n\n".join(texts)),), language="en")
            chunk_list = [Chunk(document.doc_id, document.name, 1, 0, len(t), t, "en", i, document.sha256)
                          for i, t in enumerate(texts)]
            vectors = vectors_rng.standard_normal((per_doc, dim), dtype=np.float32)
            items.append((document, chunk_list, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)))
        store.put(items)


def latencies(store: Store, embedder, *, repeats: int = 20) -> list[float]:
    out = []
    for _ in range(repeats):
        for query in QUERIES:
            started = time.perf_counter()
            search(query, store=store, embedder=embedder, k=5)
            out.append(1000 * (time.perf_counter() - started))
    return out


def delete_and_reingest(store: Store, embedder, folder: Path) -> float:
    """Seconds to remove one real document and ingest it again, embedding included."""
    path = folder / "manual.txt"
    path.write_text("\n\n".join(paragraphs_by_language()["en"][:12]), encoding="utf-8")
    document = Document(name=path.name, path=str(path), sha256="f" * 64, pages=(Page(1, path.read_text()),), language="en")
    chunks = chunk_document(document, token_length=embedder.token_length)
    store.put([(document, chunks, embedder.embed_passages([c.text for c in chunks]))])
    started = time.perf_counter()
    store.remove(path.name)
    store.put([(document, chunks, embedder.embed_passages([c.text for c in chunks]))])
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    embedder = build_embedder("use-multilingual-v3")
    words = " ".join(p for ps in paragraphs_by_language().values() for p in ps).split()
    rng = random.Random(11)
    result: dict = {"sizes": {}}
    with tempfile.TemporaryDirectory() as home:
        home = Path(home)
        store = Store(client=open_client(home / "index"), manifest=Manifest(home / "m.sqlite3"), collection="bench",
                      embedder=embedder.name, dim=embedder.dim)
        filled = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            fill(store, chunks=size, dim=embedder.dim, words=words, rng=rng, start=filled)
            filled = size
            values = latencies(store, embedder)
            result["sizes"][str(size)] = {"p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
                                          "mean_ms": round(statistics.mean(values), 1),
                                          "fill_s": round(time.perf_counter() - started, 1),
                                          "peak_rss_mb": peak_rss_mb()}
            print(size, result["sizes"][str(size)], flush=True)
            if size == 100_000:
                result["delete_s_100k"] = round(delete_and_reingest(store, embedder, home), 3)
    if "100000" in result["sizes"]:
        result["search_p50_ms_100k"] = result["sizes"]["100000"]["p50_ms"]
    if "1000000" in result["sizes"]:
        result["search_p50_ms_1m"] = result["sizes"]["1000000"]["p50_ms"]
        result["search_p95_ms_1m"] = result["sizes"]["1000000"]["p95_ms"]
        result["search_peak_rss_mb_1m"] = result["sizes"]["1000000"]["peak_rss_mb"]
    result["targets"] = {"search_p50_ms_100k": "<= 30", "delete_s_100k": "<= 1"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_chart(result, args.out / "search.png")
    print(json.dumps(result, indent=2))
    return result


def write_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [int(s) for s in result["sizes"]]
    fig, axis = plt.subplots(figsize=(6, 3.6))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95")):
        axis.plot(sizes, [result["sizes"][str(s)][key] for s in sizes], marker="o", label=label)
    axis.axhline(30, color="#c44", linestyle="--", linewidth=1, label="target p50 (30 ms)")
    axis.set_xscale("log")
    axis.set_xlabel("chunks in the index")
    axis.set_ylabel("hybrid search, ms")
    axis.set_title(f"Search latency; delete + re-ingest at 100k: {result.get('delete_s_100k', 0):.2f} s")
    axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
