"""What a GGUF file holds, read from its header alone: no weights are loaded or even paged in.

A GGUF file is a small header (metadata key/values, then one record per tensor: name, shape, type,
offset) followed by the tensor data. :func:`read_info` memory-maps the file and parses only the
header, so it takes milliseconds even on a 50 GB Mixtral; the pure core :func:`parse_header` works
on any buffer. Tensor byte sizes come from each tensor's shape and ggml type (block size and bytes
per block, from the ``gguf`` package's tables), so they are exact.

>>> info = read_info("Mixtral-8x7B-Instruct-v0.1-Q4_K_M.gguf")           # doctest: +SKIP
>>> info.architecture, info.n_layer, info.n_expert, info.n_expert_used   # doctest: +SKIP
('llama', 32, 8, 2)
>>> info.quant, info.has_chat_template, info.expert_layout               # doctest: +SKIP
('Q4_K_M', True, 'merged')
>>> sum(info.layer_bytes) + info.nonlayer_bytes == info.tensor_bytes     # doctest: +SKIP
True

Layer accounting: tensors named ``blk.N.*`` belong to repeating layer N; ``token_embd.*`` is the
input (llama.cpp always keeps it in RAM); ``output.*`` and ``output_norm.*`` are the output layer;
anything else (e.g. ``rope_freqs``) is counted in ``other_bytes``.
"""

from __future__ import annotations

import mmap
import re
import struct
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.errors import ModelError

__all__ = ["ArraySummary", "GGUFInfo", "TensorRecord", "parse_header", "quant_name", "read", "read_info"]

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
#: Arrays longer than this are summarised (type and length) instead of copied into ``metadata``.
MAX_ARRAY_KEPT = 64

# GGUF metadata value types
_U8, _I8, _U16, _I16, _U32, _I32, _F32, _BOOL, _STR, _ARR, _U64, _I64, _F64 = range(13)
_SCALAR_FMT = {_U8: "B", _I8: "b", _U16: "H", _I16: "h", _U32: "I", _I32: "i", _F32: "f",
               _BOOL: "?", _U64: "Q", _I64: "q", _F64: "d"}
_TYPE_NAMES = {_U8: "uint8", _I8: "int8", _U16: "uint16", _I16: "int16", _U32: "uint32",
               _I32: "int32", _F32: "float32", _BOOL: "bool", _STR: "string", _ARR: "array",
               _U64: "uint64", _I64: "int64", _F64: "float64"}

_LAYER_RE = re.compile(r"^blk\.(\d+)\.")
_SPLIT_EXPERT_RE = re.compile(r"^blk\.\d+\.ffn_(?:gate|up|down)\.\d+\.")
_MERGED_EXPERT_RE = re.compile(r"^blk\.\d+\.ffn_(?:gate|up|down)_exps\.")


@dataclass(frozen=True)
class ArraySummary:
    """Stands in ``metadata`` for a long array (e.g. 32,000 tokenizer tokens)."""

    item_type: str
    length: int


@dataclass(frozen=True)
class TensorRecord:
    name: str
    shape: tuple[int, ...]  # ggml order: shape[0] is the contiguous dimension
    ggml_type: int
    type_name: str
    offset: int  # from the start of the data section
    n_bytes: int


@dataclass(frozen=True)
class GGUFInfo:
    """The header of one GGUF file. Byte counts are exact; no weight was read to get them."""

    path: Path | None
    version: int
    architecture: str
    name: str | None
    n_layer: int
    n_ctx_train: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    n_expert: int
    n_expert_used: int
    n_vocab: int
    file_type: int | None
    quant: str
    chat_template: str | None
    tensor_count: int
    tensor_bytes: int
    layer_bytes: tuple[int, ...]  # index = layer number
    input_bytes: int  # token_embd.* (llama.cpp keeps these in RAM)
    output_bytes: int  # output.* and output_norm.* (offloaded first by llama.cpp)
    other_bytes: int  # tensors neither in a layer nor input/output
    data_offset: int  # where tensor data starts in the file
    expected_file_size: int  # data_offset + end of the last tensor
    file_size: int
    expert_layout: str | None  # "merged" (ffn_*_exps), "split" (pre-2024 ffn_*.E), None if no experts
    tensor_types: tuple[tuple[str, int], ...]  # (ggml type, tensor count), most common first
    metadata: Mapping[str, Any] = field(repr=False, compare=False)
    tensors: tuple[TensorRecord, ...] = field(repr=False, compare=False)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    @property
    def nonlayer_bytes(self) -> int:
        """Bytes of every tensor outside the repeating layers (input + output + other)."""
        return self.input_bytes + self.output_bytes + self.other_bytes

    @property
    def head_dim(self) -> int:
        return self.head_dim_k

    @property
    def is_truncated(self) -> bool:
        """True when the file ends before the last tensor's data does."""
        return self.file_size < self.expected_file_size


def quant_name(file_type: int | None) -> str | None:
    """The llama.cpp name of a ``general.file_type`` value: 15 -> ``'Q4_K_M'``, 0 -> ``'F32'``."""
    if file_type is None:
        return None
    import gguf

    try:
        name = gguf.LlamaFileType(file_type).name
    except ValueError:
        return None
    for prefix in ("MOSTLY_", "ALL_"):
        name = name.removeprefix(prefix)
    return name


def _type_info(ggml_type: int) -> tuple[str, int, int] | None:
    """(name, block size, bytes per block) of a ggml tensor type, or None if unknown."""
    import gguf

    try:
        t = gguf.GGMLQuantizationType(ggml_type)
    except ValueError:
        return None
    sizes = gguf.GGML_QUANT_SIZES.get(t)
    if sizes is None:
        return None
    return t.name, sizes[0], sizes[1]


class _Cursor:
    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: Any, endian: str) -> None:
        self.buf = buf
        self.pos = 0
        self.end = endian

    def read(self, fmt: str) -> Any:
        s = struct.Struct(self.end + fmt)
        (value,) = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return value

    def string(self) -> str:
        n = self.read("Q")
        if self.pos + n > len(self.buf):
            raise struct.error("string runs past the end of the file")
        raw = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        unpack = struct.Struct(self.end + "Q").unpack_from
        buf, pos = self.buf, self.pos
        for _ in range(count):
            (n,) = unpack(buf, pos)
            pos += 8 + n
        if pos > len(buf):
            raise struct.error("array runs past the end of the file")
        self.pos = pos

    def value(self, vtype: int) -> Any:
        if vtype == _STR:
            return self.string()
        if vtype == _ARR:
            item_type = self.read("I")
            count = self.read("Q")
            if count > MAX_ARRAY_KEPT:
                if item_type == _STR:
                    self.skip_strings(count)
                elif item_type in _SCALAR_FMT:
                    self.pos += count * struct.calcsize(_SCALAR_FMT[item_type])
                    if self.pos > len(self.buf):
                        raise struct.error("array runs past the end of the file")
                else:  # nested arrays: walk them
                    for _ in range(count):
                        self.value(item_type)
                return ArraySummary(_TYPE_NAMES.get(item_type, str(item_type)), count)
            return tuple(self.value(item_type) for _ in range(count))
        fmt = _SCALAR_FMT.get(vtype)
        if fmt is None:
            raise ValueError(f"unknown GGUF value type {vtype}")
        return self.read(fmt)


def _header_error(label: str) -> ModelError:
    return ModelError(
        f"{label}: the GGUF header is cut short or damaged, so the file is truncated or corrupt; "
        "delete it and download it again (`folio models pull NAME`)."
    )


def parse_header(buf: Any, *, file_size: int | None = None, path: Path | None = None) -> GGUFInfo:
    """Parse a GGUF header from ``buf`` (bytes, memoryview or mmap holding at least the header).

    ``file_size`` defaults to ``len(buf)``. Raises :class:`~core.errors.ModelError` when ``buf`` is not
    GGUF or the header is cut short.
    """
    label = path.name if path is not None else "GGUF data"
    size = len(buf) if file_size is None else file_size
    if len(buf) < 24 or bytes(buf[:4]) != GGUF_MAGIC:
        raise ModelError(
            f"{label}: this is not a GGUF model file (it does not start with 'GGUF'); "
            "point Folio at a .gguf file or pull one with `folio models pull NAME`."
        )
    (version,) = struct.unpack_from("<I", buf, 4)
    endian = "<"
    if version > 0xFFFF:  # a big-endian file reads as a huge little-endian number
        endian = ">"
        (version,) = struct.unpack_from(">I", buf, 4)
    if version < 2:
        raise ModelError(
            f"{label}: GGUF version {version} is too old for llama.cpp; download a current GGUF of "
            "this model."
        )
    cur = _Cursor(buf, endian)
    cur.pos = 8
    try:
        n_tensors = cur.read("Q")
        n_kv = cur.read("Q")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = cur.string()
            meta[key] = cur.value(cur.read("I"))
        raw_tensors = []
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.read("I")
            shape = tuple(cur.read("Q") for _ in range(n_dims))
            raw_tensors.append((name, shape, cur.read("I"), cur.read("Q")))
    except (struct.error, ValueError, MemoryError):
        raise _header_error(label) from None

    alignment = int(meta.get("general.alignment", DEFAULT_ALIGNMENT)) or DEFAULT_ALIGNMENT
    data_offset = -(-cur.pos // alignment) * alignment

    # tensor byte sizes from type tables; unknown types fall back to the gap to the next tensor
    by_offset = sorted(range(len(raw_tensors)), key=lambda i: raw_tensors[i][3])
    gap: dict[int, int] = {}
    for j, i in enumerate(by_offset):
        nxt = raw_tensors[by_offset[j + 1]][3] if j + 1 < len(by_offset) else size - data_offset
        gap[i] = max(0, nxt - raw_tensors[i][3])
    tensors = []
    for i, (name, shape, ggml_type, offset) in enumerate(raw_tensors):
        n_elements = 1
        for d in shape:
            n_elements *= d
        info = _type_info(ggml_type)
        if info is None:
            type_name, n_bytes = f"type{ggml_type}", gap[i]
        else:
            type_name, block, per_block = info
            n_bytes = n_elements // block * per_block
        tensors.append(TensorRecord(name, shape, ggml_type, type_name, offset, n_bytes))

    return _summarise(meta, tensors, version=version, data_offset=data_offset, file_size=size,
                      path=path)


def _as_int(value: Any, default: int = 0) -> int:
    if isinstance(value, tuple):  # per-layer arrays (e.g. head_count_kv): the largest counts
        return max((int(v) for v in value), default=default)
    if value is None or isinstance(value, ArraySummary):
        return default
    return int(value)


def _summarise(meta: dict[str, Any], tensors: list[TensorRecord], *, version: int, data_offset: int,
               file_size: int, path: Path | None) -> GGUFInfo:
    arch = str(meta.get("general.architecture", "unknown"))

    def key(suffix: str, default: Any = None) -> Any:
        return meta.get(f"{arch}.{suffix}", default)

    layer_of = {}
    for t in tensors:
        m = _LAYER_RE.match(t.name)
        if m:
            layer_of[t.name] = int(m.group(1))
    n_layer = _as_int(key("block_count"), default=(max(layer_of.values()) + 1) if layer_of else 0)
    layer_bytes = [0] * max(n_layer, (max(layer_of.values()) + 1) if layer_of else 0)
    input_bytes = output_bytes = other_bytes = 0
    for t in tensors:
        if t.name in layer_of:
            layer_bytes[layer_of[t.name]] += t.n_bytes
        elif t.name.startswith("token_embd"):
            input_bytes += t.n_bytes
        elif t.name.startswith(("output.", "output_norm.")):
            output_bytes += t.n_bytes
        else:
            other_bytes += t.n_bytes

    n_embd = _as_int(key("embedding_length"))
    n_head = _as_int(key("attention.head_count"))
    n_head_kv = _as_int(key("attention.head_count_kv"), default=n_head) or n_head
    head_dim_k = _as_int(key("attention.key_length")) or (n_embd // n_head if n_head else 0)
    head_dim_v = _as_int(key("attention.value_length")) or head_dim_k
    n_vocab = _as_int(key("vocab_size"))
    if not n_vocab:
        tokens = meta.get("tokenizer.ggml.tokens")
        n_vocab = tokens.length if isinstance(tokens, ArraySummary) else len(tokens or ())
    if not n_vocab:
        embd = next((t for t in tensors if t.name == "token_embd.weight"), None)
        n_vocab = embd.shape[-1] if embd is not None and len(embd.shape) > 1 else 0

    file_type = meta.get("general.file_type")
    file_type = int(file_type) if isinstance(file_type, int) else None
    by_type = Counter(t.type_name for t in tensors)
    weight_bytes = Counter()
    for t in tensors:
        if t.name in layer_of and len(t.shape) >= 2:
            weight_bytes[t.type_name] += t.n_bytes
    quant = quant_name(file_type) or (weight_bytes.most_common(1)[0][0] if weight_bytes else "unknown")

    names = [t.name for t in tensors]
    if any(_MERGED_EXPERT_RE.match(n) for n in names):
        expert_layout: str | None = "merged"
    elif any(_SPLIT_EXPERT_RE.match(n) for n in names):
        expert_layout = "split"
    else:
        expert_layout = None

    expected = data_offset + max((t.offset + t.n_bytes for t in tensors), default=0)
    template = meta.get("tokenizer.chat_template")
    return GGUFInfo(
        path=path,
        version=version,
        architecture=arch,
        name=meta.get("general.name"),
        n_layer=n_layer,
        n_ctx_train=_as_int(key("context_length")),
        n_embd=n_embd,
        n_ff=_as_int(key("feed_forward_length")),
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim_k=head_dim_k,
        head_dim_v=head_dim_v,
        n_expert=_as_int(key("expert_count")),
        n_expert_used=_as_int(key("expert_used_count")),
        n_vocab=n_vocab,
        file_type=file_type,
        quant=quant,
        chat_template=template if isinstance(template, str) else None,
        tensor_count=len(tensors),
        tensor_bytes=sum(t.n_bytes for t in tensors),
        layer_bytes=tuple(layer_bytes),
        input_bytes=input_bytes,
        output_bytes=output_bytes,
        other_bytes=other_bytes,
        data_offset=data_offset,
        expected_file_size=expected,
        file_size=file_size,
        expert_layout=expert_layout,
        tensor_types=tuple(by_type.most_common()),
        metadata=MappingProxyType(meta),
        tensors=tuple(tensors),
    )


def read_info(path: Path | str) -> GGUFInfo:
    """Read the header of the GGUF file at ``path`` (memory-mapped; only header pages are touched).

    Raises :class:`~core.errors.ModelError` when the file is missing, not GGUF, or its header is cut
    short. A file whose header is whole but whose data is cut short parses fine and reports
    ``is_truncated``; :func:`inference.download.verify` turns that into an error. Start-up asks for
    the window, the offload plan and the model's own check: the header is parsed once per file
    version (path, size, modification time).
    """
    p = Path(path)
    try:
        stat = p.stat()
    except OSError:
        return _read_info(p, None)  # the errors are worded there
    return _read_info(p, (stat.st_size, stat.st_mtime_ns))


@lru_cache(maxsize=16)
def _read_info(p: Path, version: tuple[int, int] | None) -> GGUFInfo:
    try:
        with open(p, "rb") as f:
            size = p.stat().st_size
            if size < 24:
                return parse_header(f.read(), file_size=size, path=p)
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                view = memoryview(mm)
                try:
                    return parse_header(view, file_size=size, path=p)
                finally:
                    view.release()
    except FileNotFoundError:
        raise ModelError(
            f"{p}: no such model file; check the path or pull the model with `folio models pull NAME`."
        ) from None
    except IsADirectoryError:
        raise ModelError(f"{p}: this is a folder, not a .gguf model file; point Folio at the file.") from None
    except PermissionError:
        raise ModelError(f"{p}: Folio may not read this model file; fix its permissions.") from None


#: Short name for :func:`read_info` (``gguf_info.read(path)``).
read = read_info
