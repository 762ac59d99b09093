"""The one place where a :class:`~core.errors.FolioError` becomes ``gr.Error`` (a message on the page)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import gradio as gr

from core.errors import FolioError


def user_errors(fn: Callable) -> Callable:
    """Turn a FolioError raised by ``fn`` (a function or a generator function) into ``gr.Error``."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except FolioError as error:
                raise _shown(error) from None
        return generator

    @functools.wraps(fn)
    def function(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FolioError as error:
            raise _shown(error) from None
    return function


def _shown(error: FolioError) -> gr.Error:
    # The message is the whole story (one sentence naming the file and the fix): no traceback in the log.
    return gr.Error(str(error), print_exception=False)
