"""Check bench/sets/installation-guide.jsonl against the Debian installation guide, as Folio loads it.

Every fact's answer terms must be on its source page in each language version that states it; the
failures are printed and the exit status is 1 when there are any. It also lists facts whose terms
appear on another page of the same version too, and (``--chunks``) versions where no single chunk of Folio's
default size holds all the terms.

    .venv/bin/python bench/sets/check_installation_guide.py [--chunks]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.installation_guide import SET, check_set  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=SET)
    parser.add_argument("--chunks", action="store_true", help="also check the terms fit in one chunk")
    args = parser.parse_args(argv)
    options = {}
    if args.chunks:
        from app.settings import Settings
        from rag.embedding import build_embedder

        settings = Settings.load()
        options = {"chunk_tokens": settings.chunk_tokens, "token_length": build_embedder(settings.embedder).token_length}
    report = check_set(args.questions, **options)
    print(f"{report['questions']} questions, {report['facts']} facts")
    for fact, pages in report["elsewhere"].items():
        print(f"note: {fact}: its terms are also on {', '.join(pages)}")
    for line in report["split"]:
        print(f"split: {line}")
    for line in report["failures"]:
        print(f"FAIL {line}")
    print("ok" if not report["failures"] else f"{len(report['failures'])} failures")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
