"""One contract, every :class:`core.chat.ChatModel`: the fake, llama.cpp in-process (the bundled GGUF) and the
OpenAI-compatible backend against llama-cpp-python's real server on loopback. What ``rag`` relies on: an
answer streams in pieces, Stop ends it at once and the model answers again, prompt tokens are counted
(more text, more tokens), and the window is reported."""

from __future__ import annotations

import threading

import pytest

from core.chat import ChatModel, FakeChatModel

BACKENDS = ["fake", "llama.cpp", "openai-compatible"]
SOURCES = [{"role": "system", "content": "Answer only from the sources.\n\n"
                                         "<source n=\"1\">Depots open at six. Each depot has two cranes.</source>"},
           {"role": "user", "content": "When do depots open?"}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who guards a library."}]


@pytest.fixture(params=BACKENDS)
def chat(request) -> ChatModel:
    if request.param == "fake":
        yield FakeChatModel(n_ctx=2048)
    elif request.param == "llama.cpp":
        yield request.getfixturevalue("chat_model")  # the session's LlamaCppChatModel
    else:
        from inference.remote import OpenAIChatModel

        model = OpenAIChatModel(request.getfixturevalue("llama_server"), n_ctx=2048)
        yield model
        model.close()


def test_an_answer_streams_in_pieces(chat):
    pieces = list(chat.stream(SOURCES, max_tokens=24, temperature=0))
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    assert "depot" in "".join(pieces).lower()


def test_stop_ends_the_answer_at_once_and_the_next_one_works(chat):
    stop, pieces = threading.Event(), []
    for piece in chat.stream(STORY if not isinstance(chat, FakeChatModel) else SOURCES, max_tokens=200,
                             temperature=0, stop=stop):
        pieces.append(piece)
        if len(pieces) == 3:
            stop.set()
    assert len(pieces) == 3
    assert "depot" in "".join(chat.stream(SOURCES, max_tokens=16, temperature=0)).lower()


def test_prompt_tokens_are_counted_and_grow_with_the_text(chat):
    short = chat.count_tokens(SOURCES)
    longer = chat.count_tokens([SOURCES[0], {"role": "user", "content": "When do depots open on Sundays and holidays?"}])
    assert 0 < short < longer < chat.n_ctx


def test_the_window_and_name_are_reported(chat):
    assert chat.n_ctx == 2048 and isinstance(chat.name, str) and chat.name
