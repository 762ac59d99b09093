"""Which numbered sources an answer cites, and whether each citation points at a real source.

>>> check("Depots open at six [1]. Dogs ride free [3].", n_sources=2)
{'cited': [1], 'unknown': [3], 'uncited_sentences': 0}
"""

from __future__ import annotations

import re

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def cited_numbers(text: str) -> list[int]:
    """Source numbers cited as ``[n]`` or ``[n, m]``, in order of first appearance."""
    seen: list[int] = []
    for group in _CITATION.findall(text):
        for number in group.split(","):
            if int(number) not in seen:
                seen.append(int(number))
    return seen


def check(answer: str, *, n_sources: int) -> dict:
    """Citations that point at one of the ``n_sources`` sources, those that don't, and sentences citing nothing."""
    numbers = cited_numbers(answer)
    sentences = [s for s in _SENTENCES.split(answer.strip()) if len(s.split()) > 3]
    return {"cited": [n for n in numbers if 1 <= n <= n_sources],
            "unknown": [n for n in numbers if not 1 <= n <= n_sources],
            "uncited_sentences": sum(1 for s in sentences if not _CITATION.search(s))}
