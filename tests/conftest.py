"""Shared fixtures: an isolated FOLIO_HOME for every test, and the real models, loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = REPO / "sample_docs"


@pytest.fixture(autouse=True)
def folio_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own FOLIO_HOME; nothing a test does reaches the user's data."""
    home = tmp_path / "folio-home"
    monkeypatch.setenv("FOLIO_HOME", str(home))
    for key in list(os.environ):
        if key.startswith("FOLIO_") and key != "FOLIO_HOME":
            monkeypatch.delenv(key)
    # Folio's default second pass (multilingual-e5-small, ~12 chunks/s) would make every `folio ingest` a test
    # wait for it; the tests of that pass name it (tests/test_embedding_e5.py), the rest run without one.
    monkeypatch.setenv("FOLIO_SECOND_EMBEDDER", "")
    return home


@pytest.fixture(scope="session")
def embedder():
    """The default embedder, real, loaded once for the whole run."""
    from app.settings import Settings
    from rag.embedding import build_embedder

    return build_embedder(Settings().embedder)


@pytest.fixture(scope="session")
def chat_model():
    """The real bundled GGUF through llama.cpp, loaded once (calls are serialised inside)."""
    from inference.llama import LlamaCppChatModel
    from inference.registry import bundled_llm_path

    model = LlamaCppChatModel(bundled_llm_path(), n_ctx=2048)
    yield model
    model.close()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server with the bundled GGUF, on loopback, started once."""
    from tests.servers import llama_cpp_server

    with llama_cpp_server(tmp_path_factory.mktemp("llama-server") / "server.log") as url:
        yield url


@pytest.fixture
def store(tmp_path, embedder):
    from rag.index.manifest import Manifest
    from rag.index.client import open_client
    from rag.index.store import Store

    return Store(client=open_client(tmp_path / "index"), manifest=Manifest(tmp_path / "manifest.sqlite3"),
                 collection="default", embedder=embedder.name, dim=embedder.dim)
