"""Debian's Chromium for the browser tests, driven by Playwright, and where screenshots go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.faqs import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """Launch Debian's Chromium (never a downloaded one) through Playwright."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


TEST_PAGES = Path(__file__).resolve().parent  # hostile.html: a shop theme at its worst


def goto_test_page(page: Any, server: str, name: str) -> None:
    """Open tests/support/``name`` as if ``server`` served it (at /test-pages/``name``).

    The page then loads the server's own widget.js, yet the server never ships a test page.
    """
    url = f"{server}/test-pages/{name}"
    page.route(url, lambda route: route.fulfill(
        path=str(TEST_PAGES / name), content_type="text/html; charset=utf-8"))
    page.goto(url)
