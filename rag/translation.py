"""The question in the other four languages, so that a library in one language answers a question in another.

A capable chat model (Mixtral, or a remote engine; never the small stand-in, which cannot follow the
instruction) is asked once, in one short call, for the question in the other four of Folio's five
languages; :func:`rag.retrieval.search` then searches with all five and keeps each passage's best
score. The answer still comes in the user's language (:func:`rag.answering.choose_language` reads the
original question). Translations are cached per question, so asking again costs nothing.

Its quality was not measured here (the machines this was built on run only the stand-in); the
plumbing is tested with :class:`FakeTranslator`.

>>> t = FakeTranslator({"Où est la gare ?": {"en": "Where is the station?"}})
>>> t.translate("Où est la gare ?", source="fr")
{'en': 'Where is the station?'}
>>> parse_translations('{"en": "Where is the station?", "de": "Wo ist der Bahnhof?", "xx": "?"}', source="fr")
{'en': 'Where is the station?', 'de': 'Wo ist der Bahnhof?'}
"""

from __future__ import annotations

import json
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict

from core.chat import ChatModel
from rag.documents import LANGUAGES

NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian"}
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class Translator(ABC):
    """Turns a question into the other languages: ``{language: question}`` (any it could not, left out)."""

    @abstractmethod
    def translate(self, question: str, *, source: str) -> dict[str, str]:
        """The question in every one of Folio's languages except ``source``."""


class FakeTranslator(Translator):
    """A fixed table, for tests; counts its calls."""

    def __init__(self, table: dict[str, dict[str, str]]) -> None:
        self.table, self.calls = table, 0

    def translate(self, question: str, *, source: str) -> dict[str, str]:
        self.calls += 1
        return {lang: text for lang, text in self.table.get(question, {}).items() if lang != source}


class ChatTranslator(Translator):
    """One short call to the chat model, answered as a JSON object; the last ``cache_size`` questions cached."""

    def __init__(self, chat: ChatModel, *, cache_size: int = 256, max_tokens: int = 200) -> None:
        self._chat, self._max_tokens, self._size = chat, max_tokens, cache_size
        self._cache: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def translate(self, question: str, *, source: str) -> dict[str, str]:
        key = (question.strip(), source)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return dict(self._cache[key])
        text = "".join(self._chat.stream(translation_messages(question, source=source),
                                         max_tokens=self._max_tokens, temperature=0.0))
        found = parse_translations(text, source=source)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return dict(found)


def translation_messages(question: str, *, source: str) -> list[dict]:
    """The one-turn prompt: the question is data to translate, not an instruction to follow."""
    targets = [lang for lang in LANGUAGES if lang != source]
    keys = ", ".join(f'"{lang}" ({NAMES[lang]})' for lang in targets)
    return [{"role": "system", "content": "You translate search questions. Reply with one JSON object and nothing "
                                          f"else, with the keys {keys}; each value is the question translated. "
                                          "Do not answer the question; keep names, numbers and commands as they are."},
            {"role": "user", "content": f"Question ({NAMES.get(source, 'English')}):\n<<<\n{question}\n>>>"}]


def parse_translations(text: str, *, source: str) -> dict[str, str]:
    """The translations in the model's reply: known languages other than ``source``, non-empty strings."""
    found = _OBJECT.search(text or "")
    try:
        data = json.loads(found.group(0)) if found else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {lang: value.strip() for lang, value in data.items()
            if lang in LANGUAGES and lang != source and isinstance(value, str) and value.strip()
            and len(value) < 1000}
