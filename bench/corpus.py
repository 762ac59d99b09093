"""A multilingual corpus of real multi-page PDFs for the ingestion benchmark, built from sample_docs' text.

Each PDF mixes the paragraphs of one language's sample documents in a seeded order, two paragraphs a
page, so every page has different text. The pages look like a word processor's: an embedded, subset
TrueType font (matplotlib's DejaVu Serif), justified lines whose words are placed by offsets, a bold
heading, a running header and a page number. Deterministic: the same seed gives the same files.

>>> paragraphs_by_language()["de"][0][:20]
'Sicherheitshandbuch '
"""

from __future__ import annotations

import random
from pathlib import Path

from rag.library import discover
from rag.loading import load

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"


def paragraphs_by_language() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path, _ in discover([SAMPLES])[0]:
        document = load(path)
        for page in document.pages:
            out.setdefault(document.language, []).extend(p for p in page.text.split("\n\n") if len(p) > 80)
    return out


def build(folder: Path, *, pages: int = 520, per_file: int = 52, seed: int = 7) -> list[Path]:
    """Write ``pages // per_file`` PDFs (languages in turn) into ``folder``; reuse them if present."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = paragraphs_by_language()
    languages = sorted(texts)
    rng = random.Random(seed)
    files = []
    for number in range(pages // per_file):
        language = languages[number % len(languages)]
        path = folder / f"report_{number:02d}_{language}.pdf"
        files.append(path)
        if not path.exists():
            _write(path, [rng.sample(texts[language], k=min(2, len(texts[language]))) for _ in range(per_file)],
                   title=f"Valmont Rail · {language.upper()} {number:02d}")
    for stale in set(folder.glob("*.pdf")) - set(files):  # an older corpus's files
        stale.unlink()
    return files


def _write(path: Path, pages: list[list[str]], *, title: str) -> None:
    import matplotlib
    from fpdf import FPDF

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF()
    pdf.add_font("Serif", "", str(fonts / "DejaVuSerif.ttf"))
    pdf.add_font("Serif", "B", str(fonts / "DejaVuSerif-Bold.ttf"))
    pdf.set_margins(22, 18, 22)
    pdf.set_auto_page_break(False)
    for number, paragraphs in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Serif", "", 8)
        pdf.cell(0, 5, title, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Serif", "B", 12)
        heading = " ".join(paragraphs[0].split(".")[0].split()[:8])
        pdf.cell(0, 9, f"{number}. {heading}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Serif", "", 10)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5, paragraph, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        pdf.set_y(-14)
        pdf.set_font("Serif", "", 8)
        pdf.cell(0, 5, str(number), align="C")
    pdf.output(str(path))
