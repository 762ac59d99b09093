"""This machine's measured speed for each model: calibrated at load, refined after every answer.

The speeds (:class:`inference.speed.Speed`) live in ``FOLIO_HOME/pacing.json``, one entry per
:func:`inference.speed.speed_key` (model file, llama.cpp build, offload plan): a model loaded again
with the same plan is not measured again; another plan, build or file is. After each answer the
speeds move towards what that answer measured (:func:`ema`), so a calibration that was off by the
prompt's length or a busy machine corrects itself within a few answers.

:func:`app.service.answer_events` hands the prompt speed to :func:`rag.answering.answer_stream`, which
sizes the sources to the ``ttft_target_s`` setting, so the CLI and the web app size the context alike.

>>> ema(100.0, 200.0), ema(None, 200.0)
(130.0, 200.0)
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path

from core.chat import ChatModel
from inference.speed import Speed, calibrate, llama_build, speed_key

PACING_FILE = "pacing.json"
ALPHA = 0.3              # weight of the newest answer in the moving average
MIN_READ_TOKENS = 64     # an answer that read fewer new prompt tokens (a follow-up with a cached prefix) says little
MIN_DECODE_TOKENS = 8


def ema(old: float | None, new: float, *, alpha: float = ALPHA) -> float:
    """The exponential moving average ``old`` moved ``alpha`` of the way towards ``new``."""
    return new if not old else round((1 - alpha) * old + alpha * new, 6)


def model_key(chat: ChatModel, info: dict, *, threads: int) -> str:
    """The :func:`inference.speed.speed_key` of the loaded model ``chat`` described by ``info``."""
    described = dict(info)
    path = info.get("path")
    if path:
        try:
            described["size"] = Path(path).stat().st_size
        except OSError:
            described["size"] = 0
        described["build"] = llama_build()
        described["threads"] = threads
    else:
        described["url"] = f"{info.get('url', '?')}#{info.get('name', chat.name)}"
    described["n_ctx"] = chat.n_ctx
    return speed_key(described)


class Pacing:
    """The speeds measured on this machine, by model key, kept in ``FOLIO_HOME/pacing.json``."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / PACING_FILE
        self._lock = threading.Lock()

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write(self, entries: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)

    def speed(self, key: str) -> Speed | None:
        entry = self._read().get(key)
        if not entry or not entry.get("prompt_tps"):
            return None
        return Speed(prompt_tps=float(entry["prompt_tps"]), generation_tps=float(entry.get("generation_tps") or 0.0))

    def entry(self, key: str) -> dict:
        return dict(self._read().get(key) or {})

    def calibrate(self, key: str, chat: ChatModel) -> Speed:
        """The stored speed for ``key``, or measure ``chat`` now (:func:`inference.speed.calibrate`) and store it."""
        known = self.speed(key)
        if known is not None:
            return known
        measured = calibrate(chat)
        with self._lock:
            entries = self._read()
            entries[key] = {**asdict(measured), "calibration": asdict(measured), "answers": 0,
                            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            self._write(entries)
        return measured

    def refine(self, key: str, stats) -> Speed | None:
        """Move the speeds for ``key`` towards what an answer's :class:`rag.answering.Stats` measured."""
        prompt = stats.read_tokens / stats.prefill_s if stats.read_tokens >= MIN_READ_TOKENS and stats.prefill_s > 0 else None
        decode = stats.tokens_per_s if stats.completion_tokens >= MIN_DECODE_TOKENS and stats.tokens_per_s > 0 else None
        if prompt is None and decode is None:
            return self.speed(key)
        with self._lock:
            entries = self._read()
            entry = entries.get(key) or {}
            if prompt is not None:
                entry["prompt_tps"] = ema(entry.get("prompt_tps"), prompt)
                entry["last_prompt_tps"] = round(prompt, 3)
            if decode is not None:
                entry["generation_tps"] = ema(entry.get("generation_tps"), decode)
            entry["answers"] = int(entry.get("answers") or 0) + 1
            entries[key] = entry
            self._write(entries)
        return Speed(prompt_tps=float(entry.get("prompt_tps") or 0.0), generation_tps=float(entry.get("generation_tps") or 0.0))
