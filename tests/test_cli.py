"""The ``folio`` command as a user runs it: JSON output, exit status, one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.cli import main
from tests.docs_factory import make_encrypted_pdf, make_pdf


def folio(capsys, *args) -> tuple[int, dict | str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError:
        return code, out, err


def test_ingest_docs_search_remove(tmp_path, capsys):
    make_pdf(tmp_path / "fleet.pdf", ["The fleet has 42 trains.", "The Lausanne depot opens at 05:30."])
    (tmp_path / "pets.md").write_text("# Pets\n\nDogs travel on a leash and pay half fare.")
    code, out, _ = folio(capsys, "ingest", str(tmp_path), "--json")
    assert code == 0
    assert sorted((r["name"], r["status"], r["pages"]) for r in out["results"]) == [("fleet.pdf", "added", 2), ("pets.md", "added", 1)]

    code, out, _ = folio(capsys, "ingest", str(tmp_path / "fleet.pdf"), "--json")
    assert [r["status"] for r in out["results"]] == ["unchanged"]

    code, out, _ = folio(capsys, "docs", "--json")
    assert code == 0 and {d["name"]: d["pages"] for d in out["documents"]} == {"fleet.pdf": 2, "pets.md": 1}
    assert all(d["language"] == "en" and d["doc_id"].startswith("d-") for d in out["documents"])

    code, out, _ = folio(capsys, "search", "When does the depot open?", "Can I bring my dog?", "-k", "2", "--json")
    assert code == 0 and [r["query"] for r in out["results"]] == ["When does the depot open?", "Can I bring my dog?"]
    top = out["results"][0]["passages"][0]
    assert (top["source"], top["page"]) == ("fleet.pdf", 2) and "05:30" in top["text"] and "score" in top
    assert out["results"][1]["passages"][0]["source"] == "pets.md"

    code, out, _ = folio(capsys, "search", "When does the depot open?", "--doc", "pets.md", "--json")
    assert {p["source"] for p in out["results"][0]["passages"]} == {"pets.md"}

    code, out, _ = folio(capsys, "remove", "pets.md", "--json")
    assert code == 0 and out["removed"][0]["name"] == "pets.md"
    code, out, _ = folio(capsys, "docs", "--json")
    assert [d["name"] for d in out["documents"]] == ["fleet.pdf"]


def test_a_failed_file_gives_exit_1_a_reason_and_the_others_go_in(tmp_path, capsys):
    make_encrypted_pdf(tmp_path / "locked.pdf", "Secret plans.")
    (tmp_path / "ok.txt").write_text("Trains are cleaned every night.")
    code, out, err = folio(capsys, "ingest", str(tmp_path / "locked.pdf"), str(tmp_path / "ok.txt"))
    assert code == 1
    assert "locked.pdf: the PDF is encrypted with a password; save an unencrypted copy and add that." in err
    assert "ok.txt: added" in out
    code, out, _ = folio(capsys, "docs", "--json")
    assert [d["name"] for d in out["documents"]] == ["ok.txt"]


def test_collections_are_separate(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("Alpha document.")
    folio(capsys, "ingest", str(tmp_path / "a.txt"), "--collection", "work")
    assert folio(capsys, "docs", "--json")[1]["documents"] == []
    assert [d["name"] for d in folio(capsys, "docs", "--collection", "work", "--json")[1]["documents"]] == ["a.txt"]


def test_errors_are_one_sentence_on_stderr(tmp_path, capsys):
    code, _, err = folio(capsys, "ingest", str(tmp_path / "missing.pdf"))
    assert code == 1 and err.strip() == f"{tmp_path / 'missing.pdf'}: no such file or folder; check the path."
    code, _, err = folio(capsys, "remove", "nothing-here")
    assert code == 1 and "No document 'nothing-here' in collection 'default'" in err and "Traceback" not in err
    code, _, err = folio(capsys, "docs", "--collection", "bad name!")
    assert code == 1 and "not a valid collection name" in err


def test_bad_usage_exits_2():
    result = subprocess.run([sys.executable, "-m", "app.cli", "ask"], capture_output=True, text=True)
    assert result.returncode == 2 and "QUESTION" in result.stderr


@pytest.mark.slow
def test_ask_json_through_the_bundled_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FOLIO_N_CTX", "2048")
    monkeypatch.setenv("FOLIO_ANSWER_TOKENS", "32")
    make_pdf(tmp_path / "guide.pdf", ["Welcome to the guide.", "Bicycles travel free on Sundays."])
    folio(capsys, "ingest", str(tmp_path / "guide.pdf"))
    code, out, err = folio(capsys, "ask", "Do bicycles travel free?", "--json")
    assert code == 0, err
    assert out["answer"] and out["language"] == "en" and out["model"].startswith("SmolLM2")
    assert out["sources"][0] == {**out["sources"][0], "n": 1, "source": "guide.pdf", "page": 2}
    assert {"prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s"} <= set(out["stats"])
    assert out["model_info"]["stand_in"] is True and "stands in for Mixtral" in out["model_info"]["note"]
    # The quotes come with their source; the context says why it holds what it holds (measured at load).
    assert out["quotes"] and out["quotes"][0]["text"] == "Bicycles travel free on Sundays."
    assert (out["quotes"][0]["source"], out["quotes"][0]["page"]) == ("guide.pdf", 2)
    budget = out["context"]["budget"]
    assert budget["prompt_tps"] > 0 and budget["reason"] in ("target", "floor", "whole") and not budget["asked_whole"]

    code, out, err = folio(capsys, "ask", "Do bicycles travel free?", "--whole-window", "--json")
    assert code == 0, err
    assert out["context"]["budget"]["asked_whole"] and out["context"]["budget"]["reason"] == "whole"

    code, text, err = folio(capsys, "ask", "Do bicycles travel free?")
    assert code == 0, err
    quoted = text.index("Quoted from your documents")
    assert quoted < text.index("“Bicycles travel free on Sundays.” [1] guide.pdf, p. 2") < text.index("[1] guide.pdf p.2")
    assert "of 2,048 tokens:" in text


def test_doctor_says_which_models_and_that_the_gpu_is_not_used(capsys):
    code, out, _ = folio(capsys, "doctor", "--json")
    assert code == 0
    assert out["gpu_offload_supported"] is False and out["model"]["stand_in"] is True
    assert out["embedder"] == "use-multilingual-v3" and out["plan"]["n_gpu_layers"] == 0



def test_doctor_says_whether_scanned_pages_can_be_read(capsys, monkeypatch):
    code, out, _ = folio(capsys, "doctor", "--json")
    assert out["ocr"]["available"] is True and out["ocr"]["languages"] == ["en", "fr", "de", "es", "it"]
    monkeypatch.setenv("PATH", "/nowhere")  # no tesseract on the PATH
    code, out, _ = folio(capsys, "doctor")
    assert code == 0 and "OCR of scanned pages is off: Tesseract is not installed; install Tesseract" in out


def test_a_second_writer_on_the_same_home_is_refused(tmp_path, capsys, folio_home):
    folio_home.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from filelock import FileLock; "
                               f"lock = FileLock({str(folio_home / 'writer.lock')!r}); lock.acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        (tmp_path / "a.txt").write_text("Some text.")
        code, _, err = folio(capsys, "ingest", str(tmp_path / "a.txt"))
        assert code == 1 and "Another Folio process ('folio serve' or 'folio ingest') is already writing" in err
    finally:
        holder.kill()
        holder.wait()
    code, _, _ = folio(capsys, "ingest", str(tmp_path / "a.txt"))
    assert code == 0, "the lock goes with the process that held it"


def test_models_plan_takes_the_bundled_model_a_registry_name_or_a_file(capsys):
    from inference.registry import bundled_llm_path

    code, out, _ = folio(capsys, "models", "plan", "bundled", "--vram-gb", "0", "--ram-gb", "24", "--ctx", "2048", "--json")
    assert code == 0 and out["model"] == "SmolLM2-135M-Instruct.Q4_1" and out["n_gpu_layers"] == 0 and out["fits"]
    code, same, _ = folio(capsys, "models", "plan", str(bundled_llm_path()), "--vram-gb", "0", "--ram-gb", "24",
                          "--ctx", "2048", "--json")
    assert same == out
    code, out, _ = folio(capsys, "models", "plan", "mixtral-8x7b-instruct:q4_k_m", "--vram-gb", "24", "--ram-gb", "64",
                         "--ctx", "32768", "--json")
    assert code == 0 and out["n_gpu_layers"] == 23 and out["fits"]
    code, out, _ = folio(capsys, "models", "plan", "mixtral-8x7b-instruct:q4_k_m", "--vram-gb", "24", "--ram-gb", "64",
                         "--ctx", "32768")
    assert code == 0 and out.splitlines()[0].startswith("Mixtral") and "n_gpu_layers 23 of 33" in out
