"""Mixtral (or any chat GGUF) in-process through llama-cpp-python, as a :class:`core.chat.ChatModel`.

One ``Llama`` per process; calls are serialised by a lock, so concurrent requests queue instead of
failing (``llama_cpp.Llama`` is not thread-safe). The prompt is rendered with the chat template
stored in the GGUF and tokenized with the model's own tokenizer, so :meth:`count_tokens` is exact
and the packer can fill the window without ever overflowing it. Consecutive prompts that share a
prefix (rules + sources, then a follow-up) re-use the KV cache: only the new tokens are evaluated.

>>> from inference.registry import bundled_llm_path  # doctest: +SKIP
>>> model = LlamaCppChatModel(bundled_llm_path(), n_ctx=2048)  # doctest: +SKIP
>>> "".join(model.stream([{"role": "user", "content": "Say hi"}], max_tokens=8))  # doctest: +SKIP
'Hi! How can I help you today?'
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.chat import ChatModel, Message
from core.errors import ModelError

_FALLBACK_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def trained_context(model_path: Path) -> int:
    """The context length the model was trained with, read from the GGUF header (no weights loaded)."""
    from inference.gguf_info import read_info

    return read_info(model_path).n_ctx_train or 4096


class LlamaCppChatModel(ChatModel):
    """A GGUF chat model loaded in this process."""

    def __init__(self, model_path: Path | str, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = 0, seed: int = 42, name: str | None = None, flash_attn: bool = False,
                 type_k: str | None = None) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model_path = Path(model_path)
        if not model_path.is_file():
            raise ModelError(f"The model file {model_path} does not exist; run 'folio models pull' or set FOLIO_MODEL to a GGUF file.")
        self.path = model_path
        self.name = name or model_path.stem
        self.n_ctx = min(n_ctx, trained_context(model_path)) if n_ctx else trained_context(model_path)
        kwargs = {}
        if type_k:
            kwargs["type_k"] = kwargs["type_v"] = {"f16": 1, "q8_0": 8}[type_k]
        try:
            threads = n_threads or os.cpu_count()
            self._llama = Llama(model_path=str(model_path), n_ctx=self.n_ctx, n_threads=threads, n_threads_batch=threads,
                                n_gpu_layers=n_gpu_layers, seed=seed, flash_attn=flash_attn, verbose=False, **kwargs)
        except ValueError as error:
            raise ModelError(f"The model {model_path.name} could not be loaded ({error}); check the file or try a smaller context.") from None
        self.n_gpu_layers = n_gpu_layers
        template = self._llama.metadata.get("tokenizer.chat_template") or _FALLBACK_TEMPLATE
        vocab = self._llama._model
        self._formatter = Jinja2ChatFormatter(
            template=template, eos_token=vocab.token_get_text(self._llama.token_eos()),
            bos_token=vocab.token_get_text(self._llama.token_bos()), add_generation_prompt=True)
        self._lock = threading.Lock()

    # -- prompt --------------------------------------------------------------------------
    def render(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        """Prompt tokens for ``messages`` with the GGUF's chat template, and the template's stop strings.

        Templates without a system role (Mixtral's) get the system text at the top of the first user turn.
        """
        from jinja2.exceptions import TemplateError

        try:
            response = self._formatter(messages=list(messages))
        except (TemplateError, ValueError):  # llama-cpp-python's raise_exception() raises ValueError (Mixtral's template)
            response = self._formatter(messages=_fold_system(messages))
        tokens = self._llama.tokenize(response.prompt.encode("utf-8"), add_bos=not response.added_special, special=True)
        stop = response.stop if isinstance(response.stop, list) else [response.stop] if response.stop else []
        return tokens, stop

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.render(messages)[0])

    def tokenize(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    # -- generation ----------------------------------------------------------------------
    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.2,
               stop: threading.Event | None = None) -> Iterator[str]:
        tokens, stop_strings = self.render(messages)
        if len(tokens) + 1 >= self.n_ctx:
            raise ModelError(f"The prompt takes {len(tokens)} tokens, more than the {self.n_ctx}-token window; ask with fewer sources.")
        max_tokens = min(max_tokens, self.n_ctx - len(tokens) - 1)
        with self._lock:
            chunks = self._llama.create_completion(prompt=tokens, max_tokens=max_tokens, temperature=temperature,
                                                   stop=stop_strings, stream=True)
            try:
                for chunk in chunks:
                    if stop is not None and stop.is_set():
                        break
                    text = chunk["choices"][0]["text"]
                    if text:
                        yield text
            finally:
                chunks.close()

    def close(self) -> None:
        self._llama.close()


def _fold_system(messages: Sequence[Message]) -> list[Message]:
    """Messages for templates without a system role: the system text heads the first user turn."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    elif system:
        rest.insert(0, {"role": "user", "content": system})
    return rest
