"""A library of 10,000 documents: a watched folder's first pass, a pass over it unchanged, one file changed,
one removed, and the web library's page and filter queries.

10,000 small text files (a paragraph of sample_docs' words each, in 100 subfolders) are synced by the
same code ``folio watch`` runs (:func:`app.service.sync_folder`: the sandboxed parser, the real USE
embedder, Chroma and the manifest). Targets (issue 12): the unchanged pass takes seconds (nothing is
hashed: size and mtime tell); removing one document takes under a second.

    .venv/bin/python -m bench.bench_library [--files 10000]

>>> peak_rss_mb() > 0
True
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from bench.corpus import paragraphs_by_language

RESULTS = Path(__file__).resolve().parent / "results"
OLD = time.time() - 3600  # older than the settle time: read at once


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def make_tree(root: Path, *, files: int, seed: int = 7) -> None:
    words = " ".join(p for ps in paragraphs_by_language().values() for p in ps).split()
    rng = random.Random(seed)
    for number in range(files):
        path = root / f"part-{number % 100:02d}" / f"note-{number:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Note {number}. " + " ".join(rng.choices(words, k=40)), encoding="utf-8")
        os.utime(path, (OLD, OLD))


def main(argv: list[str] | None = None) -> dict:
    from app import service
    from app.factory import build
    from app.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result: dict = {"files": args.files, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        root = scratch / "library"
        started = time.perf_counter()
        make_tree(root, files=args.files)
        result["make_tree_s"] = round(time.perf_counter() - started, 1)
        folio = build(Settings.load(env={"FOLIO_HOME": str(scratch / "home")}), llm=False, writer=True)
        try:
            first = service.sync_folder(folio, root, settle_s=2.0)
            result["first_pass_s"] = round(first.seconds, 1)
            result["first_pass_files_per_s"] = round(args.files / first.seconds, 1)
            result["first_pass_counts"] = first.counts
            print("first pass", result["first_pass_s"], "s", first.counts, flush=True)

            again = service.sync_folder(folio, root, settle_s=2.0)
            result["unchanged_pass_s"] = round(again.seconds, 2)
            result["unchanged_pass_counts"] = again.counts
            print("unchanged pass", result["unchanged_pass_s"], "s", flush=True)

            changed = root / "part-42" / "note-00042.txt"
            changed.write_text("Note 42, rewritten: the depot now opens at seven.", encoding="utf-8")
            os.utime(changed, (OLD + 60, OLD + 60))
            one = service.sync_folder(folio, root, settle_s=2.0)
            result["one_changed_pass_s"] = round(one.seconds, 2)
            result["one_changed_pass_counts"] = one.counts

            store = folio.store()
            victim = store.find("library/part-07/note-00007.txt")
            started = time.perf_counter()
            service.remove_document(folio, victim.doc_id)
            result["remove_one_s"] = round(time.perf_counter() - started, 3)

            started = time.perf_counter()
            page = store.documents(match="note-09", limit=50, offset=50)
            total = store.count(match="note-09")
            result["page_query_ms"] = round(1000 * (time.perf_counter() - started), 1)
            result["page_query_rows"] = [len(page), total]
            result["documents"] = store.count()
            result["chunks"] = store.vectors.count()
        finally:
            folio.close()
    result["peak_rss_mb"] = peak_rss_mb()
    result["targets"] = {"unchanged_pass_s": "seconds", "remove_one_s": "< 1"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "library.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
