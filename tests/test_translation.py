"""The question searched in the other languages (rag.translation), with a fake translator: the plumbing on real
Chroma, the real keyword index and the real chat path; the quality of a real model's translations is not
measured here (see the README)."""

from __future__ import annotations

from collections.abc import Iterator

from app.factory import build
from app.service import _translator
from app.settings import Settings
from core.chat import FakeChatModel
from rag.answering import ask
from rag.embedding import FakeEmbedder
from rag.index.client import open_client
from rag.index.manifest import Manifest
from rag.index.store import Store
from rag.ingest import ingest
from rag.retrieval import search
from rag.translation import ChatTranslator, FakeTranslator

QUESTION = "Combien coûte le ticket de vélo ?"
ENGLISH = {QUESTION: {"en": "How much does the bicycle ticket cost?", "de": "Was kostet das Fahrradticket?"}}


def english_library(tmp_path) -> Store:
    """English documents, a bag-of-words embedder that cannot match French to English on its own."""
    store = Store(client=open_client(tmp_path / "i"), manifest=Manifest(tmp_path / "m"), collection="default",
                  embedder="fake-hash-64", dim=64)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bikes.txt").write_text("The bicycle ticket costs 5 francs and is valid all day.")
    (docs / "dogs.txt").write_text("Dogs travel free when they sit on a lap; the combien café serves le ticket.")
    list(ingest([docs], store=store, embedder=FakeEmbedder()))
    return store


def test_a_translated_question_finds_the_passage_the_original_misses(tmp_path):
    store = english_library(tmp_path)
    alone = search(QUESTION, store=store, embedder=FakeEmbedder(), k=1)
    assert alone[0].source == "dogs.txt", "French words alone match the wrong English document"
    found = search(QUESTION, store=store, embedder=FakeEmbedder(), k=1, translations=ENGLISH[QUESTION])
    assert found[0].source == "bikes.txt"


def test_the_answer_stays_in_the_question_language_and_translation_is_asked_once(tmp_path):
    store = english_library(tmp_path)
    translator = FakeTranslator(ENGLISH)
    answer = ask(QUESTION, store=store, embedder=FakeEmbedder(), chat=FakeChatModel(), translator=translator)
    assert translator.calls == 1 and answer.language == "fr"
    assert answer.sources[0].source == "bikes.txt"


class JsonChat(FakeChatModel):
    """Replies to the translation prompt with a JSON object, as a capable model does."""

    def stream(self, messages, *, max_tokens, temperature=0.2, stop=None) -> Iterator[str]:
        self.calls.append(list(messages))
        yield 'Sure: {"en": "How much does the bicycle ticket cost?", "fr": "ignored", "de": "Was kostet das '
        yield 'Fahrradticket?"}'


def test_chat_translator_asks_once_per_question_and_keeps_only_other_languages():
    chat = JsonChat()
    translator = ChatTranslator(chat)
    first = translator.translate(QUESTION, source="fr")
    again = translator.translate(QUESTION, source="fr")
    assert first == again == {"en": "How much does the bicycle ticket cost?", "de": "Was kostet das Fahrradticket?"}
    assert len(chat.calls) == 1
    assert QUESTION in chat.calls[0][-1]["content"] and "Do not answer" in chat.calls[0][0]["content"]


def test_the_stand_in_is_never_asked_to_translate_a_capable_model_is_when_asked(tmp_path):
    folio = build(Settings.for_tests(tmp_path / "home", translate_questions=True), llm=True)
    try:
        assert folio.chat.info["stand_in"] and _translator(folio, folio.chat.current) is None
    finally:
        folio.close()
    capable = build(Settings.for_tests(tmp_path / "home2", translate_questions=True), llm=False, chat=JsonChat())
    capable.chat.info["stand_in"] = False  # as for Mixtral or a remote engine
    assert isinstance(_translator(capable, capable.chat.current), ChatTranslator)
    off = build(Settings.for_tests(tmp_path / "home3"), llm=False, chat=JsonChat())
    off.chat.info["stand_in"] = False
    assert _translator(off, off.chat.current) is None, "off unless FOLIO_TRANSLATE_QUESTIONS=1"
    capable.close()
    off.close()
