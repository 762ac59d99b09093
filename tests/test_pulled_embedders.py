"""Going further than the bundled embedders: multilingual-e5-large, -base and bge-m3 are registered with their
dimensions and prefixes, `folio models pull` fetches them as a folder, and naming one in the settings either
loads it or says in one sentence how to pull it. (The tests never reach the hub: a real sentence-transformers
folder, the bundled MiniLM, stands where the pulled one would be.)"""

from __future__ import annotations

import json
import shutil

import pytest

from app.cli import main
from app.factory import build
from app.settings import Settings
from core.errors import FolioError
from inference.download import HubUnreachableError, pull
from inference.registry import embedder_dir, get
from rag.embedding import minilm_dir


def test_stronger_embedders_are_registered_with_dimensions_and_prefixes(capsys):
    assert main(["models", "list", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert {"multilingual-e5-small", "multilingual-e5-large", "bge-m3"} <= set(listed)
    large, bge = get("multilingual-e5-large"), get("bge-m3")
    assert (large.dim, large.query_prefix, large.passage_prefix) == (1024, "query: ", "passage: ")
    assert (bge.dim, bge.query_prefix) == (1024, "") and bge.downloadable and large.repo == "intfloat/multilingual-e5-large"


def test_naming_an_embedder_not_pulled_says_how_to_pull_it(tmp_path):
    with pytest.raises(FolioError, match="folio models pull multilingual-e5-large"):
        build(Settings.for_tests(tmp_path / "home", second_embedder="multilingual-e5-large"), llm=False)


def test_pull_offline_is_one_sentence_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError, match="bge-m3"):
        pull(get("bge-m3"), tmp_path / "models")


def test_a_pulled_embedder_folder_is_loaded_with_its_prefixes(tmp_path):
    settings = Settings.for_tests(tmp_path / "home", second_embedder="multilingual-e5-large")
    shutil.copytree(minilm_dir(), embedder_dir(get("multilingual-e5-large"), settings.models_dir))
    assert pull(get("multilingual-e5-large"), settings.models_dir) == embedder_dir(get("multilingual-e5-large"),
                                                                                   settings.models_dir)
    folio = build(settings, llm=False)
    try:
        second = folio.second_embedder
        assert second.name == "multilingual-e5-large" and second.query_prefix == "query: "
        assert second.embed_passages(["Brake pads are replaced every 40,000 km."]).shape == (1, second.dim)
    finally:
        folio.close()
