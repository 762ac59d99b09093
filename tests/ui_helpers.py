"""Helpers for the browser test: run the real ``folio serve`` in a subprocess, and launch Debian's Chromium.

>>> port = free_port(); 1024 < port < 65536
True
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import free_port, running

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT_S = 120


@contextmanager
def folio_server(tmp_path: Path, *, env: dict[str, str], args: Sequence[str] = ()):
    """Start ``python -m app.cli serve [args]`` on a free port; yield (url, log path); always stop it."""
    port = free_port()
    log = tmp_path / "serve.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False", **env}
    with running([sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args], port=port, log=log,
                 name="folio serve", timeout_s=START_TIMEOUT_S, cwd=REPO, env=full_env):
        yield f"http://127.0.0.1:{port}/", log


def chromium_path() -> str:
    """Debian's Chromium; a clear failure (not a skip) when it is missing, since CI installs it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Chromium is not on the PATH; install Debian's package: "
                    "apt-get install -y chromium (the browser test never runs 'playwright install').")
    return path


@contextmanager
def chromium_browser():
    """Headless Chromium, driven by Playwright's sync API (one per test module: pages are cheap)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_page(*, viewport: dict | None = None, locale: str = "en-US"):
    """A fresh page in its own headless Chromium."""
    with chromium_browser() as browser:
        yield new_page(browser, viewport=viewport, locale=locale)


def new_page(browser, *, viewport: dict | None = None, locale: str = "en-US"):
    """A page whose browser says it prefers ``locale`` (the Accept-Language header)."""
    return browser.new_page(viewport=viewport or {"width": 1400, "height": 1000}, locale=locale)


def choose(page, elem_id: str, option: str) -> None:
    """Pick ``option`` in the Gradio dropdown ``#elem_id`` like a user: open it, click the option."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


@contextmanager
def in_process_app(folio, *, watcher=None):
    """The page of ``folio`` served from this process on a free port (for fast tests with fakes); yields the URL."""
    from app.ui import build_ui
    from app.web import launch_options

    demo = build_ui(folio, watcher=watcher)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options(folio.settings))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
