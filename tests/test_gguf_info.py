"""Reading GGUF headers: a tiny Mixtral-shaped file made here, and the real bundled SmolLM2."""

from __future__ import annotations

import shutil
from pathlib import Path

import gguf
import pytest

from inference.gguf_info import GGUFInfo, parse_header, quant_name, read_info
from inference.planning import RAM_RESERVE_BYTES, GiB, compute_buffer_bytes, footprint, kv_cache_bytes, plan
from inference.registry import SMOLLM2_ARCH, bundled_llm_path
from core.errors import FolioError, ModelError
from tests.gguf_factory import TinyMixtral, gguf_reader, write_tiny_mixtral

CONFIG = TinyMixtral()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_mixtral(tmp_path_factory.mktemp("gguf") / "tiny-mixtral.gguf", config=CONFIG)


@pytest.fixture(scope="module")
def info(tiny) -> GGUFInfo:
    return read_info(tiny)


@pytest.fixture(scope="module")
def reader(tiny):
    return gguf_reader(tiny)


def test_reports_mixtral_architecture(info):
    assert info.architecture == "llama"  # how Mixtral GGUFs are stored
    assert info.n_expert == 8 and info.n_expert_used == 2
    assert info.n_layer == CONFIG.n_layer == len(info.layer_bytes)
    assert (info.n_embd, info.n_head, info.n_head_kv, info.n_ff) == (64, 8, 2, 128)
    assert info.head_dim_k == info.head_dim_v == CONFIG.head_dim
    assert info.n_ctx_train == CONFIG.n_ctx_train
    assert info.expert_layout == "merged"
    assert info.quant == "Q8_0" and info.file_type == gguf.LlamaFileType.MOSTLY_Q8_0
    assert info.has_chat_template and "<|im_start|>" in info.chat_template
    assert info.n_vocab == 49152  # SmolLM2's tokenizer, copied
    assert not info.is_truncated


def test_every_tensor_matches_gguf_reader(reader, info):
    theirs = {t.name: t for t in reader.tensors}
    assert info.tensor_count == len(theirs)
    for t in info.tensors:
        r = theirs[t.name]
        assert t.n_bytes == int(r.n_bytes), t.name
        assert t.shape == tuple(int(d) for d in r.shape), t.name
        assert t.ggml_type == int(r.tensor_type), t.name
        assert info.data_offset + t.offset == int(r.data_offset), t.name
    assert info.tensor_bytes == sum(int(t.n_bytes) for t in reader.tensors)


def test_bytes_split_into_layers_input_and_output(tiny, reader, info):
    per_layer = [0] * CONFIG.n_layer
    for t in reader.tensors:
        if t.name.startswith("blk."):
            per_layer[int(t.name.split(".")[1])] += int(t.n_bytes)
    assert list(info.layer_bytes) == per_layer
    by_name = {t.name: int(t.n_bytes) for t in reader.tensors}
    assert info.input_bytes == by_name["token_embd.weight"]
    assert info.output_bytes == by_name["output.weight"] + by_name["output_norm.weight"]
    assert info.other_bytes == 0
    assert sum(info.layer_bytes) + info.nonlayer_bytes == info.tensor_bytes
    # the data section ends where the file does
    assert info.expected_file_size == tiny.stat().st_size == info.file_size


def test_planner_byte_counts_match_the_file(info):
    fp = footprint(info)
    assert fp.exact and fp.weights_bytes == info.tensor_bytes
    n_ctx = 256
    kv = kv_cache_bytes(n_layer=CONFIG.n_layer, n_ctx=n_ctx, n_head_kv=CONFIG.n_head_kv, head_dim=CONFIG.head_dim)
    compute = compute_buffer_bytes(n_ctx=n_ctx, n_head=CONFIG.n_head, n_vocab=info.n_vocab)
    cpu = plan(info, vram_bytes=0, ram_bytes=4 * GiB, n_ctx=n_ctx)
    assert cpu.weights_bytes == info.tensor_bytes
    assert cpu.ram_needed == info.tensor_bytes + kv + compute + RAM_RESERVE_BYTES
    full = plan(info, vram_bytes=4 * GiB, ram_bytes=4 * GiB, n_ctx=n_ctx)
    assert full.offload == "full" and full.n_gpu_layers == CONFIG.n_layer + 1
    assert full.ram_needed == info.input_bytes + RAM_RESERVE_BYTES  # only token_embd stays in RAM
    assert footprint(info).kv_bytes(info.n_layer, n_ctx, "f16") == kv


def test_loads_in_llama_cpp_and_tokenizes(tiny):
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(model_path=str(tiny), n_ctx=64, verbose=False)
    try:
        tokens = llm.tokenize(b"Hello world")
        assert tokens and all(0 <= t < 49152 for t in tokens)
        assert llm.detokenize(tokens).strip() == b"Hello world"
        ref = llama_cpp.Llama(model_path=str(bundled_llm_path()), vocab_only=True, verbose=False)
        assert tokens == ref.tokenize(b"Hello world")  # the copied tokenizer is the real one
        assert llm.metadata["llama.expert_count"] == "8"
        assert llm.metadata["llama.expert_used_count"] == "2"
        llm.eval(tokens)  # runs the mixture-of-experts graph
        assert llm.n_tokens == len(tokens)
    finally:
        llm.close()


def test_bundled_smollm2_matches_gguf_reader_and_registry():
    path = bundled_llm_path()
    info = read_info(path)
    reader = gguf_reader(path)
    assert info.tensor_bytes == sum(int(t.n_bytes) for t in reader.tensors)
    assert info.tensor_count == len(reader.tensors)
    assert info.quant == "Q4_1" and info.n_expert == 0 and info.expert_layout is None
    assert info.has_chat_template
    assert (info.n_layer, info.n_embd, info.n_head, info.n_head_kv, info.head_dim_k, info.n_ff,
            info.n_ctx_train, info.n_vocab) == (
        SMOLLM2_ARCH.n_layer, SMOLLM2_ARCH.n_embd, SMOLLM2_ARCH.n_head, SMOLLM2_ARCH.n_head_kv,
        SMOLLM2_ARCH.head_dim, SMOLLM2_ARCH.n_ff, SMOLLM2_ARCH.n_ctx_train, SMOLLM2_ARCH.n_vocab)
    # tied embeddings: no output.weight, llama.cpp reuses token_embd for the output on the GPU
    assert "output.weight" not in {t.name for t in info.tensors}
    fp = footprint(info)
    assert fp.output_bytes == info.output_bytes + info.input_bytes
    assert fp.weights_bytes == info.tensor_bytes


def test_split_expert_layout_is_recognised_and_llama_cpp_rejects_it(tmp_path):
    # The pre-2024 layout of TheBloke's Mixtral GGUFs (blk.N.ffn_gate.E.weight): the reason the registry
    # points at a newer conversion and download.verify refuses such files up front.
    path = write_tiny_mixtral(tmp_path / "old.gguf", config=TinyMixtral(n_layer=1, split_experts=True))
    info = read_info(path)
    assert info.expert_layout == "split"
    assert info.n_expert == 8 and len(info.layer_bytes) == 1
    llama_cpp = pytest.importorskip("llama_cpp")
    with pytest.raises(ValueError):
        llama_cpp.Llama(model_path=str(path), n_ctx=64, verbose=False)


def test_truncated_data_is_reported(tiny, tmp_path):
    cut = tmp_path / "cut.gguf"
    with open(tiny, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(tiny.stat().st_size - 1000))
    info = read_info(cut)
    assert info.is_truncated and info.expected_file_size == tiny.stat().st_size


def test_cut_header_is_a_one_sentence_error(tiny, tmp_path):
    cut = tmp_path / "cut.gguf"
    with open(tiny, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(5000))  # inside the tokenizer arrays
    with pytest.raises(ModelError) as err:
        read_info(cut)
    msg = str(err.value)
    assert "cut.gguf" in msg and "\n" not in msg and "truncated" in msg


def test_not_a_gguf(tmp_path):
    bogus = tmp_path / "notes.gguf"
    bogus.write_bytes(b"PK\x03\x04 this is a zip file, not a model" * 4)
    with pytest.raises(FolioError, match="notes.gguf.*not a GGUF"):
        read_info(bogus)
    with pytest.raises(ModelError, match="no such model file"):
        read_info(tmp_path / "missing.gguf")
    with pytest.raises(ModelError, match="not a GGUF"):
        parse_header(b"")


def test_header_parse_touches_only_the_header(tiny, tmp_path):
    # parse_header only needs the header bytes: give it just those plus the real file size
    with open(tiny, "rb") as f:
        head = f.read(read_info(tiny).data_offset)
    info = parse_header(head, file_size=tiny.stat().st_size)
    assert info.tensor_bytes == read_info(tiny).tensor_bytes and not info.is_truncated


def test_quant_names():
    assert quant_name(15) == "Q4_K_M"
    assert quant_name(7) == "Q8_0"
    assert quant_name(0) == "F32"
    assert quant_name(None) is None and quant_name(9999) is None


def test_copy_keeps_the_header(tiny, tmp_path):
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(tiny, copy)
    assert read_info(copy).layer_bytes == read_info(tiny).layer_bytes
