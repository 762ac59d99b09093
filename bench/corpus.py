"""A multilingual corpus of real multi-page PDFs for the ingestion benchmark, built from sample_docs' text.

Each PDF mixes the paragraphs of one language's sample documents in a seeded order, one to two
paragraphs a page, so every page has different text. Deterministic: the same seed gives the same files.

>>> paragraphs_by_language()["de"][0][:20]
'Sicherheitshandbuch '
"""

from __future__ import annotations

import random
from pathlib import Path

from rag.loading import discover, load

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"


def paragraphs_by_language() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in discover([SAMPLES]):
        document = load(path)
        for page in document.pages:
            out.setdefault(document.language, []).extend(p for p in page.text.split("\n\n") if len(p) > 80)
    return out


def build(folder: Path, *, pages: int = 520, per_file: int = 52, seed: int = 7) -> list[Path]:
    """Write ``pages // per_file`` PDFs (languages in turn) into ``folder``; reuse them if present."""
    from fpdf import FPDF

    folder.mkdir(parents=True, exist_ok=True)
    texts = paragraphs_by_language()
    languages = sorted(texts)
    rng = random.Random(seed)
    files = []
    for number in range(pages // per_file):
        language = languages[number % len(languages)]
        path = folder / f"corpus_{number:02d}_{language}.pdf"
        files.append(path)
        if path.exists():
            continue
        pdf = FPDF()
        pdf.set_font("Helvetica", size=10)
        for _ in range(per_file):
            pdf.add_page()
            body = "\n\n".join(rng.sample(texts[language], k=min(2, len(texts[language]))))
            pdf.multi_cell(0, 5, body.encode("latin-1", "replace").decode("latin-1"))
        pdf.output(str(path))
    return files
