"""Migration 0006 (learning from use, issue 17) on SQLite and PostgreSQL: up from 0005 with a
conversation in it, one suggestion per (entry, normalised question), and back down."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.store.db import alembic_config, make_engine, migrate
from bot.store.models import utcnow
from tests.support.postgres import drop_schema, fresh_schema


@pytest.mark.parametrize("kind", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
])
def test_migration_0006_adds_and_drops_the_learning_tables(kind: str, tmp_path: Path) -> None:
    schema = f"faqbot_mig_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'old.db'}" if kind == "sqlite" else fresh_schema(schema)
    engine = make_engine(url)
    try:
        migrate(engine, "0005")
        now = utcnow().replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO conversations (id, created_at, updated_at, language,"
                              " language_locked) VALUES ('c-old-1234', :t, :t, 'en', false)"),
                         {"t": now})
            conn.execute(text("INSERT INTO messages (conversation_id, role, text, created_at)"
                              " VALUES ('c-old-1234', 'bot', 'Delivery takes 2 days.', :t)"),
                         {"t": now})
        assert "chip_picks" not in inspect(engine).get_table_names()
        migrate(engine)
        insert = text("INSERT INTO learned_phrasings (faq_id, key, question, language, count,"
                      " state, first_seen, last_seen) VALUES ('shipping-time', 'delivery',"
                      " :q, 'en', 1, 'suggested', :t, :t)")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO chip_picks (conversation_id, message_id, faq_id, question, language,"
                " state, created_at) SELECT conversation_id, id, 'shipping-time', 'delivery',"
                " 'en', 'pending', created_at FROM messages"))
            conn.execute(insert, {"q": "delivery", "t": now})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"q": "Delivery?", "t": now})  # the same normalised key
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0005")
        names = inspect(engine).get_table_names()
        assert "chip_picks" not in names and "learned_phrasings" not in names
        with engine.begin() as conn:
            assert conn.execute(text("SELECT text FROM messages")).scalars().all() == [
                "Delivery takes 2 days."]
    finally:
        engine.dispose()
        if kind == "postgresql":
            drop_schema(schema)
