"""Servers the tests start on 127.0.0.1 (``folio serve``, ``chroma run``, llama.cpp's server): a free
port, a log file instead of a pipe (a full pipe would stall the server), a wait until it answers, and
always a stop.

>>> port = free_port(); 1024 < port < 65536 and not port_answers(port)
True
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def log_tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no output)"


@contextmanager
def running(command: list[str], *, port: int, log: Path, name: str, timeout_s: float = 60,
            ready: Callable[[], bool] | None = None, **popen) -> Iterator[subprocess.Popen]:
    """Run ``command`` with its output in ``log`` until ``ready()`` (default: ``port`` answers); stop it after.

    A server that exits or stays silent for ``timeout_s`` fails the test with the end of its log.
    """
    ready = ready or (lambda: port_answers(port))
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with status {process.returncode} before answering:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer on port {port} within {timeout_s} s:\n{log_tail(log)}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def llama_cpp_server(log: Path) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with the bundled GGUF on a free loopback port; yields its URL."""
    from inference.registry import bundled_llm_path

    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_llm_path()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1",
               "--interrupt_requests", "False"]
    url = f"http://127.0.0.1:{port}"

    def models_listed() -> bool:  # the port opens before the model has loaded
        try:
            return httpx.get(f"{url}/v1/models", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    with running(command, port=port, log=log, name="llama_cpp.server", ready=models_listed):
        yield url
