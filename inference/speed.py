"""How fast a chat model reads a prompt and writes an answer, measured on this machine.

>>> from core.chat import FakeChatModel
>>> first_token_seconds(FakeChatModel(), [{"role": "user", "content": "Hi"}]) < 1.0
True
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from core.chat import ChatModel, Message


def first_token_seconds(model: ChatModel, messages: Sequence[Message]) -> float:
    """Seconds from asking until the first piece of the answer arrives (the prompt read, one token decoded)."""
    start = time.perf_counter()
    stream = model.stream(messages, max_tokens=8, temperature=0.0)
    next(stream, None)
    seconds = time.perf_counter() - start
    stream.close()
    return seconds
