"""Shared fixtures: a tiny FAQ, settings for it, one real FaqBot per session, both databases.

``db_url`` runs a test once on SQLite (a file in tmp) and once on PostgreSQL
(127.0.0.1:5432, database ``test``), each time on a fresh, migrated schema. The PostgreSQL
runs use a schema of their own (``search_path``), so other test runs on the same server
are left alone.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.settings import Settings, load_settings
from bot.store.db import make_engine, migrate
from bot.web.app import create_app

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = f"faqbot_test_{os.getpid()}"

TINY_FAQ = """
entries:
  - id: returns-window
    questions:
      en: [How long do I have to return an item?, What is the return period?]
      de: [Wie lange habe ich Zeit für eine Rücksendung?]
    answer:
      en: You can return most items within 30 days of delivery.
      de: Sie können die meisten Artikel innerhalb von 30 Tagen zurücksenden.
  - id: shipping-time
    questions:
      en: [How long does delivery take?, When will my order arrive?]
    answer:
      en: Delivery takes 2 to 4 working days.
  - id: payment-methods
    questions:
      en: [Which payment methods do you accept?, Can I pay with PayPal?]
    answer:
      en: We accept cards, PayPal and bank transfer.
  - id: damaged-item
    handoff: true
    questions:
      en: [My item arrived damaged, The product I received is broken]
    answer:
      en: Sorry about that! Please send us a photo of the damage.
"""


def write_tiny_faq(faq_dir: Path) -> Path:
    """Write the tiny FAQ into ``faq_dir`` and return the file."""
    faq_dir.mkdir(parents=True, exist_ok=True)
    path = faq_dir / "shop.yaml"
    path.write_text(textwrap.dedent(TINY_FAQ).lstrip(), encoding="utf-8")
    return path


def test_settings(tmp: Path, **overrides: object) -> Settings:
    """Return settings for a tiny FAQ under ``tmp`` (no polling, generous rate limits)."""
    values: dict[str, object] = {
        "environment": "development",
        "faq_dir": tmp / "faq",
        "index_dir": tmp / "index",
        "database_url": f"sqlite:///{tmp / 'data' / 'faqbot.db'}",
        "model": "use",
        "reload_poll_seconds": 0,
        "rate_limit_per_minute": 10_000,
        "conversation_rate_limit_per_minute": 10_000,
        "packs_dir": tmp / "packs",
        # The API tests pin the thresholds their tiny FAQ was written for; the shipped
        # defaults are tuned on the shop FAQ by `faqbot eval` and may move.
        "answer_threshold": 0.55,
        "clarify_threshold": 0.40,
        "margin": 0.03,
    }
    values.update(overrides)
    return load_settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture(scope="session")
def faq_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding faq/ (the tiny FAQ) and index/."""
    home = tmp_path_factory.mktemp("faqbot")
    write_tiny_faq(home / "faq")
    return home


@pytest.fixture(scope="session")
def bot_settings(faq_home: Path) -> Settings:
    """Return settings for the tiny FAQ."""
    return test_settings(faq_home)


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
def app_settings(bot_settings: Settings, db_url: str) -> Settings:
    """Return the tiny FAQ's settings on the test's database."""
    return bot_settings.model_copy(update={"database_url": db_url})


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
