"""A PostgreSQL schema of a test's own on the server at 127.0.0.1:5432 (database ``test``)."""

from __future__ import annotations

import sqlalchemy as sa

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _engine() -> sa.Engine:
    return sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")


def fresh_schema(schema: str) -> str:
    """Drop and recreate ``schema``; return a URL whose connections work in it."""
    engine = _engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{PG_SERVER}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    engine = _engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
