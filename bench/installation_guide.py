"""The Debian installation guide in five languages: a real corpus, written by others, for retrieval benchmarks.

Debian's ``installation-guide-amd64`` package (20230508+deb12u1, bookworm) holds the guide as HTML
in 19 languages. For en, fr, de, es and it it has 84 HTML pages each, with the same file names in
every language (``index.html``, ``pr01.html``, ``ch01.html`` … ``ch08s06.html``, ``apa.html`` …
``apf.html``), plus an ``images/`` folder, ``install.css`` and gzipped PDF and text copies, which
are left out. Folio's HTML loader reads each file as one page (title first, then the body text
without the Prev/Next navigation; a table row is one line whose cells carry their column labels,
``Install Type: No desktop | RAM (minimum): 256 megabytes``, and a term stays on one line with its definition).

:func:`fetch` runs ``apt-get download`` once into a cache folder (``~/.cache/folio-bench/installation-guide``,
or ``$FOLIO_BENCH_CACHE``, or the ``cache`` argument), unpacks the package with ``dpkg-deb -x`` and
returns each language's folder of pages; a second call finds them and downloads nothing. Nothing
of the corpus is committed.

Five versions of one page share a file name, and Folio names a document by its file name, so the
benchmark ingests each page as ``<language>/<page>``:

>>> version_name("fr", "ch03s04.html")
'fr/ch03s04.html'
>>> split_name("fr/ch03s04.html")
('fr', 'ch03s04.html')

:func:`check_set` proves the question set against the corpus: every fact's answer terms must be on
its source page, as Folio's loader reads it, in each language version that states the fact.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SET = Path(__file__).resolve().parent / "sets" / "installation-guide.jsonl"
PACKAGE = "installation-guide-amd64"
LANGUAGES = ("en", "fr", "de", "es", "it")
PAGES_PER_LANGUAGE = 84
CACHE_ENV = "FOLIO_BENCH_CACHE"
DEFAULT_CACHE = Path("~/.cache/folio-bench/installation-guide")
_DOCS = Path("usr/share/doc") / PACKAGE


class CorpusError(RuntimeError):
    """The package could not be fetched or does not hold what the benchmark expects."""


def cache_dir(cache: Path | str | None = None) -> Path:
    """Where the package is kept: ``cache``, else ``$FOLIO_BENCH_CACHE``, else ``~/.cache/folio-bench/installation-guide``."""
    return Path(cache or os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def fetch(cache: Path | str | None = None, *, languages: tuple[str, ...] = LANGUAGES) -> dict[str, Path]:
    """Each language's folder of HTML pages, downloading and unpacking the package the first time only."""
    root = cache_dir(cache)
    unpacked = root / "unpacked"
    if not all(len(pages(unpacked / _DOCS / language)) == PAGES_PER_LANGUAGE for language in languages):
        _download_and_unpack(root, unpacked)
    folders = {language: unpacked / _DOCS / language for language in languages}
    for language, folder in folders.items():
        found = len(pages(folder))
        if found != PAGES_PER_LANGUAGE:
            raise CorpusError(f"{folder}: {found} HTML pages instead of {PAGES_PER_LANGUAGE}; "
                              f"delete {root} and run again to fetch {PACKAGE} afresh.")
    return folders


def pages(folder: Path) -> list[Path]:
    """The HTML pages of one language version, sorted by name (an absent folder has none)."""
    return sorted(folder.glob("*.html")) if folder.is_dir() else []


def version_name(language: str, page: str) -> str:
    """The document name the benchmark gives one language version of a page."""
    return f"{language}/{page}"


def split_name(name: str) -> tuple[str, str]:
    """``(language, page)`` from a name made by :func:`version_name`."""
    language, _, page = name.partition("/")
    return language, page


def stated_in(question) -> list[str]:
    """The language versions that state a question's fact (``only_in``'s alone, or every version with terms)."""
    return [question.only_in] if question.only_in else sorted(question.answer_terms)


def check_set(questions_path: Path = SET, *, cache: Path | str | None = None, chunk_tokens: int | None = None,
              token_length=None) -> dict:
    """Check the set against the pages as Folio loads them; returns ``failures`` (must be empty) and notes.

    ``failures``: a question whose terms are missing from its source page in a version that states the
    fact, or that lacks terms for such a version. ``elsewhere``: facts whose terms (English, or
    ``only_in``'s) are also all on another page of that version (a second page that may answer: to look
    at by hand). With ``chunk_tokens`` and ``token_length`` (the embedder's), ``split``: versions where
    no single chunk holds all the terms.
    """
    from rag.chunking import chunk_document
    from rag.evaluation import contains_terms, load_questions
    from rag.loading import load

    folders = fetch(cache)
    questions = load_questions(questions_path)
    languages = sorted({language for q in questions for language in stated_in(q)} | {q.language for q in questions})
    documents = {(language, path.name): load(path, name=version_name(language, path.name))
                 for language in languages for path in pages(folders[language])}
    failures, elsewhere, split = [], {}, []
    for question in questions:
        for language in stated_in(question):
            document = documents.get((language, question.source))
            terms = question.answer_terms.get(language)
            where = f"{question.id}: {version_name(language, question.source)}"
            if document is None:
                failures.append(f"{where}: no such page")
            elif not terms:
                failures.append(f"{where}: no answer terms for this version")
            elif not any(contains_terms(page.text, terms) for page in document.pages):
                text = "\n".join(page.text for page in document.pages)
                failures.append(f"{where}: missing {[t for t in terms if not contains_terms(text, [t])]}")
            elif chunk_tokens and question.language == language:
                chunks = chunk_document(document, token_length=token_length, chunk_tokens=chunk_tokens)
                if not any(contains_terms(chunk.text, terms) for chunk in chunks):
                    split.append(f"{where}: {list(terms)} never all in one chunk")
        version = question.only_in or "en"  # looked at once per fact, in the version that states it
        terms = question.answer_terms.get(version)
        if question.language == version and terms:
            others = sorted(version_name(language, page) for (language, page), document in documents.items()
                            if language == version and page != question.source
                            and contains_terms(document.pages[0].text, terms))
            if others:
                elsewhere[question.fact] = others
    return {"questions": len(questions), "facts": len({q.fact for q in questions}), "failures": failures,
            "elsewhere": elsewhere, "split": split}


def _download_and_unpack(root: Path, unpacked: Path) -> None:
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise CorpusError(f"{tool} was not found: the benchmark corpus comes from Debian's {PACKAGE} package, "
                              f"so it needs a Debian or Ubuntu machine (or put the unpacked package in {unpacked}).")
    root.mkdir(parents=True, exist_ok=True)
    debs = sorted(root.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        run = subprocess.run(["apt-get", "download", PACKAGE], cwd=root, capture_output=True, text=True)
        debs = sorted(root.glob(f"{PACKAGE}_*.deb"))
        if run.returncode != 0 or not debs:
            said = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
            raise CorpusError(f"apt-get download {PACKAGE} failed ({said}); "
                              "check that the machine can reach a Debian mirror (apt-get update).")
    with tempfile.TemporaryDirectory(dir=root) as scratch:  # unpack beside, then swap in: never half a corpus
        run = subprocess.run(["dpkg-deb", "-x", str(debs[-1]), scratch], capture_output=True, text=True)
        if run.returncode != 0:
            raise CorpusError(f"dpkg-deb -x {debs[-1].name} failed ({run.stderr.strip()}); delete it and run again.")
        if unpacked.exists():
            shutil.rmtree(unpacked)
        Path(scratch).rename(unpacked)
        Path(scratch).mkdir()  # so the context manager has something to remove
