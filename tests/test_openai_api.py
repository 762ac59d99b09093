"""The OpenAI-compatible endpoint and the APIs ``folio serve`` mounts beside the page, over real HTTP.

- ``served``: the real ``folio serve --openai --mcp --open`` on loopback (real embedder, Chroma, the
  bundled GGUF; the documents are its sample folder, indexed at start), driven by the official
  ``openai`` client: models, a streamed answer with its sources, a follow-up, concurrent requests,
  a client that hangs up; MCP over HTTP on the same port; ``--open`` opening the page;
- the page and APIs served from this process over fakes: the bearer token beyond loopback, none
  needed on loopback, the request guard still in front;
- the pure parts: models, the conversation, the Sources block.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from core.errors import FolioError
from tests.docs_factory import make_pdf
from tests.servers import free_port
from tests.ui_helpers import folio_server

HANDBOOK = "Valmont Rail staff handbook. Chapter 1 describes uniforms, lockers and the canteen menu."
DEPOTS = ("The Lausanne depot opens at 05:30 and closes at 23:00. The Geneva depot opens at 06:00 and closes "
          "at 22:30.")
TICKETS = "# Tickets\n\nA day pass costs 12 francs. Children under six travel free with an adult.\n"
QUESTION = "When does the Lausanne depot open?"


# -- the real server ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``folio serve --openai --mcp --open`` on loopback: (url, the file the stand-in browser writes)."""
    tmp = tmp_path_factory.mktemp("openai")
    samples = tmp / "samples"
    samples.mkdir()
    make_pdf(samples / "depots.pdf", [HANDBOOK, DEPOTS])
    (samples / "tickets.md").write_text(TICKETS, encoding="utf-8")
    opened = tmp / "opened.txt"
    browser = tmp / "browser.sh"  # what $BROWSER names is what webbrowser.open runs, with the URL
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    env = {"FOLIO_HOME": str(tmp / "home"), "FOLIO_SAMPLE_DOCS": str(samples), "FOLIO_N_CTX": "2048",
           "FOLIO_ANSWER_TOKENS": "40", "FOLIO_TEMPERATURE": "0", "FOLIO_OPENAI_API": "1", "FOLIO_MCP": "1",
           "BROWSER": str(browser)}
    with folio_server(tmp, env=env, args=["--open"]) as (url, log):
        yield url.rstrip("/"), opened, log


def _client(url: str, *, api_key: str = "no-token-on-loopback"):
    import openai

    return openai.OpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0, timeout=300)


@pytest.mark.slow
def test_the_openai_client_streams_an_answer_with_its_sources(served):
    url, _, log = served
    client = _client(url)
    assert [m.id for m in client.models.list()] == ["folio", "folio/default"]
    stream = client.chat.completions.create(model="folio", messages=[{"role": "user", "content": QUESTION}],
                                            stream=True, stream_options={"include_usage": True})
    pieces, extra, usage = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
        extra = (chunk.model_extra or {}).get("folio") or extra
    text = "".join(pieces)
    answer, _, block = text.partition("\n\nSources:\n")
    assert len(pieces) >= 3, f"not streamed: {pieces}"
    assert answer.strip() and block, text
    assert extra["language"] == "en" and extra["model"].startswith("SmolLM2")
    places = {(s["source"], s["page"]) for s in extra["sources"]}
    assert ("depots.pdf", 2) in places
    assert all(f"{s['source']}, p. {s['page']}" in block for s in extra["sources"] if s["cited"])
    listed = block.splitlines()  # the cited sources, or all of them when the answer cites none
    assert listed and all(re.fullmatch(r"\[\d+\] .+, p\. \d+ — “.+”", line) for line in listed), block
    assert {"cited", "supported_ratio", "sentences"} <= set(extra["citations"])
    assert usage.prompt_tokens > 100 and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.slow
def test_a_follow_up_is_answered_from_the_whole_conversation(served):
    url, _, _ = served
    client = _client(url)
    first = client.chat.completions.create(model="folio/default", messages=[{"role": "user", "content": QUESTION}])
    previous = first.choices[0].message.content
    assert "\n\nSources:\n" in previous and first.choices[0].finish_reason == "stop"
    follow = client.chat.completions.create(model="folio", messages=[
        {"role": "system", "content": "Ignored: Folio's own rules decide."},
        {"role": "user", "content": QUESTION}, {"role": "assistant", "content": previous},
        {"role": "user", "content": "And the Geneva one?"}])
    extra = follow.model_extra["folio"]
    assert extra["standalone_question"], "the follow-up was not rewritten from the history"
    assert follow.choices[0].message.content.strip() and extra["sources"]


@pytest.mark.slow
def test_concurrent_requests_queue_and_a_client_that_hangs_up_frees_the_model(served):
    url, _, log = served
    client = _client(url)
    # A client that goes away after two chunks: its answer stops, and the model is free for the others.
    with client.chat.completions.create(model="folio", stream=True,
                                        messages=[{"role": "user", "content": "Describe the day pass."}]) as stream:
        for _, _ in zip(range(2), stream):
            pass
    results: list = []
    errors: list = []

    def ask(question: str) -> None:
        try:
            results.append(client.chat.completions.create(model="folio",
                                                          messages=[{"role": "user", "content": question}]))
        except Exception as error:  # collected: the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(q,)) for q in (QUESTION, "How much does a day pass cost?")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert errors == [] and len(results) == 2
    assert all(r.choices[0].message.content.strip() for r in results)
    output = log.read_text(errors="replace")
    assert "Traceback" not in output and "Exception" not in output, output[-3000:]


def test_bad_requests_get_openai_style_errors(served):
    url, _, _ = served
    with httpx.Client(base_url=url, timeout=60) as http:
        missing = http.post("/v1/chat/completions", json={"model": "folio/manuals",
                                                          "messages": [{"role": "user", "content": "Hi?"}]})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
        assert "folio, folio/default" in missing.json()["error"]["message"]
        for body, param in (({"model": "folio"}, "messages"),
                            ({"model": "folio", "messages": [{"role": "assistant", "content": "Hi"}]}, "messages"),
                            ({"messages": [{"role": "user", "content": "Hi?"}]}, "model"),
                            ({"model": "folio", "messages": [{"role": "user", "content": "Hi?"}],
                              "folio": {"language": "pt"}}, "folio.language")):
            response = http.post("/v1/chat/completions", json=body)
            assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text
        broken = http.post("/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error"]["message"] == "The request body is not valid JSON."


def test_mcp_over_http_on_the_same_port(served):
    import anyio
    from mcp import Client

    url, _, _ = served

    async def search() -> dict:
        async with Client(f"{url}/mcp") as client:
            return (await client.call_tool("search", {"query": QUESTION, "k": 2})).structured_content

    found = anyio.run(search)
    assert found["passages"][0]["cite_as"] == "depots.pdf, p. 2"


def test_open_opens_the_app_in_the_browser_once_it_answers(served):
    url, opened, _ = served
    assert opened.read_text(encoding="utf-8").split() == [f"{url}/"]
    assert httpx.get(f"{url}/", timeout=30).status_code == 200


# -- in this process, over fakes -------------------------------------------------------------------------
@contextmanager
def apis_served(tmp_path: Path, *, host: str = "127.0.0.1", token: str = ""):
    """The page with both APIs over a fake chat model and embedder, bound to ``host``: (url, folio)."""
    from app import service
    from app.factory import build
    from app.ui import build_ui
    from app.web import launch_options
    from core.chat import FakeChatModel

    (tmp_path / "depots.txt").write_text(DEPOTS, encoding="utf-8")
    settings = Settings.for_tests(tmp_path / "home", embedder="fake-hash-64", host=host, openai_api=True, mcp=True,
                                  api_token=token)
    folio = build(settings, chat=FakeChatModel())
    list(service.ingest_paths(folio, [tmp_path / "depots.txt"]))
    demo = build_ui(folio)
    port = free_port()
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options(settings, folio=folio))
    try:
        yield f"http://127.0.0.1:{port}", folio
    finally:
        demo.close()
        folio.close()


def test_beyond_loopback_every_api_request_needs_the_token(tmp_path):
    import openai

    with apis_served(tmp_path, host="0.0.0.0", token="s3cret-token") as (url, _):
        with httpx.Client(base_url=url, timeout=30) as http:
            chat = {"model": "folio", "messages": [{"role": "user", "content": QUESTION}]}
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"}):
                assert http.get("/v1/models", headers=headers).status_code == 401
                refused = http.post("/v1/chat/completions", json=chat, headers=headers)
                assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
                assert refused.json()["error"]["code"] == "invalid_api_key"
                assert http.post("/mcp", json={}, headers=headers).status_code == 401
            assert http.get("/").status_code == 200  # the page has its own login (--auth), not the API token
        with pytest.raises(openai.AuthenticationError):
            _client(url).models.list()
        answer = _client(url, api_key="s3cret-token").chat.completions.create(**chat)
        assert answer.choices[0].message.content.startswith("The Lausanne depot opens at 05:30")
        assert answer.model_extra["folio"]["sources"][0]["cite_as"] == "depots.txt, p. 1"


def test_on_loopback_no_token_is_needed_and_the_request_guard_still_stands(tmp_path):
    with apis_served(tmp_path) as (url, _):
        with httpx.Client(base_url=url, timeout=30) as http:
            assert [m["id"] for m in http.get("/v1/models").json()["data"]] == ["folio", "folio/default"]
            chat = {"model": "folio", "messages": [{"role": "user", "content": QUESTION}]}
            assert http.post("/v1/chat/completions", json=chat).status_code == 200
            cross = http.post("/v1/chat/completions", json=chat, headers={"Origin": "http://evil.example"})
            assert cross.status_code == 403  # a web page elsewhere cannot make the browser ask Folio
            port = url.rsplit(":", 1)[1]
            assert http.get("/v1/models", headers={"Host": f"attacker.example:{port}"}).status_code == 403


def test_serve_refuses_an_api_beyond_loopback_without_a_token_before_building(tmp_path, monkeypatch):
    import app.factory
    from app.web import serve

    monkeypatch.setattr(app.factory, "build", lambda *a, **k: pytest.fail("serve built models before the checks"))
    public = Settings.for_tests(tmp_path, host="0.0.0.0", auth="ana:secret", openai_api=True)
    with pytest.raises(FolioError, match="Refusing to serve the OpenAI-compatible API on 0.0.0.0 without a token"):
        serve(public)
    with pytest.raises(FolioError, match="the OpenAI-compatible API and the MCP server on 0.0.0.0.*FOLIO_API_TOKEN"):
        serve(public.with_(mcp=True))
    with pytest.raises(FolioError, match="--allow-ingest adds the ingest tool of the MCP server; add --mcp"):
        serve(Settings.for_tests(tmp_path), allow_ingest=True)


# -- the pure parts --------------------------------------------------------------------------------------
def test_the_conversation_and_the_model_are_checked():
    from app.openai_api import ApiError, collection_of, conversation

    assert collection_of("folio", ["default"], default="default") == "default"
    with pytest.raises(ApiError, match="does not exist"):
        collection_of("gpt-4o", ["default"], default="default")
    with pytest.raises(ApiError, match="does not exist"):
        collection_of("folio/other", ["default"], default="default")
    for messages in ([], "hello", [{"role": "user", "content": "  "}], [{"role": "wizard", "content": "Hi"}],
                     [{"role": "user", "content": 42}]):
        with pytest.raises(ApiError):
            conversation(messages)
    question, history = conversation([{"role": "user", "content": "A?"}, {"role": "assistant", "content": ""},
                                      {"role": "user", "content": " B? "}])
    assert (question, history) == ("B?", [{"role": "user", "content": "A?"}])


def test_the_sources_block_lists_the_cited_sources_with_their_quote():
    from app.openai_api import folio_field, sources_block
    from rag.answering import Answer, Stats
    from rag.citations import verify
    from rag.documents import Source

    sources = [Source(n=1, source="depots.pdf", page=2, text=DEPOTS, score=0.8, doc_id="d-1"),
               Source(n=2, source="tickets.md", page=1, text=TICKETS, score=0.4, doc_id="d-2")]
    text = "The Lausanne depot opens at 05:30 [1]."
    answer = Answer(question=QUESTION, text=text, language="en", answer_language="en", sources=tuple(sources),
                    citations=verify(text, sources), stats=Stats(300, 9, 0.2, 10.0, 1.0), meter={}, model="m")
    assert sources_block(answer) == ("\n\nSources:\n[1] depots.pdf, p. 2 — “The Lausanne depot opens at 05:30 "
                                     "and closes at 23:00.”")
    field = folio_field(answer, "default")
    assert [(s["cite_as"], s["cited"]) for s in field["sources"]] == [("depots.pdf, p. 2", True),
                                                                      ("tickets.md, p. 1", False)]
