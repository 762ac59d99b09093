"""Eight people chatting at once through the real app: all answered, nothing crosses between them,
and stopping one answer leaves the others running."""

from __future__ import annotations

import pytest

from tests.test_ui_browser import ANSWERED, WATCH_ANSWER, _open, _upload
from tests.ui_helpers import chromium_browser, folio_server, new_page

DEPOTS = [("Amber", 5), ("Birch", 6), ("Cedar", 7), ("Dune", 8), ("Elm", 9), ("Fjord", 10), ("Granite", 11),
          ("Heather", 4)]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sessions")
    (tmp / "no-samples").mkdir()
    env = {"FOLIO_HOME": str(tmp / "home"), "FOLIO_SAMPLE_DOCS": str(tmp / "no-samples"), "FOLIO_N_CTX": "2048",
           "FOLIO_ANSWER_TOKENS": "32", "FOLIO_TEMPERATURE": "0"}
    with folio_server(tmp, env=env) as (url, _log):
        yield url


@pytest.mark.browser
@pytest.mark.slow
def test_eight_sessions_at_once(served, tmp_path):
    from playwright.sync_api import expect

    files = []
    for name, hour in DEPOTS:
        path = tmp_path / f"{name.lower()}_depot.txt"
        path.write_text(f"The {name} depot of the cooperative opens at {hour}:15 and closes at {hour + 12}:45.")
        files.append(path)
    with chromium_browser() as browser:
        pages = [new_page(browser) for _ in DEPOTS]
        for page in pages:
            _open(page, served)
        _upload(pages[0], expect, *files)
        for page, (name, _) in zip(pages, DEPOTS):
            page.evaluate(WATCH_ANSWER)
            page.locator("#folio-question textarea").fill(f"When does the {name} depot open?")
            page.get_by_role("button", name="Ask", exact=True).click()
        first = pages[0]  # answered first: stop it while it streams
        first.wait_for_function("() => window.__folioLengths.some(n => n > 0)", timeout=120_000)
        first.get_by_role("button", name="Stop", exact=True).click()
        for page, (name, _) in zip(pages, DEPOTS):
            page.wait_for_function(ANSWERED, timeout=240_000)
            users = page.locator("#folio-chat [data-testid='user']")
            expect(users).to_have_count(1)
            expect(users.first).to_contain_text(f"When does the {name} depot open?")
            sources = page.locator("#folio-sources")
            expect(sources).to_contain_text(f"[1] {name.lower()}_depot.txt")
            asked = page.locator("#folio-chat [data-testid='user']").all_inner_texts()
            assert not [n for n, _ in DEPOTS if n != name and any(n in text for text in asked)], "a question crossed"
        expect(first.locator("#folio-stats")).to_contain_text("stopped")
        for page in pages[1:]:
            assert "stopped" not in page.locator("#folio-stats").inner_text(), "stopping one stopped another"
            assert page.locator("#folio-chat [data-testid='bot']").last.inner_text().strip()
