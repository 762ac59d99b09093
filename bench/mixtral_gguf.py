"""A GGUF with Mixtral 8x7B Instruct's exact architecture and Q4_K_M tensor types, written in seconds.

The benchmark needs Mixtral's *shape*, not its knowledge: every tensor has the name, shape, ggml type
and byte size that llama.cpp's Q4_K_M recipe gives Mixtral (``llama_tensor_get_type_impl`` in the
vendored ``src/llama-quant.cpp``; :func:`q4_k_m_type` is that recipe for this architecture), so the
GPU reads exactly the bytes it would read for the real 28.4 GB file. Almost all of those bytes are
zero and are never written: the file is created by seeking past them (a sparse file), so a 28 GB
GGUF takes about a second and no disk. Three kinds of tensor hold real values:

- the norms are ones (zero would silence the router's input);
- the token embeddings are random Q4_K blocks and the routers (``ffn_gate_inp``) random floats, so each
  token is routed to its own 2 of the 8 experts, as real text is, and the MoE kernels see a realistic
  spread of tokens over experts;
- one row of the output matrix (an ordinary word piece, :func:`greedy_token`) is all ones, so its logit
  is the only one above zero and greedy decoding repeats that piece for as long as asked, never
  stopping early at an end-of-text token;
- everything else (attention, experts, the rest of the output) is zero. The text is garbage; only the
  speeds mean anything.

The recipe, worked through for Mixtral (use_more_bits marks layers 0-3, 6, 9, ..., 27 and 28-31):

>>> q4_k_m_type("blk.0.ffn_down_exps.weight", n_layer=32, n_expert=8)
'Q6_K'
>>> q4_k_m_type("blk.4.ffn_down_exps.weight", n_layer=32, n_expert=8)
'Q4_K'
>>> [q4_k_m_type(f"blk.7.{t}.weight", n_layer=32, n_expert=8) for t in ("attn_q", "attn_k", "attn_v", "attn_output")]
['Q4_K', 'Q8_0', 'Q8_0', 'Q5_K']
>>> plan = tensor_plan(MIXTRAL_8X7B)
>>> len(plan), sum(t.n_bytes for t in plan)     # 9 tensors a layer, plus embeddings, output norm, output
(323, 28447727616)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MIXTRAL_8X7B", "MIXTRAL_CHAT_TEMPLATE", "MoEShape", "PlannedTensor", "q4_k_m_type", "tensor_plan",
           "tiny_shape", "write_gguf"]

#: Mixtral 8x7B Instruct v0.1's chat template (its tokenizer_config.json; also llama_cpp.llama_chat_format).
MIXTRAL_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")


@dataclass(frozen=True)
class MoEShape:
    """A Mixtral-style model's shape (``rope_freq_base``: Mixtral's ``rope_theta``)."""

    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_expert: int
    n_expert_used: int
    n_vocab: int
    n_ctx_train: int
    rope_freq_base: float = 1_000_000.0

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def _registry_shape() -> MoEShape:
    from inference.registry import MIXTRAL_ARCH as a

    return MoEShape(n_layer=a.n_layer, n_embd=a.n_embd, n_head=a.n_head, n_head_kv=a.n_head_kv, n_ff=a.n_ff,
                    n_expert=a.n_expert, n_expert_used=a.n_expert_used, n_vocab=a.n_vocab, n_ctx_train=a.n_ctx_train)


#: Mixtral 8x7B Instruct v0.1, as Folio's registry records it (32 layers, 4096 wide, 8 experts, 2 used, ...).
MIXTRAL_8X7B = _registry_shape()


def tiny_shape(n_vocab: int) -> MoEShape:
    """The dry run's toy Mixtral: 2 layers, 256 wide (the smallest width K-quant blocks allow), 8 experts."""
    return MoEShape(n_layer=2, n_embd=256, n_head=8, n_head_kv=2, n_ff=512, n_expert=8, n_expert_used=2, n_vocab=n_vocab,
                    n_ctx_train=2048)


def _use_more_bits(i_layer: int, n_layer: int) -> bool:
    # C++ integer division and remainder; i_layer - n_layer // 8 is negative only where the first test holds
    return i_layer < n_layer // 8 or i_layer >= 7 * n_layer // 8 or (i_layer - n_layer // 8) % 3 == 2


def q4_k_m_type(name: str, *, n_layer: int, n_expert: int) -> str:
    """The ggml type llama.cpp's Q4_K_M recipe gives tensor ``name`` of a llama-architecture model.

    Only the branches a Mixtral-style model reaches are written out: norms and routers stay F32; the
    output matrix is Q6_K; K and V are Q8_0 on 8-expert models; attention output is Q5_K on 8-expert
    models; ``ffn_down`` is Q6_K on the layers ``use_more_bits`` marks; the rest is Q4_K.
    """
    if name.endswith("_norm.weight") or "ffn_gate_inp" in name:
        return "F32"
    if name == "output.weight":
        return "Q6_K"
    if name == "token_embd.weight":
        return "Q4_K"
    layer = int(name.split(".")[1])
    if ".attn_v." in name:
        return "Q8_0" if n_expert == 8 else ("Q6_K" if _use_more_bits(layer, n_layer) else "Q4_K")
    if ".attn_k." in name:
        return "Q8_0" if n_expert == 8 else "Q4_K"
    if ".attn_output." in name:
        return "Q5_K" if n_expert == 8 else "Q4_K"
    if ".ffn_down" in name:
        return "Q6_K" if _use_more_bits(layer, n_layer) else "Q4_K"
    return "Q4_K"


@dataclass(frozen=True)
class PlannedTensor:
    """One tensor of the file: ``shape`` in ggml order (``shape[0]`` is the contiguous dimension)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: str
    fill: str  # "zeros" (never written), "ones", "random" or "one row" (of ones, the rest zeros)

    @property
    def n_values(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_bytes(self) -> int:
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

        block, size = GGML_QUANT_SIZES[GGMLQuantizationType[self.ggml_type]]
        if self.shape[0] % block:
            raise ValueError(f"{self.name}: a row of {self.shape[0]} values is not a whole number of {self.ggml_type} blocks")
        return self.n_values // block * size


def tensor_plan(shape: MoEShape) -> list[PlannedTensor]:
    """Every tensor of a Mixtral-style GGUF with merged experts (``blk.N.ffn_*_exps``), in file order."""
    s = shape
    kv = s.n_head_kv * s.head_dim

    def t(name: str, dims: tuple[int, ...], fill: str = "zeros") -> PlannedTensor:
        return PlannedTensor(name, dims, q4_k_m_type(name, n_layer=s.n_layer, n_expert=s.n_expert), fill)

    plan = [t("token_embd.weight", (s.n_embd, s.n_vocab), "random")]
    for i in range(s.n_layer):
        b = f"blk.{i}."
        plan += [
            t(b + "attn_norm.weight", (s.n_embd,), "ones"),
            t(b + "attn_q.weight", (s.n_embd, s.n_head * s.head_dim)),
            t(b + "attn_k.weight", (s.n_embd, kv)),
            t(b + "attn_v.weight", (s.n_embd, kv)),
            t(b + "attn_output.weight", (s.n_head * s.head_dim, s.n_embd)),
            t(b + "ffn_norm.weight", (s.n_embd,), "ones"),
            t(b + "ffn_gate_inp.weight", (s.n_embd, s.n_expert), "random"),
            t(b + "ffn_gate_exps.weight", (s.n_embd, s.n_ff, s.n_expert)),
            t(b + "ffn_down_exps.weight", (s.n_ff, s.n_embd, s.n_expert)),
            t(b + "ffn_up_exps.weight", (s.n_embd, s.n_ff, s.n_expert)),
        ]
    plan += [t("output_norm.weight", (s.n_embd,), "ones"), t("output.weight", (s.n_embd, s.n_vocab), "one row")]
    return plan


def greedy_token(tokenizer: Sequence[tuple[str, object, object, object]]) -> int:
    """An ordinary word piece (type NORMAL, letters only) from the middle of the vocabulary.

    >>> greedy_token([("tokenizer.ggml.tokens", ["<s>", "a", "</s>", "▁the", "ing"], None, None),
    ...               ("tokenizer.ggml.token_type", [3, 1, 3, 1, 1], None, None)])
    3
    """
    fields = {k: v for k, v, _, _ in tokenizer}
    tokens, types = fields["tokenizer.ggml.tokens"], fields.get("tokenizer.ggml.token_type")
    for i in range(len(tokens) // 2, len(tokens)):
        if (types is None or types[i] == 1) and len(tokens[i]) > 1 and tokens[i].lstrip("▁Ġ").isalpha():
            return i
    raise ValueError("the tokenizer has no ordinary word piece in the second half of its vocabulary")


def _q6_k_ones(n_values: int) -> bytes:
    """Q6_K blocks that all decode to 1.0: every 6-bit value 63 (= 31 after the -32 offset), scale 1, d = 1/31."""
    block = np.zeros(210, dtype=np.uint8)  # ql[128], qh[64], int8 scales[16], fp16 d
    block[:192] = 0xFF
    block[192:208] = 1
    block[208:210] = np.frombuffer(np.float16(1 / 31).tobytes(), dtype=np.uint8)
    return np.tile(block, n_values // 256).tobytes()


def _values(tensor: PlannedTensor, rng: np.random.Generator) -> bytes:
    """The bytes of a tensor that is not all zeros."""
    if tensor.fill == "ones":
        return np.ones(tensor.n_values, dtype=np.float32).tobytes()
    if tensor.ggml_type == "F32":
        return (rng.standard_normal(tensor.n_values) * 0.02).astype(np.float32).tobytes()
    if tensor.ggml_type == "Q4_K":
        # block_q4_K: fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of 4-bit values.
        # Any bit pattern is a valid block; d fixes the range to [0, 1] and dmin = 0 keeps it finite.
        blocks = rng.integers(0, 256, size=(tensor.n_bytes // 144, 144), dtype=np.uint8)
        blocks[:, 0:2] = np.frombuffer(np.float16(1 / (63 * 15)).tobytes(), dtype=np.uint8)
        blocks[:, 2:4] = 0
        return blocks.tobytes()
    raise ValueError(f"{tensor.name}: no random fill for {tensor.ggml_type}")


def write_gguf(path: Path, *, shape: MoEShape, tokenizer: Sequence[tuple[str, object, object, object]],
               name: str = "mixtral-8x7b-instruct-shape-q4_k_m-zeros", chat_template: str | None = MIXTRAL_CHAT_TEMPLATE,
               seed: int = 0, header_only: bool = False) -> dict:
    """Write the GGUF of :func:`tensor_plan` at ``path``, zeros as holes; a record of what was written.

    ``tokenizer`` is ``(key, value, type, item type)`` per ``tokenizer.*`` field (``tests.gguf_factory.
    tokenizer_fields`` reads them from any GGUF); its token count must be ``shape.n_vocab``.
    ``header_only`` stops after the header (``bytes`` is still the whole file's size): for tests that
    check the layout without making a 28 GB file, sparse or not.
    """
    import gguf

    from tests.gguf_factory import add_moe_metadata

    tokens = next((v for k, v, _, _ in tokenizer if k == "tokenizer.ggml.tokens"), None)
    if tokens is None or len(tokens) != shape.n_vocab:
        raise ValueError(f"the tokenizer has {len(tokens or [])} tokens; the tensors are sized for {shape.n_vocab}")
    started = time.perf_counter()
    plan = tensor_plan(shape)
    token = greedy_token(tokenizer)
    fields = list(tokenizer)
    if chat_template and not any(k == "tokenizer.chat_template" for k, *_ in fields):
        fields.append(("tokenizer.chat_template", chat_template, gguf.GGUFValueType.STRING, None))
    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), "llama")
    add_moe_metadata(w, shape, name=name, n_vocab=shape.n_vocab, file_type="MOSTLY_Q4_K_M", tokenizer=tuple(fields),
                     rope_freq_base=shape.rope_freq_base)
    for t in plan:
        w.add_tensor_info(t.name, tuple(reversed(t.shape)), np.dtype(np.float32), t.n_bytes,
                          raw_dtype=gguf.GGMLQuantizationType[t.ggml_type])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    align = gguf.GGUF_DEFAULT_ALIGNMENT
    data_offset = gguf.GGUFWriter.ggml_pad(path.stat().st_size, align)
    rng = np.random.default_rng(seed)
    offsets = np.cumsum([0] + [gguf.GGUFWriter.ggml_pad(t.n_bytes, align) for t in plan]) + data_offset
    written = 0
    with path.open("r+b") as f:
        for t, offset in zip(plan, offsets.tolist()):
            if header_only or t.fill == "zeros":
                continue
            if t.fill == "one row":
                f.seek(offset + token * (t.n_bytes // t.shape[1]))
                written += f.write(_q6_k_ones(t.shape[0]))
            else:
                f.seek(offset)
                written += f.write(_values(t, rng))
        if not header_only:
            f.truncate(int(offsets[-1]))
    offset = int(offsets[-1])
    return {"path": str(path), "bytes": offset, "tensor_bytes": sum(t.n_bytes for t in plan),
            "data_offset": data_offset, "bytes_written": written, "tensors": len(plan),
            "types": dict(sorted(Counter(t.ggml_type for t in plan).items())),
            "shape": {k: getattr(shape, k) for k in shape.__dataclass_fields__},
            "greedy_token": {"id": token, "text": tokens[token]},
            "seconds": round(time.perf_counter() - started, 2),
            "weights": ("zero except ones in the norms and one output row, and random token embeddings and routers; "
                        "the text is garbage, only the speeds count")}
