"""Shared fixtures: a tiny FAQ, settings for it, one real FaqBot per session, both databases.

Helpers (FAQ writers, fake embedders, test servers, Chromium) live in tests/support/; test
modules import them from there, never from this file or from each other.

``db_url`` runs a test once on SQLite (a file in tmp) and once on PostgreSQL
(127.0.0.1:5432, database ``test``), each time on a fresh, migrated schema. The PostgreSQL
runs use a schema of their own (``search_path``), so other test runs on the same server
are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.store.db import Database, make_engine, migrate
from bot.web.app import create_app
from tests.support.faqs import write_tiny_faq
from tests.support.people import PersonFactory, add_person
from tests.support.settings import make_settings

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = f"faqbot_test_{os.getpid()}"


@pytest.fixture(scope="session")
def faq_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding faq/ (the tiny FAQ) and index/."""
    home = tmp_path_factory.mktemp("faqbot")
    write_tiny_faq(home / "faq")
    return home


@pytest.fixture(scope="session")
def bot_settings(faq_home: Path) -> Settings:
    """Return settings for the tiny FAQ."""
    return make_settings(faq_home)


@pytest.fixture(scope="session")
def faqbot(bot_settings: Settings) -> FaqBot:
    """Return one FaqBot with the real default model ('use'), loaded once per session."""
    bot = FaqBot(bot_settings)
    status = bot.reload()
    assert bot.ready, status.error
    return bot


def _pg_engine() -> sa.Engine:
    return sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")


def pg_url(schema: str = PG_SCHEMA) -> str:
    """Return a URL whose connections work in ``schema``."""
    return f"{PG_SERVER}?options=-csearch_path%3D{schema}"


def fresh_pg_schema(schema: str = PG_SCHEMA) -> str:
    """Drop and recreate ``schema``; return its URL (not yet migrated)."""
    engine = _pg_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return pg_url(schema)


@pytest.fixture(scope="session")
def _pg_cleanup() -> Iterator[None]:
    yield
    engine = _pg_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
    engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of a fresh, migrated database: SQLite file or PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'faqbot.db'}"
    else:
        request.getfixturevalue("_pg_cleanup")
        url = fresh_pg_schema()
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """Return a Database on ``db_url`` (both databases), disposed after the test."""
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def app_settings(bot_settings: Settings, db_url: str) -> Settings:
    """Return the tiny FAQ's settings on the test's database."""
    return bot_settings.model_copy(update={"database_url": db_url})


@pytest.fixture
def person(app_settings: Settings) -> PersonFactory:
    """Return ``make(name, role="agent", language=None)`` -> headers with that person's key."""

    def make(name: str, role: str = "agent", language: str | None = None) -> dict[str, str]:
        return add_person(app_settings, name, role, language)

    return make


@pytest.fixture
def client(app_settings: Settings, faqbot: FaqBot) -> Iterator[TestClient]:
    """Return a TestClient on the whole app (lifespan run), with the session's FaqBot."""
    app = create_app(app_settings, bot=faqbot)
    with TestClient(app) as c:
        yield c


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (FAQBOT_REQUIRE_ALL_TESTS=1) a skipped test fails: nothing may quietly not run."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (
        os.environ.get("FAQBOT_REQUIRE_ALL_TESTS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"
