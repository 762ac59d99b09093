#!/usr/bin/env python3
"""Validate sample_docs/eval.jsonl against the generated sample corpus.

For every question:
  * the source file exists and the page is within range,
  * every answer_contains string occurs (case-insensitive, whitespace-normalised)
    on that page of that source,
  * language / cross_language fields are consistent with the source file name.
It also reports (as warnings) other pages that contain ALL answer strings of a
question, so ambiguous facts can be reviewed, checks that HTML <script>/<style>
text is not part of the extracted content, and checks the per-language counts.

Run: python sample_docs/_build/check_eval.py      (exit code 0 = pass)
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
EVAL = DOCS / "eval.jsonl"
EXTS = {".pdf", ".docx", ".md", ".txt", ".html", ".htm"}
LANGS = ("en", "fr", "de", "es", "it")
SCRIPT_SENTINELS = ["INFO-TEST-7731", "TEXTO-DE-PRUEBA-5520", "TESTO-SCRIPT-3390",
                    "plazasLibres", "visitatoriDemo", "horairesSecours", "font-family"]


class _HTMLText(HTMLParser):
    SKIP = {"script", "style", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1
        elif tag in {"p", "li", "tr", "h1", "h2", "h3", "td", "th"}:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def extract_pages(path: Path) -> list[str]:
    ext = path.suffix.lower()
    if ext == ".pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        pages = []
        for i in range(len(pdf)):
            tp = pdf[i].get_textpage()
            pages.append(tp.get_text_range())
        return pages
    if ext == ".docx":
        import docx

        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                parts.append(" | ".join(c.text for c in row.cells))
        return ["\n".join(parts)]
    if ext in (".html", ".htm"):
        parser = _HTMLText()
        parser.feed(path.read_text(encoding="utf-8"))
        return ["".join(parser.parts)]
    return [path.read_text(encoding="utf-8")]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def contains(page: str, needle: str) -> bool:
    n = norm(needle)
    pat = re.escape(n)
    if n[:1].isdigit():
        pat = r"(?<!\d)" + pat
    if n[-1:].isdigit():
        pat = pat + r"(?![\d])"
    return re.search(pat, page) is not None


def main() -> int:
    corpus: dict[str, list[str]] = {}
    for f in sorted(DOCS.iterdir()):
        if f.is_file() and f.suffix.lower() in EXTS:
            corpus[f.name] = [norm(p) for p in extract_pages(f)]
    errors: list[str] = []
    warnings: list[str] = []

    # sanity: script/style text must not leak into extracted HTML content
    for name, pages in corpus.items():
        if name.endswith((".html", ".htm")):
            for s in SCRIPT_SENTINELS:
                if norm(s) in pages[0]:
                    errors.append(f"{name}: script/style text leaked: {s}")
            raw = (DOCS / name).read_text(encoding="utf-8")
            if "<script>" not in raw or "<style>" not in raw:
                errors.append(f"{name}: expected a <script> and a <style> block")

    rows = [json.loads(l) for l in EVAL.read_text(encoding="utf-8").splitlines() if l.strip()]
    ids = Counter(r["id"] for r in rows)
    for i, n in ids.items():
        if n > 1:
            errors.append(f"duplicate id {i}")
    counts = Counter()
    for r in rows:
        rid = r["id"]
        for key in ("id", "question", "language", "source", "page", "answer_contains",
                    "cross_language"):
            if key not in r:
                errors.append(f"{rid}: missing field {key}")
        src, page = r["source"], r["page"]
        if src not in corpus:
            errors.append(f"{rid}: unknown source {src}")
            continue
        pages = corpus[src]
        if not (1 <= page <= len(pages)):
            errors.append(f"{rid}: page {page} out of range (1..{len(pages)})")
            continue
        src_lang = re.search(r"_([a-z]{2})\.[a-z]+$", src).group(1)
        if r["language"] not in LANGS:
            errors.append(f"{rid}: bad language {r['language']}")
        if r["cross_language"] != (r["language"] != src_lang):
            errors.append(f"{rid}: cross_language flag inconsistent "
                          f"(question {r['language']}, source {src_lang})")
        ans = r["answer_contains"]
        if not (1 <= len(ans) <= 3):
            errors.append(f"{rid}: answer_contains must have 1-3 strings")
        for a in ans:
            if not contains(pages[page - 1], a):
                errors.append(f"{rid}: {a!r} not found on {src} p.{page}")
        # other locations holding all answer strings -> review
        others = [f"{n} p.{k + 1}" for n, ps in corpus.items() for k, p in enumerate(ps)
                  if not (n == src and k + 1 == page) and all(contains(p, a) for a in ans)]
        if others:
            warnings.append(f"{rid} {ans} also on: {', '.join(others)}")
        counts[(r["language"], "cross" if r["cross_language"] else "same")] += 1

    for lang in LANGS:
        same, cross = counts[(lang, "same")], counts[(lang, "cross")]
        print(f"{lang}: same-language {same:3d}  cross-language {cross:3d}")
        if same < 12:
            errors.append(f"{lang}: only {same} same-language questions (need 12)")
        if cross < 6:
            errors.append(f"{lang}: only {cross} cross-language questions (need 6)")
    total_chars = sum(len(p) for ps in corpus.values() for p in ps)
    print(f"{len(rows)} questions, {len(corpus)} files, "
          f"{sum(len(p) for p in corpus.values())} pages, {total_chars} extracted chars")
    if "-v" in sys.argv:
        for w in warnings:
            print("WARN (review):", w)
    else:
        print(f"{len(warnings)} review warnings (run with -v to list)")
    for e in errors:
        print("ERROR:", e)
    print("PASS" if not errors else f"FAIL ({len(errors)} errors)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
