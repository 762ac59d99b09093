"""Which of the five languages a text is written in.

Detection is restricted to the languages Folio answers in, so a short question is never labelled
with a language we cannot answer in.

>>> detect("Quelle est la période de garantie des batteries ?")
'fr'
>>> detect("Wie lange gilt die Garantie?")
'de'
>>> detect("")
'unknown'
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.documents import LANGUAGES

LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian"}
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str, *, sample_chars: int = 4000) -> str:
    """The language code of ``text`` among :data:`LANGUAGES`, or ``'unknown'`` when it has no letters."""
    sample = text[:sample_chars]
    if len(_LETTERS.findall(sample)) < 2:
        return "unknown"
    language, _ = _identifier().classify(sample)
    return language
