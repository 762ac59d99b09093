"""Switching the chat model while Folio runs: the local models listed, the swap, and what a failed load leaves.

The second "local model" is a link to the bundled SmolLM2 GGUF under another name in
``FOLIO_HOME/models``: a real model, loaded by llama.cpp, that is not the stand-in.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import gradio as gr
import pytest

from app import service
from app.factory import build
from app.settings import Settings
from inference.registry import BUNDLED, bundled_llm_path, local_llms
from rag.answering import Done, Token
from core.errors import FolioError

DEPOTS = "The Lausanne depot opens at 05:30 and closes at 23:00."


def _link(target: Path, link: Path) -> Path:
    """``link`` as a second name of ``target`` (a hard link, or a symlink across file systems)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(target, link)
    except OSError:
        link.symlink_to(target)
    return link


@pytest.fixture
def folio(folio_home):
    """Folio with the real bundled GGUF, a fast hashing embedder, one document, and ``my-model.gguf`` beside it."""
    folio = build(Settings.for_tests(folio_home, embedder="fake-hash-64", answer_tokens=16))
    _link(bundled_llm_path(), folio.settings.models_dir / "my-model.gguf")
    notes = folio_home / "depots.txt"
    notes.write_text(DEPOTS, encoding="utf-8")
    list(service.ingest_paths(folio, [notes]))
    try:
        yield folio
    finally:
        folio.close()


def _answer(folio):
    """One whole answer, checked not empty."""
    events = list(service.answer_events(folio, "When does the Lausanne depot open?"))
    answer = next(e for e in events if isinstance(e, Done)).answer
    assert answer.text.strip()
    return answer


def _watch_close(model) -> list[str]:
    closed: list[str] = []
    close = model.close
    model.close = lambda: (closed.append(model.name), close())
    return closed


def test_local_models_are_the_stand_in_downloaded_ones_and_other_gguf_files(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "Mixtral-8x7B-Instruct-v0.1-Q4_K_M.gguf").write_bytes(b"GGUF")  # a pulled registry model
    (models / "notes.txt").write_text("not a model")
    (models / "old").mkdir()
    (models / "old" / "nested.gguf").write_bytes(b"GGUF")                       # only the folder itself counts
    _link(bundled_llm_path(), models / "my-model.gguf")
    listed = local_llms(models)
    assert [(m.name, m.label, m.stand_in) for m in listed] == [
        (BUNDLED, "smollm2-135m-instruct:q4_1", True),
        ("mixtral-8x7b-instruct:q4_k_m", "mixtral-8x7b-instruct:q4_k_m", False),
        (str(models / "my-model.gguf"), "my-model.gguf", False)]
    assert listed[0].path == bundled_llm_path()
    assert [m.name for m in local_llms(tmp_path / "missing")] == [BUNDLED]


def test_switch_swaps_the_model_saves_the_choice_and_closes_the_old_one(folio):
    my_model = str(folio.settings.models_dir / "my-model.gguf")
    models, in_use = folio.chat.choices(folio.settings)
    assert in_use == BUNDLED and [m.name for m in models] == [BUNDLED, my_model]
    old = folio.chat.current
    closed = _watch_close(old)

    info = folio.switch_model(my_model)
    assert folio.chat.current is not old and closed == [old.name]
    assert info == folio.chat.info and info["name"] == "my-model" and info["stand_in"] is False
    assert "note" not in info and folio.chat.choices(folio.settings)[1] == my_model
    saved = tomllib.loads((folio.settings.home / "folio.toml").read_text(encoding="utf-8"))
    assert saved == {"model": my_model}
    assert Settings.load(env={"FOLIO_HOME": str(folio.settings.home)}).model == my_model  # the next start
    assert _answer(folio).model == "my-model"

    assert folio.switch_model(BUNDLED)["stand_in"] is True
    assert folio.chat.choices(folio.settings)[1] == BUNDLED and "stands in for Mixtral" in folio.chat.info["note"]
    same = folio.chat.current
    folio.switch_model(BUNDLED)  # the model in use: nothing is loaded again
    assert folio.chat.current is same and tomllib.loads((folio.settings.home / "folio.toml").read_text())["model"] == BUNDLED


def test_an_answer_in_progress_finishes_on_the_model_it_started_with(folio):
    old = folio.chat.current
    closed = _watch_close(old)
    events = service.answer_events(folio, "When does the Lausanne depot open?")
    first = next(e for e in events if isinstance(e, Token))
    folio.switch_model(str(folio.settings.models_dir / "my-model.gguf"))
    assert folio.chat.current is not old and closed == []  # still streaming from the old model
    done = [e for e in events if isinstance(e, Done)]
    assert first.text and done[0].answer.text and done[0].answer.model == old.name
    assert closed == [old.name]                        # closed once the answer ended
    assert _answer(folio).model == "my-model"          # the next answer comes from the new model


def test_a_failed_switch_names_the_file_and_keeps_the_old_model(folio):
    models_dir = folio.settings.models_dir
    (models_dir / "broken.gguf").write_bytes(b"this is not a model")
    cut = models_dir / "cut.gguf"  # its header is whole, its weights cut short
    cut.write_bytes(bundled_llm_path().read_bytes()[:20_000_000])
    old, info = folio.chat.current, dict(folio.chat.info)

    with pytest.raises(FolioError, match=r"broken\.gguf: this is not a GGUF model file"):
        folio.switch_model(str(models_dir / "broken.gguf"))
    with pytest.raises(FolioError, match=r"cut\.gguf could not be loaded \(.+\)"):
        folio.switch_model(str(cut))
    with pytest.raises(FolioError, match="gone.gguf is not among the local models"):
        folio.switch_model(str(models_dir / "gone.gguf"))
    with pytest.raises(FolioError, match="not downloaded yet; run 'folio models pull"):
        folio.switch_model("mixtral-8x7b-instruct:q8_0")
    with pytest.raises(FolioError, match="not a local chat model"):
        folio.switch_model("use-multilingual")

    assert folio.chat.current is old and folio.chat.info == info
    assert not (folio.settings.home / "folio.toml").exists()
    (folio.settings.home / "folio.toml").write_text("model = [", encoding="utf-8")  # the choice cannot be saved
    with pytest.raises(FolioError, match=r"folio\.toml: it is not valid TOML"):
        folio.switch_model(str(models_dir / "my-model.gguf"))
    assert folio.chat.current is old and folio.chat.info == info
    assert _answer(folio).model == old.name


def test_the_models_panel_switches_and_shows_errors_as_one_sentence(folio):
    from app.panels.models import ModelsPanel

    panel = ModelsPanel(folio)
    text, choices = panel.show("fr", wait=0)
    assert "petit modèle de remplacement qui répond" in text and "stand-in" not in text
    assert choices["value"] == BUNDLED and choices["choices"][0][0].endswith("(petit modèle de remplacement)")

    text, choices, banner, message = panel.switch(str(folio.settings.models_dir / "my-model.gguf"), "en")
    assert "**Model:** my-model" in text and "stand-in" not in text and "Quantization:** Q4_1" in text
    assert choices["value"].endswith("my-model.gguf") and banner["elem_classes"] == []
    assert "Model: **my-model**" in banner["value"] and "stands in" not in banner["value"]
    assert message.startswith("Now answering with my-model. Saved in folio.toml")
    with pytest.raises(gr.Error, match="Pick a model in the list first"):
        panel.switch(None, "en")
    with pytest.raises(gr.Error, match="nope.gguf is not among the local models"):
        panel.switch("/tmp/nope.gguf", "en")


def test_with_a_remote_engine_there_is_nothing_to_switch(folio_home):
    remote = build(Settings.for_tests(folio_home, embedder="fake-hash-64", llm_url="http://127.0.0.1:9/v1"), llm=False)
    try:
        assert remote.chat.choices(remote.settings) == ([], None)
        with pytest.raises(FolioError, match=r"served by the engine at http://127.0.0.1:9/v1 \(FOLIO_LLM_URL\)"):
            remote.switch_model(BUNDLED)
    finally:
        remote.close()
