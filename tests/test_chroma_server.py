"""The same ingest and search tests, against a real Chroma server (``chroma run``) on 127.0.0.1.

Folio reaches it through ``FOLIO_CHROMA_URL`` (``chromadb.HttpClient``); nothing in ``rag`` changes.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from rag.index.manifest import Manifest
from rag.index.store import Store
from tests.servers import free_port, running
from tests.test_ingest import (  # noqa: F401 - collected here, run against the server
    test_add_then_unchanged_then_replaced_then_removed, test_every_bad_file_leaves_index_and_manifest_exactly_as_before,
    test_other_files_of_the_run_still_go_in, test_remove_by_id_and_unknown_document)
from tests.test_retrieval import (  # noqa: F401
    test_a_french_question_finds_an_english_passage, test_questions_find_the_right_page_in_their_own_language)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma")
    with running([str(chroma), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
                 port=port, log=folder / "server.log", name="chroma run"):
        yield f"http://127.0.0.1:{port}"


def server_store(url: str, manifest_path: Path, embedder, *, collection: str | None = None) -> Store:
    from app.factory import open_index_client
    from app.settings import Settings

    client = open_index_client(Settings(chroma_url=url, chroma_token="test-token"))
    return Store(client=client, manifest=Manifest(manifest_path), collection=collection or f"t{uuid.uuid4().hex[:12]}",
                 embedder=embedder.name, dim=embedder.dim)


@pytest.fixture
def store(chroma_url, tmp_path, embedder):
    """A fresh 'default' collection on the server for each test, dropped afterwards."""
    store = server_store(chroma_url, tmp_path / "manifest.sqlite3", embedder, collection="default")
    yield store
    store.drop()


@pytest.fixture(scope="module")
def sample_store(chroma_url, tmp_path_factory, embedder):
    from rag.ingest import ingest
    from tests.conftest import SAMPLE_DOCS

    store = server_store(chroma_url, tmp_path_factory.mktemp("m") / "manifest.sqlite3", embedder)
    assert {r.status for r in ingest([SAMPLE_DOCS], store=store, embedder=embedder)} == {"added", "skipped"}
    return store


def test_the_cli_uses_the_server_when_folio_chroma_url_is_set(chroma_url, tmp_path, monkeypatch, capsys):
    import json

    from app.cli import main

    monkeypatch.setenv("FOLIO_CHROMA_URL", chroma_url)
    (tmp_path / "a.txt").write_text("The Oberfeld depot washes trains on Tuesdays.")
    assert main(["ingest", str(tmp_path / "a.txt"), "--collection", "cli", "--json"]) == 0
    capsys.readouterr()
    assert main(["search", "When are trains washed?", "--collection", "cli", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["passages"][0]["source"] == "a.txt"
    assert not (tmp_path / "folio-home" / "index").exists(), "nothing written to the local index"


def test_an_unreachable_server_is_one_sentence(monkeypatch, capsys):
    from app.cli import main

    monkeypatch.setenv("FOLIO_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["docs"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("The Chroma server at http://127.0.0.1:") and err.endswith("start it or unset FOLIO_CHROMA_URL.")
