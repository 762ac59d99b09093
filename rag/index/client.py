"""Chroma clients: the index in a folder on disk, or a Chroma server.

Telemetry is off either way (nothing leaves the machine). A server's token goes as
``Authorization: Bearer`` to the proxy that guards it: Chroma's own server has no authentication,
so never expose it without one (see docs/deploying.md).

>>> open_server_client("ftp://index-host")
Traceback (most recent call last):
...
core.errors.FolioError: FOLIO_CHROMA_URL 'ftp://index-host' is not an http(s) URL; use e.g. http://127.0.0.1:8000.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from core.errors import FolioError


def open_client(path: Path):
    """A Chroma client on disk at ``path`` (created if missing)."""
    import chromadb
    from chromadb.config import Settings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False))


def open_server_client(url: str, *, token: str = ""):
    """A client of the Chroma server at ``url`` (``http(s)://host[:port]``), with ``token`` as a bearer token."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise FolioError(f"FOLIO_CHROMA_URL '{url}' is not an http(s) URL; use e.g. http://127.0.0.1:8000.")
    import chromadb
    from chromadb.config import Settings

    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 80),
                                   ssl=parsed.scheme == "https", headers=headers,
                                   settings=Settings(anonymized_telemetry=False))
    except Exception as error:  # chromadb raises ValueError / httpx errors when the server is not there
        raise FolioError(f"The Chroma server at {url} could not be reached ({type(error).__name__}); "
                         f"start it or unset FOLIO_CHROMA_URL.") from None
