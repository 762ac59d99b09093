"""Folio as an MCP server, driven by the official ``mcp`` client.

- ``folio mcp`` started as a subprocess over stdio (as a desktop assistant starts it), with the real
  embedder, real Chroma and the bundled GGUF: ingest under an allowed folder, then each tool and the
  page resources; a second, read-only start offers no ``ingest``;
- the same server in this process over fakes (fast): the one-sentence errors, paths outside the
  allowed folders, links out of them, and resources listed page by page.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from app.settings import Settings
from tests.docs_factory import make_pdf

REPO = Path(__file__).resolve().parent.parent
HANDBOOK = "Valmont Rail staff handbook. Chapter 1 describes uniforms, lockers and the canteen menu."
DEPOTS = "The Lausanne depot opens at 05:30 and closes at 23:00. The Geneva depot opens at 06:00."
TICKETS = "# Tickets\n\nA day pass costs 12 francs. Children under six travel free with an adult.\n"


def _stdio(home: Path, *args: str, allowed: Path | None = None):
    from mcp import StdioServerParameters

    env = {"FOLIO_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "FOLIO_N_CTX": "2048",
           "FOLIO_ANSWER_TOKENS": "48", "FOLIO_TEMPERATURE": "0"}
    if allowed is not None:
        env["FOLIO_ALLOW_INGEST_FROM"] = str(allowed)
    return StdioServerParameters(command=sys.executable, args=["-m", "app.cli", "mcp", *args], env=env, cwd=str(REPO))


def _text(result) -> str:
    return result.content[0].text


@pytest.mark.slow
def test_folio_mcp_over_stdio_answers_every_tool_from_a_real_index(tmp_path, folio_home):
    from mcp import Client

    allowed = tmp_path / "allowed"
    allowed.mkdir()
    make_pdf(allowed / "depots.pdf", [HANDBOOK, DEPOTS])
    (allowed / "tickets.md").write_text(TICKETS, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("The safe code is 4711.", encoding="utf-8")

    async def session() -> None:
        async with Client(_stdio(folio_home, "--allow-ingest", allowed=allowed)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {"search", "ask", "list_documents", "get_page", "ingest"}

            result = await client.call_tool("ingest", {"paths": [str(allowed), str(tmp_path / "secret.txt")]})
            assert not result.is_error, _text(result)
            by_name = {r["name"]: r for r in result.structured_content["results"]}
            assert by_name["depots.pdf"]["status"] == "added" and by_name["depots.pdf"]["pages"] == 2
            assert by_name["tickets.md"]["status"] == "added"
            assert by_name["secret.txt"]["status"] == "failed"
            assert "outside the folders Folio may ingest from" in by_name["secret.txt"]["reason"]

            found = (await client.call_tool("search", {"query": "When does the Lausanne depot open?", "k": 3}))
            top = found.structured_content["passages"][0]
            assert (top["source"], top["page"], top["cite_as"]) == ("depots.pdf", 2, "depots.pdf, p. 2")
            assert "05:30" in top["text"] and top["score"] > 0 and top["uri"].startswith("folio://default/")
            assert "depots.pdf, p. 2" in _text(found)  # the text content carries file and page too

            only = await client.call_tool("search", {"query": "depot", "documents": ["tickets.md"]})
            assert {p["source"] for p in only.structured_content["passages"]} == {"tickets.md"}

            docs = (await client.call_tool("list_documents", {"match": "DEPOT"})).structured_content
            assert [(d["name"], d["pages"]) for d in docs["documents"]] == [("depots.pdf", 2)] and docs["total"] == 1

            page = (await client.call_tool("get_page", {"document": "depots.pdf", "page": 2})).structured_content
            assert "Lausanne depot opens at 05:30" in page["text"] and page["cite_as"] == "depots.pdf, p. 2"

            answer = await client.call_tool("ask", {"question": "When does the Lausanne depot open?"})
            assert not answer.is_error, _text(answer)
            out = answer.structured_content
            assert out["answer"] and out["language"] == "en" and out["model"].startswith("SmolLM2")
            assert out["sources"] and all({"source", "page", "cite_as", "uri", "cited"} <= set(s) for s in out["sources"])
            assert ("depots.pdf", 2) in {(s["source"], s["page"]) for s in out["sources"]}
            assert {"cited", "supported_ratio", "sentences"} <= set(out["citations"])

            resources = (await client.list_resources()).resources
            assert sorted(r.name for r in resources) == ["depots.pdf p. 1", "depots.pdf p. 2", "tickets.md p. 1"]
            second = next(r for r in resources if r.name == "depots.pdf p. 2")
            read = await client.read_resource(second.uri)
            assert "Lausanne depot opens at 05:30" in read.contents[0].text

            wrong = await client.call_tool("get_page", {"document": "depots.pdf", "page": 9})
            assert wrong.is_error and _text(wrong) == "depots.pdf has no page 9; ask for a page from 1 to 2."

        async with Client(_stdio(folio_home)) as client:  # read-only by default, and sees the same library
            assert "ingest" not in {tool.name for tool in (await client.list_tools()).tools}
            docs = (await client.call_tool("list_documents", {})).structured_content["documents"]
            assert sorted(d["name"] for d in docs) == ["depots.pdf", "tickets.md"]

    anyio.run(session)


def test_allow_ingest_without_folders_is_refused_before_starting(folio_home):
    import subprocess

    result = subprocess.run([sys.executable, "-m", "app.cli", "mcp", "--allow-ingest"], capture_output=True,
                            text=True, cwd=REPO, env={**os.environ, "FOLIO_HOME": str(folio_home)}, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert result.stderr.strip() == ("--allow-ingest needs the folders it may read: set FOLIO_ALLOW_INGEST_FROM to "
                                     f"them (separated by '{os.pathsep}'), or allow_ingest_from in folio.toml.")


# -- in this process, over fakes -----------------------------------------------------------------------
@pytest.fixture
def library(tmp_path):
    from app import service
    from app.factory import build
    from core.chat import FakeChatModel

    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "depots.txt").write_text(DEPOTS, encoding="utf-8")
    make_pdf(allowed / "handbook.pdf", [HANDBOOK, "Lockers are on the second floor.", "The canteen opens at noon."])
    folio = build(Settings.for_tests(tmp_path / "home", embedder="fake-hash-64"), chat=FakeChatModel())
    list(service.ingest_paths(folio, [allowed]))
    try:
        yield folio, allowed
    finally:
        folio.close()


def _call(server, calls):
    from mcp import Client

    async def run():
        async with Client(server) as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]
    return anyio.run(run)


def test_bad_arguments_get_one_sentence_naming_them(library):
    from app.mcp_server import build_server

    folio, _ = library
    results = _call(build_server(folio), [
        ("search", {"k": 3}),
        ("search", {"query": "depot", "k": "many"}),
        ("search", {"query": "depot", "k": 500}),
        ("search", {"query": "depot", "documents": ["nothing.pdf"]}),
        ("ask", {"question": "When?", "language": "pt"}),
        ("list_documents", {"collection": "elsewhere"}),
        ("get_page", {"document": "missing.pdf", "page": 1}),
        ("ingest", {"paths": ["/etc"]}),
    ])
    texts = [_text(r) for r in results]
    assert all(r.is_error for r in results)
    assert texts[:7] == [
        "search: the argument 'query' is required.",
        "search: the argument 'k' is wrong (input should be a valid integer, unable to parse string as an integer).",
        "search: k must be between 1 and 50, not 500.",
        "No document 'nothing.pdf' in collection 'default'; 'folio docs' lists them.",
        "ask: the language must be auto or one of en, fr, de, es, it, not 'pt'.",
        "There is no collection 'elsewhere'; the collections are: default.",
        "No document 'missing.pdf' in collection 'default'; list_documents lists them.",
    ]
    assert results[7].is_error and texts[7] == "Unknown tool: ingest"  # read-only: there is no ingest tool
    assert not any("Error executing tool" in text or "Traceback" in text for text in texts)


def test_ingest_reads_only_under_the_allowed_folders(library, tmp_path):
    from app.mcp_server import build_server

    folio, allowed = library
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The safe code is 4711.", encoding="utf-8")
    (allowed / "link.txt").symlink_to(outside / "secret.txt")       # a link out of the folder
    (allowed / "new.txt").write_text("Trains are washed every night.", encoding="utf-8")
    server = build_server(folio, allow_ingest=True, ingest_from=[allowed])
    [result, relative, missing] = _call(server, [("ingest", {"paths": [str(allowed), str(outside / "secret.txt")]}),
                                                 ("ingest", {"paths": ["allowed/new.txt"]}),
                                                 ("ingest", {"paths": [str(allowed / "gone.txt")]})])
    by_name = {r["name"]: r for r in result.structured_content["results"]}
    assert by_name["new.txt"]["status"] == "added" and by_name["depots.txt"]["status"] == "unchanged"
    assert by_name["link.txt"]["reason"] == "it links to a file outside the folders Folio may ingest from"
    assert by_name["secret.txt"]["reason"].startswith("it is outside the folders Folio may ingest from")
    assert "4711" not in str([c.text for c in folio.store().chunks()])
    assert relative.structured_content["results"][0]["reason"].startswith("give its full path")
    assert missing.structured_content["results"][0]["reason"] == "no such file or folder"


def test_every_page_is_a_resource_listed_page_by_page(library, monkeypatch):
    import app.mcp_server
    from mcp import Client

    folio, _ = library
    monkeypatch.setattr(app.mcp_server, "RESOURCES_PAGE", 2)
    server = app.mcp_server.build_server(folio)

    async def run():
        async with Client(server) as client:
            seen, cursor = [], None
            while True:
                page = await client.list_resources(cursor=cursor)
                seen.append([r.name for r in page.resources])
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            handbook_2 = app.mcp_server.page_uri("default", folio.store().find("handbook.pdf").doc_id, 2)
            text = (await client.read_resource(handbook_2)).contents[0].text
            from mcp.shared.exceptions import MCPError

            with pytest.raises(MCPError, match="handbook.pdf has no page 7"):
                await client.read_resource(handbook_2[:-1] + "7")
            return seen, text

    seen, text = anyio.run(run)
    assert seen == [["depots.txt p. 1", "handbook.pdf p. 1"], ["handbook.pdf p. 2", "handbook.pdf p. 3"]]
    assert text == "Lockers are on the second floor."
