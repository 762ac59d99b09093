"""How fast a chat model reads a prompt and writes an answer, measured on this machine.

:func:`calibrate` is the short measurement Folio makes when it loads a model (about a second with
the stand-in on 2 cores, a few with Mixtral on a CPU): it reads a prompt of :data:`CALIBRATION_TOKENS`
tokens it has never seen (nothing cached) and writes :data:`CALIBRATION_ANSWER` tokens, and returns
both speeds. :func:`speed_key` names what the speeds depend on: the model file, the llama.cpp build
and the offload plan (``app.pacing`` stores them under that key and refines them from real answers).

>>> from core.chat import FakeChatModel
>>> first_token_seconds(FakeChatModel(), [{"role": "user", "content": "Hi"}]) < 1.0
True
>>> speed_key({"path": "/m/mixtral.Q4_K_M.gguf", "size": 26441533856, "n_gpu_layers": 0, "n_ctx": 32768,
...            "threads": 2, "build": "0.3.36+cpu"})
'mixtral.Q4_K_M.gguf:26441533856|0.3.36+cpu|gpu=0,ctx=32768,threads=2'
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.chat import ChatModel, Message, PromptRead

CALIBRATION_TOKENS = 256   # long enough to time reading, short enough to take seconds even for Mixtral on a CPU
CALIBRATION_ANSWER = 16
_WORDS = ("depot", "timetable", "brake", "inspection", "ticket", "platform", "conductor", "weekday", "holiday",
          "cargo", "signal", "maintenance", "station", "crane", "route", "evening", "morning", "passenger")


@dataclass(frozen=True)
class Speed:
    """Tokens per second this machine reads a prompt (``prompt_tps``) and writes an answer (``generation_tps``)."""

    prompt_tps: float
    generation_tps: float


def first_token_seconds(model: ChatModel, messages: Sequence[Message]) -> float:
    """Seconds from asking until the first piece of the answer arrives (the prompt read, one token decoded)."""
    start = time.perf_counter()
    stream = model.stream(messages, max_tokens=8, temperature=0.0)
    next(stream, None)
    seconds = time.perf_counter() - start
    stream.close()
    return seconds


def calibration_messages(tokens: int = CALIBRATION_TOKENS, *, seed: int | None = None) -> list[Message]:
    """A prompt of about ``tokens`` tokens of plain words, shuffled so no model has it cached."""
    rng = random.Random(seed)
    words = " ".join(rng.choice(_WORDS) for _ in range(int(tokens * 0.8)))
    return [{"role": "user", "content": f"{rng.random():.6f} Repeat these words: {words}"}]


def calibrate(model: ChatModel, *, tokens: int = CALIBRATION_TOKENS, answer_tokens: int = CALIBRATION_ANSWER) -> Speed:
    """Time ``model`` reading a fresh prompt of about ``tokens`` tokens and writing ``answer_tokens``.

    Backends that report :class:`core.chat.PromptRead` are timed on the tokens they actually read;
    others from the time to the first piece of text.
    """
    messages = calibration_messages(tokens)
    prompt_tokens = model.count_tokens(messages)
    started = time.perf_counter()
    read: PromptRead | None = None
    first_at, pieces = None, 0
    for event in model.stream_events(messages, max_tokens=answer_tokens, temperature=0.0):
        if isinstance(event, PromptRead):
            read = event
        elif isinstance(event, str):
            if first_at is None:
                first_at = time.perf_counter()
            pieces += 1
    finished = time.perf_counter()
    first_at = first_at or finished
    if read is not None and read.done == read.total and read.seconds > 0:
        prompt_tps = read.total / read.seconds
    else:
        prompt_tps = prompt_tokens / max(first_at - started, 1e-6)
    timing = getattr(model, "last_timing", None) or {}
    if timing.get("decode_s") and timing.get("generated_tokens", 0) > 1:
        generation_tps = (timing["generated_tokens"] - 1) / timing["decode_s"]
    else:
        generation_tps = (pieces - 1) / (finished - first_at) if pieces > 1 and finished > first_at else 0.0
    return Speed(prompt_tps=prompt_tps, generation_tps=generation_tps)


def llama_build() -> str:
    """This llama-cpp-python build: its version, and whether it can offload to a GPU."""
    try:
        import llama_cpp

        return f"{llama_cpp.__version__}+{'gpu' if llama_cpp.llama_supports_gpu_offload() else 'cpu'}"
    except Exception:  # noqa: BLE001 - no llama.cpp here (a remote engine): the key says so
        return "none"


def speed_key(info: dict) -> str:
    """What measured speeds are valid for: the model file (name and size), the build and the offload plan."""
    from pathlib import PurePath

    model = f"{PurePath(info['path']).name}:{info.get('size', 0)}" if info.get("path") else str(info.get("url", "?"))
    plan = f"gpu={info.get('n_gpu_layers', 0)},ctx={info.get('n_ctx', 0)},threads={info.get('threads', 0)}"
    return f"{model}|{info.get('build', 'none')}|{plan}"
