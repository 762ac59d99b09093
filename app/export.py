"""A conversation exported as Markdown (to read, share, archive) and JSON (to process), from the page or the CLI.

A conversation is its answers in order (each :class:`rag.answering.Answer` holds its question). Every
answer comes with its numbered sources — file, page, the quoted passage, whether the answer cites it
and the span that supports it — the model that wrote it and its stats. Document text and model output
are escaped in the Markdown as on the page (:func:`app.ui_render.escape_text`), so a viewer that
renders it fetches nothing and runs nothing; the JSON keeps them as they are.

>>> from rag.answering import Answer, Stats
>>> from rag.citations import verify
>>> from rag.documents import Source
>>> source = Source(n=1, source="depots.pdf", page=2, text="The depot opens at 05:30.", score=0.8, doc_id="d-1")
>>> answer = Answer(question="When does the depot open?", text="At 05:30 [1].", language="en",
...                 answer_language="en", sources=(source,), citations=verify("At 05:30 [1].", [source]),
...                 stats=Stats(120, 6, 0.25, 14.0, 0.9), meter={}, model="smollm2")
>>> text = markdown([answer], model_info={"name": "smollm2"}, collection="default", exported_at="2025-01-31 09:00 UTC")
>>> print(text.split("## ")[1].split("_")[0].strip())
1. When does the depot open?
<BLANKLINE>
At 05:30 [1].
<BLANKLINE>
**Sources**
<BLANKLINE>
- [1] depots.pdf, p. 2 ✓ cited
<BLANKLINE>
  > The depot opens at 05:30.
>>> [s["quote"] for s in as_json([answer], model_info={}, collection="default")["turns"][0]["sources"]]
['The depot opens at 05:30.']
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from app.i18n import t
from app.ui_render import escape_text, source_label, stats_markdown
from rag.answering import Answer

FORMAT_VERSION = 1
QUOTE_CHARS = 240


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def quote(answer: Answer, number: int, text: str, *, limit: int = QUOTE_CHARS) -> str:
    """The words of source ``number`` to quote: the span that supports the answer, else the passage's start."""
    spans = answer.citations.spans().get(number)
    words = " ".join((spans[0] if spans else text).split())
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0] + " …"


def as_json(answers: Sequence[Answer], *, model_info: dict, collection: str, exported_at: str | None = None) -> dict:
    """The conversation as one JSON-ready dict: each turn is :meth:`Answer.as_dict` plus each source's quote."""
    turns = []
    for answer in answers:
        cited = set(answer.citations.cited)
        turn = answer.as_dict()
        turn["sources"] = [s.as_dict() | {"cited": s.n in cited, "quote": quote(answer, s.n, s.text),
                                          "cite_as": f"{s.source}, p. {s.page}"} for s in answer.sources]
        turns.append(turn)
    info = {k: v for k, v in model_info.items() if isinstance(v, (str, int, float, bool)) or v is None}
    return {"folio_export": FORMAT_VERSION, "exported_at": exported_at or now(), "collection": collection,
            "model": info, "turns": turns}


def markdown(answers: Sequence[Answer], *, model_info: dict, collection: str, exported_at: str | None = None,
             language: str = "en") -> str:
    """The conversation as Markdown, its words in ``language``: each question, answer, numbered sources and stats."""
    model = model_info.get("name") or (answers[-1].model if answers else "")
    lines = [f"# {t(language, 'export_heading')}", "",
             "_" + escape_text(t(language, "export_meta").format(when=exported_at or now(), collection=collection,
                                                                  model=model)) + "_"]
    for number, answer in enumerate(answers, 1):
        lines += ["", f"## {number}. {escape_text(' '.join(answer.question.split()))}", "", escape_text(answer.text)]
        cited = set(answer.citations.cited)
        if answer.sources:
            lines += ["", f"**{t(language, 'sources')}**", ""]
            for source in answer.sources:
                mark = f" ✓ {t(language, 'cited_mark')}" if source.n in cited else ""
                lines += [f"- {escape_text(source_label(source, language=language))}{mark}", "",
                          f"  > {escape_text(' '.join(source.text.split()))}", ""]
        lines += ["", stats_markdown(answer, model_info, language=language) + " · " + escape_text(answer.model)]
    return "\n".join(lines).replace("\n\n\n", "\n\n").rstrip() + "\n"


def write(answers: Sequence[Answer], paths: Sequence[Path], *, model_info: dict, collection: str,
          language: str = "en") -> list[Path]:
    """Write the conversation to each of ``paths``: JSON for ``.json``, Markdown for anything else."""
    exported_at = now()
    written = []
    for path in paths:
        path = Path(path)
        if path.suffix.lower() == ".json":
            data = as_json(answers, model_info=model_info, collection=collection, exported_at=exported_at)
            text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        else:
            text = markdown(answers, model_info=model_info, collection=collection, exported_at=exported_at,
                            language=language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
