"""One typed settings object, built once at start-up and passed down.

Sources, strongest last: the defaults below, ``FOLIO_HOME/folio.toml``, then ``FOLIO_*``
environment variables (``FOLIO_N_CTX=8192`` sets ``n_ctx``). :meth:`Settings.for_tests` is the test
profile: a small window and few tokens, so the suite runs fast on two cores.

>>> s = Settings.load(env={"FOLIO_HOME": "/tmp/folio-doc", "FOLIO_TOP_K": "7"})
>>> s.home.as_posix(), s.top_k, s.collection
('/tmp/folio-doc', 7, 'default')
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from platformdirs import user_data_dir

from core.errors import FolioError

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WatchedFolder:
    """A folder kept in step with a collection (``folio serve`` watches it; the web app's Folders list)."""

    path: Path
    collection: str = "default"

    def as_dict(self) -> dict:
        return {"path": str(self.path), "collection": self.collection}


@dataclass(frozen=True)
class Settings:
    home: Path = Path(user_data_dir("folio", appauthor=False))
    collection: str = "default"
    # models
    model: str = "bundled"              # "bundled", a registry name, or a path to a .gguf file
    llm_url: str = ""                   # an OpenAI-compatible server instead of the in-process model
    llm_api_key: str = ""               # its bearer token, if it wants one
    n_ctx: int = 0                      # 0: 32768 (Mixtral's window), 2048 for the CPU stand-in; capped by the model
    n_threads: int = 0                  # 0: all cores
    n_gpu_layers: int = -1              # -1: as many as the plan says fit
    embedder: str = "use-multilingual-v3"
    second_embedder: str = "multilingual-e5-small"  # a slower, stronger second pass in the background ("" for none)
    chroma_url: str = ""                # a Chroma server instead of the index under FOLIO_HOME
    chroma_token: str = ""              # bearer token for the proxy in front of it
    replica: bool = False               # read-only: documents come from the writer sharing the Chroma server
    replica_sync_s: float = 10.0        # a replica refreshes its document list at most this often
    # retrieval and answers
    top_k: int = 5                      # passages shown by `folio search`
    candidates: int = 0                 # passages retrieved for an answer; 0: as many as the context budget needs
    ttft_target_s: float = 10.0         # size the packed sources so the first word comes within this many seconds
    translate_questions: bool = False   # a capable model (not the stand-in) also searches the question in the other four languages
    answer_tokens: int = 512
    temperature: float = 0.2
    language: str = "auto"
    chunk_tokens: int = 200            # USE tokens; 120 and 160 measured worse on `folio eval`
    chunk_overlap: int = 0             # 40 measured: same hit@5, dense MRR 0.83 vs 0.86, indexing 21% slower
    # ingestion and web
    max_file_mb: int = 100
    parse_timeout_s: float = 60.0       # a file whose parsing takes longer fails (decompression bombs)
    parse_memory_mb: int = 1024         # ... or needs more memory than this
    max_upload_mb: int = 100
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = ""                      # "user:password" for the web app
    folders: tuple[WatchedFolder, ...] = ()  # watched while `folio serve` runs; FOLIO_FOLDERS: paths, os.pathsep apart
    # integrations (app.openai_api, app.mcp_server)
    openai_api: bool = False            # `serve` also answers /v1/models and /v1/chat/completions
    mcp: bool = False                   # `serve` also speaks MCP over HTTP at /mcp
    api_token: str = ""                 # bearer token for /v1 and /mcp; required when bound beyond loopback
    allow_ingest_from: str = ""         # folders (os.pathsep-separated) MCP's ingest tool may read, with --allow-ingest
    sample_docs: Path = REPO_ROOT / "sample_docs"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.sqlite3"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def ingest_folders(self) -> tuple[Path, ...]:
        """The folders of ``allow_ingest_from``, resolved (``~`` expanded).

        >>> Settings(allow_ingest_from=os.pathsep.join(["/srv/docs", "", "/srv/mail"])).ingest_folders
        (PosixPath('/srv/docs'), PosixPath('/srv/mail'))
        """
        return tuple(Path(p).expanduser().resolve() for p in self.allow_ingest_from.split(os.pathsep) if p.strip())

    @property
    def threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1

    @classmethod
    def load(cls, *, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then ``folio.toml`` in the home folder, then ``FOLIO_*`` variables, then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        home = Path(overrides.get("home") or env.get("FOLIO_HOME") or cls.home).expanduser()
        toml_path = home / "folio.toml"
        if toml_path.is_file():
            try:
                values.update(tomllib.loads(toml_path.read_text(encoding="utf-8")))
            except tomllib.TOMLDecodeError as error:
                raise FolioError(f"{toml_path}: it is not valid TOML ({error}); fix or delete it.") from None
        for field in fields(cls):
            key = f"FOLIO_{field.name.upper()}"
            if key in env:
                values[field.name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["home"] = home
        return cls(**_typed(values))

    @classmethod
    def for_tests(cls, home: Path, **overrides: Any) -> "Settings":
        """The test profile: small window, short answers, deterministic sampling."""
        base = {"home": home, "n_ctx": 2048, "answer_tokens": 64, "temperature": 0.0, "candidates": 0,
                "second_embedder": ""}
        return cls(**_typed({**base, **overrides}))

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **_typed(changes))

    def as_dict(self) -> dict:
        secret = {"auth", "llm_api_key", "chroma_token", "api_token"}
        return {f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v) for f in fields(self)
                if f.name not in secret} | {name: "set" if getattr(self, name) else "" for name in secret}


def _typed(values: Mapping[str, Any]) -> dict[str, Any]:
    """Convert strings from the environment or TOML to each field's type, with a clear error."""
    kinds = {f.name: f.type for f in fields(Settings)}
    typed: dict[str, Any] = {}
    for name, value in values.items():
        if name not in kinds:
            raise FolioError(f"Unknown setting '{name}'; known settings are {', '.join(sorted(kinds))}.")
        kind = kinds[name]
        try:
            if kind == "Path":
                typed[name] = Path(value).expanduser()
            elif name == "folders":
                typed[name] = _folders(value)
            elif kind == "int":
                typed[name] = int(value)
            elif kind == "float":
                typed[name] = float(value)
            elif kind == "bool":
                typed[name] = _boolean(value)
            else:
                typed[name] = str(value)
        except ValueError:
            kind = "boolean (1 or 0)" if kind == "bool" else kind
            raise FolioError(f"Setting '{name}' must be a {kind}, not '{value}' (check FOLIO_{name.upper()} or folio.toml).") from None
    return typed


def _folders(value: Any) -> tuple[WatchedFolder, ...]:
    """Watched folders from TOML (``[[folders]]`` tables with ``path`` and ``collection``, or plain paths), from
    ``FOLIO_FOLDERS`` (paths separated by the system's path separator: the default collection), or as given.

    >>> _folders([{"path": "/docs/manuals", "collection": "work"}, "/docs/mail"])
    (WatchedFolder(path=PosixPath('/docs/manuals'), collection='work'), WatchedFolder(path=PosixPath('/docs/mail'), collection='default'))
    """
    if isinstance(value, str):
        value = [part for part in value.split(os.pathsep) if part.strip()]
    folders = []
    for item in value:
        if isinstance(item, WatchedFolder):
            folders.append(item)
        elif isinstance(item, Mapping):
            if "path" not in item:
                raise ValueError(item)
            folders.append(WatchedFolder(Path(item["path"]).expanduser(), str(item.get("collection") or "default")))
        else:
            folders.append(WatchedFolder(Path(str(item)).expanduser()))
    return tuple(folders)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _boolean(value: Any) -> bool:
    """True for ``1``, ``true``, ``yes``, ``on`` (any case) or TOML's true; false for ``0``, ``false``, ``no``, ``off``, empty.

    >>> _boolean("Yes"), _boolean("0"), _boolean(True)
    (True, False, True)
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(value)


# The settings a user changes from the web app; the others stay with the environment and folio.toml.
USER_SETTINGS = ("candidates", "top_k", "temperature", "language", "n_ctx", "answer_tokens", "model", "folders",
                 "ttft_target_s")


def save_settings(settings: Settings, **changes: Any) -> Path:
    """Write ``changes`` into ``FOLIO_HOME/folio.toml``, keeping what else the file holds; returns its path.

    Only user-facing settings are accepted, checked like the environment's (type and range). The
    file is replaced atomically. ``FOLIO_*`` variables still win over the file at the next start.

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> path = save_settings(Settings(home=home), temperature="0.5", language="fr")
    >>> print(path.read_text().strip())
    temperature = 0.5
    language = "fr"
    >>> Settings.load(env={"FOLIO_HOME": str(home)}).language
    'fr'
    """
    import tomli_w

    from rag.documents import LANGUAGES

    unknown = sorted(set(changes) - set(USER_SETTINGS))
    if unknown:
        raise FolioError(f"'{unknown[0]}' cannot be changed here; set FOLIO_{unknown[0].upper()} or edit folio.toml.")
    typed = _typed(changes)
    if "language" in typed and typed["language"] not in ("auto", *LANGUAGES):
        raise FolioError(f"The answer language must be auto or one of {', '.join(LANGUAGES)}, not '{typed['language']}'.")
    if "temperature" in typed and not 0.0 <= typed["temperature"] <= 2.0:
        raise FolioError("The temperature must be between 0 and 2.")
    if "ttft_target_s" in typed and not 1.0 <= typed["ttft_target_s"] <= 3600.0:
        raise FolioError("The first-word target (ttft_target_s) must be between 1 and 3600 seconds.")
    for name, low in (("candidates", 0), ("top_k", 1), ("n_ctx", 512), ("answer_tokens", 16)):
        if name in typed and typed[name] < low:
            raise FolioError(f"Setting '{name}' must be at least {low}.")
    path = settings.home / "folio.toml"
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            current = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise FolioError(f"{path}: it is not valid TOML ({error}); fix or delete it.") from None
    current.update({k: [f.as_dict() for f in v] if k == "folders" else v for k, v in typed.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(tomli_w.dumps(current), encoding="utf-8")
    os.replace(temporary, path)
    return path
