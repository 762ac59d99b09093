"""Build a tiny GGUF of Mixtral's architecture for tests (a plain helper module, not a conftest).

Mixtral GGUFs are stored as architecture ``llama`` with ``llama.expert_count`` / ``expert_used_count``
and merged expert tensors ``blk.N.ffn_{gate,up,down}_exps.weight``; this writes the same layout at a
toy size (a few layers, 64-wide, random weights, experts quantized to Q8_0) with a real tokenizer
copied from the bundled SmolLM2 GGUF, so llama.cpp can load it and tokenize with it.

>>> path = write_tiny_mixtral(tmp_path / "tiny-mixtral.gguf")      # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TinyMixtral:
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 8
    n_head_kv: int = 2  # Mixtral's 4:1 grouped-query ratio (32:8)
    n_ff: int = 128
    n_expert: int = 8
    n_expert_used: int = 2
    n_ctx_train: int = 512
    expert_type: str = "Q8_0"
    split_experts: bool = False  # the pre-2024 layout (blk.N.ffn_gate.E.weight) current llama.cpp rejects

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


@functools.lru_cache(maxsize=4)
def gguf_reader(path: Path):
    """A cached ``gguf.GGUFReader`` (it takes seconds on a file with a 49k-token vocabulary)."""
    import gguf

    return gguf.GGUFReader(path)


@functools.lru_cache(maxsize=4)
def tokenizer_fields(source: Path) -> tuple[tuple[str, object, object, object], ...]:
    """(key, value, value type, array item type) of every ``tokenizer.*`` field of ``source``."""
    import gguf

    reader = gguf_reader(Path(source))
    fields = []
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        main = field.types[0]
        sub = field.types[-1] if main == gguf.GGUFValueType.ARRAY else None
        fields.append((key, field.contents(), main, sub))
    return tuple(fields)


def add_moe_metadata(writer, config, *, name: str, n_vocab: int, file_type: str,
                     tokenizer: tuple[tuple[str, object, object, object], ...], rope_freq_base: float = 1_000_000.0) -> None:
    """The keys of a Mixtral-style ``llama`` GGUF (shape, experts, file type) and ``tokenizer``'s fields.

    ``config`` is anything with Mixtral's shape fields (:class:`TinyMixtral`, ``bench.mixtral_gguf.MoEShape``).
    """
    import gguf

    c = config
    writer.add_name(name)
    writer.add_block_count(c.n_layer)
    writer.add_context_length(c.n_ctx_train)
    writer.add_embedding_length(c.n_embd)
    writer.add_feed_forward_length(c.n_ff)
    writer.add_head_count(c.n_head)
    writer.add_head_count_kv(c.n_head_kv)
    writer.add_rope_dimension_count(c.head_dim)
    writer.add_rope_freq_base(rope_freq_base)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_expert_count(c.n_expert)
    writer.add_expert_used_count(c.n_expert_used)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType[file_type])
    for key, value, vtype, sub in tokenizer:
        writer.add_key_value(key, value, vtype, sub_type=sub)


def write_tiny_mixtral(path: Path, *, config: TinyMixtral = TinyMixtral(), tokenizer_from: Path | None = None,
                       seed: int = 0) -> Path:
    """Write a tiny Mixtral-architecture GGUF at ``path`` and return ``path``."""
    import gguf
    from gguf.quants import quantize

    if tokenizer_from is None:
        from inference.registry import bundled_llm_path

        tokenizer_from = bundled_llm_path()
    tok = tokenizer_fields(tokenizer_from)
    n_vocab = next(len(v) for k, v, _, _ in tok if k == "tokenizer.ggml.tokens")
    c = config
    rng = np.random.default_rng(seed)

    def f16(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float16)

    def f32(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    expert_q = gguf.GGMLQuantizationType[c.expert_type]

    w = gguf.GGUFWriter(str(path), "llama")
    add_moe_metadata(w, c, name="tiny-mixtral-test", n_vocab=n_vocab, file_type=f"MOSTLY_{c.expert_type}",
                     tokenizer=tok)

    # numpy shapes are ggml shapes reversed: (rows, cols) = (ne1, ne0)
    w.add_tensor("token_embd.weight", f16(n_vocab, c.n_embd))
    kv = c.n_head_kv * c.head_dim
    for i in range(c.n_layer):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", np.ones(c.n_embd, dtype=np.float32))
        w.add_tensor(b + "attn_q.weight", f16(c.n_embd, c.n_embd))
        w.add_tensor(b + "attn_k.weight", f16(kv, c.n_embd))
        w.add_tensor(b + "attn_v.weight", f16(kv, c.n_embd))
        w.add_tensor(b + "attn_output.weight", f16(c.n_embd, c.n_embd))
        w.add_tensor(b + "ffn_norm.weight", np.ones(c.n_embd, dtype=np.float32))
        w.add_tensor(b + "ffn_gate_inp.weight", f32(c.n_expert, c.n_embd))
        experts = {
            "ffn_gate": (c.n_ff, c.n_embd),
            "ffn_up": (c.n_ff, c.n_embd),
            "ffn_down": (c.n_embd, c.n_ff),
        }
        for name, shape in experts.items():
            if c.split_experts:
                for e in range(c.n_expert):
                    q = quantize(f32(*shape), expert_q)
                    w.add_tensor(f"{b}{name}.{e}.weight", q, raw_dtype=expert_q)
            else:
                q = quantize(f32(c.n_expert, *shape), expert_q)
                w.add_tensor(f"{b}{name}_exps.weight", q, raw_dtype=expert_q)
    w.add_tensor("output_norm.weight", np.ones(c.n_embd, dtype=np.float32))
    w.add_tensor("output.weight", f16(n_vocab, c.n_embd))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
