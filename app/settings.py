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

from rag.errors import FolioError

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path = Path(user_data_dir("folio", appauthor=False))
    collection: str = "default"
    # models
    model: str = "bundled"              # "bundled", a registry name, or a path to a .gguf file
    llm_url: str = ""                   # an OpenAI-compatible server instead of the in-process model
    llm_api_key: str = ""               # its bearer token, if it wants one
    n_ctx: int = 8192                   # capped by the model's trained context
    n_threads: int = 0                  # 0: all cores
    n_gpu_layers: int = -1              # -1: as many as the plan says fit
    embedder: str = "use-multilingual-v3"
    # retrieval and answers
    top_k: int = 5                      # passages shown by `folio search`
    candidates: int = 24                # passages retrieved for an answer (packed while they fit)
    answer_tokens: int = 512
    temperature: float = 0.2
    language: str = "auto"
    chunk_tokens: int = 200            # USE tokens; 120 and 160 measured worse on `folio eval`
    chunk_overlap: int = 40
    # ingestion and web
    max_file_mb: int = 100
    max_upload_mb: int = 100
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = ""                      # "user:password" for the web app
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
        base = {"home": home, "n_ctx": 2048, "answer_tokens": 64, "temperature": 0.0, "candidates": 12}
        return cls(**_typed({**base, **overrides}))

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **_typed(changes))

    def as_dict(self) -> dict:
        secret = {"auth", "llm_api_key"}
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
            elif kind == "int":
                typed[name] = int(value)
            elif kind == "float":
                typed[name] = float(value)
            else:
                typed[name] = str(value)
        except ValueError:
            raise FolioError(f"Setting '{name}' must be a {kind}, not '{value}' (check FOLIO_{name.upper()} or folio.toml).") from None
    return typed
