"""OCR accuracy and speed per language, and the language strategy Folio keeps.

Every page of a real PDF per language (sample_docs/; the French one is made from the French press
release) is rendered at 200 dpi and saved as an image-only PDF, as a scanner would; each scan is then
read back and compared with the page's own text layer.

Character accuracy = 1 - edit distance / length of the original, after whitespace normalisation.

Strategies (each reads every page of a document in order):

- ``folio``: Folio's own path (``rag.loading.load`` of the scan: render, then :class:`rag.ocr.Reader`:
  the document's language found from its first page, each page checked and re-read if it differs);
- ``known``: the right language given beforehand (the upper bound);
- ``english``: English only;
- ``all5``: the five languages at once (``eng+fra+deu+spa+ita``);
- ``per_page``: each page read in English, its language detected, re-read in it when it is another.

Writes ``bench/results/ocr.json``. Run: ``.venv/bin/python -m bench.bench_ocr`` (about 4 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from rag import ocr
from rag.language import detect
from rag.loading import load

RESULTS = Path(__file__).resolve().parent / "results" / "ocr.json"
DPI = 200


def words(text: str) -> str:
    return " ".join(text.split())


def accuracy(ocr_text: str, original: str) -> float:
    from rapidfuzz.distance import Levenshtein

    a, b = words(ocr_text), words(original)
    return 1 - Levenshtein.distance(a, b) / max(1, len(b))


def _tesseract(png: bytes, languages: str) -> str:
    completed = ocr._run([ocr.tesseract_command(), "stdin", "stdout", "-l", languages], stdin=png, timeout=300)
    return completed.stdout.decode("utf-8", "replace")


def main() -> dict:
    from tests.formats_factory import rendered_pages, save_scan, source_pdf

    import pypdfium2 as pdfium

    state = ocr.status()
    if not state.available:
        raise SystemExit(state.message)
    report: dict = {"tesseract": state.version, "dpi": DPI, "cores": os.cpu_count(), "machine": platform.machine(),
                    "measure": "character accuracy = 1 - Levenshtein distance / original length, whitespace normalised",
                    "languages": {}}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        warm_images, _ = rendered_pages(source_pdf("en", folder), [1], dpi=DPI)  # models and caches loaded once,
        for code in ocr.TESSERACT_LANGUAGES.values():                           # outside the timings
            _tesseract(ocr._png(warm_images[0]), code)
        detect("warm up the language model")
        for language, code in ocr.TESSERACT_LANGUAGES.items():
            source = source_pdf(language, folder)
            count = len(pdfium.PdfDocument(str(source)))
            images, originals = rendered_pages(source, list(range(1, count + 1)), dpi=DPI)
            scan = save_scan(folder / f"scan_{language}.pdf", images, dpi=DPI)
            pngs = [ocr._png(image) for image in images]
            row: dict = {"pages": count, "source": source.name}

            started = time.monotonic()
            document = load(scan)
            row["folio"] = _summary([p.text for p in document.pages], originals, time.monotonic() - started)
            reader = ocr.Reader(name=scan.name, what="bench")
            for image in images:
                reader.read(image, page=1)
            row["folio"]["tesseract_runs"] = reader.passes

            for strategy, languages in (("known", code), ("english", "eng"), ("all5", "eng+fra+deu+spa+ita")):
                started = time.monotonic()
                texts = [_tesseract(png, languages) for png in pngs]
                row[strategy] = _summary(texts, originals, time.monotonic() - started)

            started = time.monotonic()
            texts = []
            for png in pngs:
                text = _tesseract(png, "eng")
                found = detect(text)
                if found in state.languages and found != "en":
                    text = _tesseract(png, ocr.TESSERACT_LANGUAGES[found])
                texts.append(text)
            row["per_page"] = _summary(texts, originals, time.monotonic() - started)
            report["languages"][language] = row
            print(language, json.dumps({k: v for k, v in row.items() if isinstance(v, dict)}), flush=True)
    strategies = ("folio", "known", "english", "all5", "per_page")
    pages = sum(row["pages"] for row in report["languages"].values())
    report["overall"] = {s: {"accuracy": round(sum(r[s]["accuracy"] * r["pages"] for r in report["languages"].values())
                                               / pages, 4),
                             "s_per_page": round(sum(r[s]["s_per_page"] * r["pages"] for r in report["languages"].values())
                                                 / pages, 2)} for s in strategies}
    report["kept"] = "folio"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report["overall"], indent=2))
    return report


def _summary(texts: list[str], originals: list[str], seconds: float) -> dict:
    scores = [accuracy(text, original) for text, original in zip(texts, originals)]
    return {"accuracy": round(sum(scores) / len(scores), 4), "worst_page": round(min(scores), 4),
            "s_per_page": round(seconds / len(texts), 2)}


if __name__ == "__main__":
    main()
