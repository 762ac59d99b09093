"""The chat model answers come from: loaded at start-up, switched at run time, held by each answer.

The web app may swap the chat model for another local one while it runs (:meth:`ChatSlot.switch`).
Each answer holds the model it started with (:meth:`ChatSlot.using`), so a switch never breaks an
answer in progress: the replaced model is closed once its last answer ends (:class:`ChatLeases`).

>>> from core.chat import FakeChatModel
>>> slot = ChatSlot(FakeChatModel(), {"name": "fake-chat"})
>>> with slot.using() as chat:
...     chat.name
'fake-chat'
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings, save_settings
from core.chat import ChatModel
from core.errors import FolioError

if TYPE_CHECKING:
    from inference.registry import LocalModel


def load_chat(settings: Settings) -> tuple[ChatModel, dict]:
    """The chat model ``settings`` ask for (:func:`inference.choice.load_chat`), and its description.

    A local model's speed on this machine is measured now unless it already was with this build and
    plan (:mod:`app.pacing`); ``info["pacing_key"]`` names the speeds its answers are sized by.
    """
    from app.pacing import Pacing, model_key
    from inference.choice import load_chat as load

    chat, info = load(model=settings.model, models_dir=settings.models_dir, n_ctx=settings.n_ctx,
                      n_gpu_layers=settings.n_gpu_layers, threads=settings.threads, llm_url=settings.llm_url,
                      api_key=settings.llm_api_key)
    info["pacing_key"] = model_key(chat, info, threads=settings.threads)
    if info.get("path"):  # a remote engine is not timed at start-up: its answers teach its speed
        try:
            Pacing(settings.home).calibrate(info["pacing_key"], chat)
        except BaseException:
            chat.close()
            raise
    return chat, info


class ChatLeases:
    """How many answers are using each chat model, so that a replaced model is closed only once none is.

    >>> class Model:
    ...     closed = False
    ...     def close(self): self.closed = True
    >>> leases, old = ChatLeases(), Model()
    >>> leases.take(old); leases.retire(old); old.closed      # an answer still streams from it
    False
    >>> leases.give_back(old); old.closed                      # the answer ended: now it goes
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}
        self._retired: dict[int, ChatModel] = {}

    def take(self, model: ChatModel) -> None:
        with self._lock:
            self._users[id(model)] = self._users.get(id(model), 0) + 1

    def give_back(self, model: ChatModel) -> None:
        with self._lock:
            left = self._users.pop(id(model)) - 1
            if left:
                self._users[id(model)] = left
            close = not left and self._retired.pop(id(model), None) is not None
        if close:
            model.close()

    def retire(self, model: ChatModel) -> None:
        """Close ``model`` now if no answer uses it, else when the last one ends."""
        with self._lock:
            if self._users.get(id(model)):
                self._retired[id(model)] = model
                return
        model.close()


class ChatSlot:
    """The chat model in use (``current``, described by ``info``), the answers holding it, and switching."""

    def __init__(self, chat: ChatModel | None = None, info: dict | None = None) -> None:
        self.current = chat
        self.info: dict = dict(info or {})
        self._lock = threading.Lock()
        self._leases = ChatLeases()
        self._switching = threading.Lock()

    @contextmanager
    def using(self) -> Iterator[ChatModel]:
        """The chat model for one answer, held until the answer ends: a model switched away from meanwhile
        keeps serving it and is closed afterwards (``llama_cpp.Llama`` must not be closed mid-answer)."""
        with self.serving() as (chat, _):
            yield chat

    @contextmanager
    def serving(self) -> Iterator[tuple[ChatModel, dict]]:
        """:meth:`using`, with the description of that model (``info`` may change meanwhile, by a switch)."""
        with self._lock:
            chat, info = self.current, dict(self.info)
            if chat is None:
                raise FolioError("No language model is loaded in this process; start it with the model enabled.")
            self._leases.take(chat)
        try:
            yield chat, info
        finally:
            self._leases.give_back(chat)

    def choices(self, settings: Settings) -> tuple[list[LocalModel], str | None]:
        """The local chat models one can switch to, and the ``name`` of the one in use.

        None with a remote engine (``FOLIO_LLM_URL``): it serves its own models. A model in use that
        lies outside ``FOLIO_HOME/models`` (``FOLIO_MODEL=/elsewhere/x.gguf``) is listed too.
        """
        from inference import registry

        if settings.llm_url:
            return [], None
        models = registry.local_llms(settings.models_dir)
        loaded = self.info.get("path")
        if not loaded:
            return models, None
        in_use = next((m.name for m in models if _same_file(m.path, loaded)), None)
        if in_use is None:
            models.append(registry.LocalModel(name=str(loaded), path=Path(loaded), label=Path(loaded).name))
            in_use = str(loaded)
        return models, in_use

    def switch(self, name: str, *, settings: Settings) -> dict:
        """Answer with the local model ``name`` (a :meth:`choices` name) from now on; returns its description.

        The new model is loaded like at start-up and the choice saved as ``model`` in folio.toml (the next
        start uses it) before it replaces the old one, which is closed once no answer uses it. If
        anything fails (a missing or corrupt file, not enough memory) a :class:`FolioError` says why and
        the old model keeps answering. Both models are in memory for a moment, so on a GPU the new
        one is planned with the memory the old one leaves free: it may get fewer layers than after a restart.
        """
        if settings.llm_url:
            raise FolioError(f"The models are served by the engine at {settings.llm_url} (FOLIO_LLM_URL); "
                             "switch models there, or unset FOLIO_LLM_URL to use local ones.")
        with self._switching:
            models, in_use = self.choices(settings)
            _check_local(name, models, models_dir=settings.models_dir)
            if name == in_use:  # nothing to load; the choice is still saved for the next start
                _save_model(settings, name)
                return self.info
            chat, info = load_chat(replace(settings, model=name))
            try:
                _save_model(settings, name)
            except BaseException:
                chat.close()
                raise
            with self._lock:
                old, self.current, self.info = self.current, chat, info
            if old is not None:
                self._leases.retire(old)
            return info

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


def _save_model(settings: Settings, name: str) -> None:
    try:
        save_settings(settings, model=name)
    except OSError as error:
        raise FolioError(f"{settings.home / 'folio.toml'}: the choice of model could not be saved "
                         f"({error.strerror or error}); check that folder's permissions and free space.") from None


def _check_local(name: str, models: list[LocalModel], *, models_dir: Path) -> None:
    """Refuse, in one sentence, a name that is not among the local chat models."""
    if any(m.name == name for m in models):
        return
    if Path(name).suffix == ".gguf":
        raise FolioError(f"The model file {name} is not among the local models (it was moved or deleted); "
                         f"pick one from the list, or put the file in {models_dir}.")
    from inference import registry
    from inference.choice import resolve_model_path

    spec = registry.get(name)  # an unknown name: the error lists the known ones
    if spec.kind == "llm":
        resolve_model_path(spec.name, models_dir=models_dir)  # not pulled: says how to pull it
    raise FolioError(f"The model {spec.name} is not a local chat model; pick one from the list.")


def _same_file(a: Path | str, b: Path | str) -> bool:
    """The same path, made absolute but with links kept (a link to a model is a model of its own)."""
    return os.path.abspath(a) == os.path.abspath(b)
