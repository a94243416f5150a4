"""Fixtures for end-to-end tests that drive Debian's Chromium through Playwright.

Import them into a conftest (tests/conftest.py does) and mark the test `@pytest.mark.browser`.
Without a Chromium binary the tests are skipped loudly; with OTKLIK_REQUIRE_BROWSER=1 (CI)
a missing browser is a failure, so a broken image cannot pass by skipping everything.
We never download browsers (`playwright install`); the system one is used.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_PATH = os.environ.get("OTKLIK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium binary, or skip (fail when OTKLIK_REQUIRE_BROWSER=1) if it is missing."""
    if not Path(CHROMIUM_PATH).is_file():
        message = (
            f"BROWSER TESTS NOT RUN: no Chromium at {CHROMIUM_PATH} "
            "(apt-get install chromium, or set OTKLIK_CHROMIUM)"
        )
        if os.environ.get("OTKLIK_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM_PATH


@pytest.fixture
def browser(chromium_executable, monkeypatch) -> Iterator:
    """A headless Chromium for one test.

    Playwright's sync API runs an event loop in the test thread, which makes Django refuse
    ORM calls there ("async context"); the test thread only sets up and checks data, so
    that check is switched off for the duration of the test.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def browser_page(browser) -> Iterator:
    """A fresh page (own cookies) at a laptop-sized viewport, Russian locale."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where screenshots go (gitignored)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
