"""Shared parts of the browser tests: a real uvicorn server and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(tmp: Path, settings: dict[str, str]) -> Iterator[str]:
    """Run `uvicorn bot.web.app:create_app` in ``tmp`` with FAQBOT_* ``settings``; yield its URL.

    The FAQ, index, database and packs live under ``tmp`` (faq/, index/, faqbot.db, packs/).
    """
    (tmp / "packs").mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FAQBOT_ENVIRONMENT": "development",
        "FAQBOT_FAQ_DIR": str(tmp / "faq"),
        "FAQBOT_INDEX_DIR": str(tmp / "index"),
        "FAQBOT_DATABASE_URL": f"sqlite:///{tmp / 'faqbot.db'}",
        "FAQBOT_PACKS_DIR": str(tmp / "packs"),  # no translation: replies arrive verbatim
        "FAQBOT_RATE_LIMIT_PER_MINUTE": "1000",
        **settings,
    }
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        # cwd=tmp so a developer's .env in the checkout cannot change the test server.
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "bot.web.app:create_app",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # first start embeds the FAQ with the real model
        while True:
            if proc.poll() is not None:
                pytest.fail("server exited:\n" + log_path.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server not ready:\n" + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


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
