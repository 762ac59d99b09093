"""Tasks for the sandbox tests, in a module of their own so the worker imports only this (and not a
test module with Chroma behind it) before a timed task starts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from rag.sandbox import report_progress


def steps(count: int, seconds: float) -> str:
    """A task that takes ``count`` steps of ``seconds`` each and reports each one, like OCR pages."""
    report_progress(0, count)
    for done in range(1, count + 1):
        time.sleep(seconds)
        report_progress(done, count)
    return "done"


def sleeps_in_a_child(pid_file: str) -> None:
    """A task stuck waiting for a program it started (as a page waits for Tesseract)."""
    child = subprocess.Popen(["sleep", "60"])
    Path(pid_file).write_text(str(child.pid))
    child.wait()
