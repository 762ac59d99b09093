"""The OpenAI-compatible backend: against a real llama-cpp-python server on loopback serving the bundled
GGUF, and, for the servers this machine cannot run (vLLM, llama.cpp's server), their documented
endpoints played by ``httpx.MockTransport``."""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest

from inference.registry import bundled_llm_path
from inference.remote import MESSAGE_MARGIN, TEMPLATE_MARGIN, OpenAIChatModel
from core.errors import ModelError
from tests.servers import free_port

STORY = [{"role": "user", "content": "Write a long story about a dragon who guards a library."}]
SOURCES = [{"role": "system", "content": "Answer only from the sources.\n\n<source n=\"1\">Depots open at six.</source>"},
           {"role": "user", "content": "When do depots open?"}]


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and len(re.split(r"(?<=[.!?])\s", message)) == 1


@pytest.fixture(scope="module")
def server(llama_server):
    return llama_server


@pytest.fixture(scope="module")
def remote(server):
    model = OpenAIChatModel(server, n_ctx=2048)
    yield model
    model.close()


def test_name_window_and_streamed_answer(remote):
    assert remote.name == bundled_llm_path().stem and remote.n_ctx == 2048
    pieces = list(remote.stream(SOURCES, max_tokens=24, temperature=0))
    assert len(pieces) > 1 and "depot" in "".join(pieces).lower()


@pytest.mark.parametrize("messages", [STORY, SOURCES], ids=["user-only", "system-and-user"])
def test_count_tokens_never_falls_short_of_the_servers_count(server, remote, messages):
    body = {"messages": messages, "max_tokens": 1, "temperature": 0}
    real = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=60).json()["usage"]["prompt_tokens"]
    counted = remote.count_tokens(messages)
    assert remote.token_counting == "plain"  # llama-cpp-python: /extras/tokenize, no template endpoint
    assert real <= counted <= real + MESSAGE_MARGIN * len(messages) + TEMPLATE_MARGIN


def test_two_concurrent_requests_are_both_answered(remote):
    """The server queues the second request (it would cut the first short with interrupt_requests on)."""
    pieces: list[list[str]] = [[], []]

    def ask(i: int, messages) -> None:
        pieces[i].extend(remote.stream(messages, max_tokens=24, temperature=0))

    threads = [threading.Thread(target=ask, args=(i, m)) for i, m in enumerate([STORY, SOURCES])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    story, depots = ("".join(p).lower() for p in pieces)
    assert len(pieces[0]) >= 20 and "dragon" in story, "the story ran to its token limit"
    assert "depot" in depots


def test_an_unreachable_server_is_one_sentence_naming_it_and_the_fix():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelError) as caught:
        OpenAIChatModel(url, n_ctx=2048)
    message = str(caught.value)
    assert one_sentence(message) and url in message and "FOLIO_LLM_URL" in message
    assert "Traceback" not in message and caught.value.__cause__ is None


# -- other servers' endpoints, played by a mock transport ---------------------------------------------
def fake_server(routes: dict[str, object], seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """``routes`` maps "METHOD /path" to a JSON body, or to a callable of the request giving a Response."""
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        route = routes.get(f"{request.method} {request.url.path}")
        if route is None:
            return httpx.Response(404, json={"detail": "Not Found"})
        return route(request) if callable(route) else httpx.Response(200, json=route)
    return httpx.MockTransport(handle)


def sse(*texts: str) -> httpx.Response:
    events = [f"data: {json.dumps({'choices': [{'delta': {'content': t}}]})}\n\n" for t in texts]
    return httpx.Response(200, content="".join(events) + "data: [DONE]\n\n", headers={"content-type": "text/event-stream"})


def test_vllm_window_exact_counts_and_bearer_token():
    seen: list[httpx.Request] = []
    routes = {"GET /v1/models": {"data": [{"id": "mistralai/Mixtral-8x7B-Instruct-v0.1", "max_model_len": 32768}]},
              "POST /tokenize": lambda r: httpx.Response(200, json={"count": 10 + len(json.loads(r.content)["messages"])}),
              "POST /v1/chat/completions": lambda r: sse("Depots", " open", " at six."),}
    model = OpenAIChatModel("http://gpu-box:8000/v1", n_ctx=65536, api_key="s3cret", transport=fake_server(routes, seen))
    assert (model.name, model.n_ctx) == ("mistralai/Mixtral-8x7B-Instruct-v0.1", 32768)
    assert model.count_tokens(SOURCES) == 12 and model.token_counting == "vllm"
    assert "".join(model.stream(SOURCES, max_tokens=8)) == "Depots open at six."
    assert json.loads(seen[-1].content)["model"] == "mistralai/Mixtral-8x7B-Instruct-v0.1"
    assert all(r.headers["authorization"] == "Bearer s3cret" for r in seen)


def test_llama_cpp_server_window_from_props_and_templated_counts():
    def tokenize(request):
        body = json.loads(request.content)
        return httpx.Response(200, json={"tokens": list(range(len(body.get("content", "").split())))})

    routes = {"GET /v1/models": {"data": [{"id": "mixtral.gguf"}]},
              "GET /props": {"default_generation_settings": {"n_ctx": 4096}},
              "POST /tokenize": tokenize,
              "POST /apply-template": lambda r: httpx.Response(200, json={"prompt": "[INST] a b c [/INST]"})}
    model = OpenAIChatModel("http://127.0.0.1:8080", n_ctx=8192, transport=fake_server(routes))
    assert (model.name, model.n_ctx) == ("mixtral", 4096)
    assert model.count_tokens(SOURCES) == 5 and model.token_counting == "llama.cpp"


def test_no_tokenizer_falls_back_to_the_conservative_estimate():
    model = OpenAIChatModel("http://127.0.0.1:8080", n_ctx=2048, transport=fake_server({"GET /v1/models": {"data": []}}))
    assert model.count_tokens(SOURCES) >= sum(len(m["content"]) for m in SOURCES) // 2
    assert model.token_counting == "estimate" and model.name == "127.0.0.1"


@pytest.mark.parametrize("status, fix", [(401, "FOLIO_LLM_API_KEY"), (500, "check its log")])
def test_http_errors_are_one_sentence(status, fix):
    routes = {"GET /v1/models": {"data": [{"id": "m"}]},
              "POST /v1/chat/completions": lambda r: httpx.Response(status, text="Nope. Really\nnot.")}
    model = OpenAIChatModel("http://127.0.0.1:8080", n_ctx=2048, transport=fake_server(routes))
    with pytest.raises(ModelError) as caught:
        list(model.stream(SOURCES, max_tokens=8))
    assert one_sentence(str(caught.value)) and fix in str(caught.value) and str(status) in str(caught.value)
