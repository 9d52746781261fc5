"""People with keys of their own, for tests: add one to a database, get headers or the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.settings import Settings
from bot.store.db import Database
from bot.store.people import People

# The test servers' key secret (tests/support/servers.py); add_to_server() digests with it.
SERVER_SECRET_KEY = "test-servers-secret-key-0123456789abcdef"

# make(name, role="agent", language=None) -> headers carrying that person's new key
PersonFactory = Callable[..., dict[str, str]]


def add_person(
    settings: Settings, name: str, role: str = "agent", language: str | None = None
) -> dict[str, str]:
    """Add a person to the settings' database; return headers carrying their new key."""
    db = Database(settings.database_url)
    try:
        key = People.from_settings(db, settings).add(name, role, language)
    finally:
        db.dispose()
    return {"Authorization": f"Bearer {key}"}


def add_to_server(home: Path, name: str, role: str = "agent",
                  language: str | None = None) -> str:
    """Add a person to the database of the test server running in ``home``; return the key."""
    db = Database(f"sqlite:///{home / 'faqbot.db'}")
    try:
        return People(db, SERVER_SECRET_KEY).add(name, role, language)
    finally:
        db.dispose()
