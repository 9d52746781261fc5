"""Alembic environment: runs on the connection bot.store.db hands over, or on a URL for the CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.store.db import all_metadata

config = context.config
target_metadata = all_metadata()


def run_migrations_online() -> None:
    """Run migrations on the caller's connection (bot.db.migrate) or on sqlalchemy.url."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.settings import get_settings

        url = get_settings().database_url
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("faqbot migrations run online only (they start with the server)")
run_migrations_online()
