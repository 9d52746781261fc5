"""Database engine, sessions and migrations (SQLite by default, PostgreSQL for scale-out).

SQLite runs in WAL mode with a busy timeout and foreign keys on. Write transactions start
with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of one failing with
"database is locked" when it upgrades a read to a write. Migrations (bot/store/migrations/) run
at start, under a lock, so several processes starting at once migrate exactly once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere SQLite's busy timeout alone queues writers
    import fcntl

    _HAVE_FLOCK = True
except ImportError:  # pragma: no cover - Windows
    _HAVE_FLOCK = False

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConfigError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: it names the PostgreSQL advisory lock taken while migrating.
_MIGRATION_LOCK_ID = 7_271_042
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; for a SQLite file, create its folder and set pragmas."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:  # sqlalchemy raises ArgumentError for garbage
        raise ConfigError(f"FAQBOT_DATABASE_URL {url!r} is not a database URL: {exc}") from None
    if backend == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _setup_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise ConfigError(
        f"FAQBOT_DATABASE_URL: use sqlite:/// or postgresql+psycopg://, not {backend}"
    )


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so _on_begin can choose its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL in WAL mode survives a killed process (the OS keeps the written WAL); only a
        # power cut can lose the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


class Database:
    """An engine plus session factories: ``read()`` for queries, ``write()`` for changes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_bind, expire_on_commit=False)
        self._writer = WriterLock(_sqlite_file(url)) if self.is_sqlite else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Yield a session for queries (rolled back at the end)."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """Yield a session whose changes commit at the end, or roll back on an error."""
        if self._writer is None:
            with self._write() as session, session.begin():
                yield session
            return
        with self._writer, self._write() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Run a trivial query; raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def migrate(self) -> None:
        """Bring the schema to the newest migration (safe with several processes at once)."""
        migrate(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class WriterLock:
    """Queue SQLite writers (threads and processes) on a lock that wakes the next at once.

    SQLite's busy handler polls: a writer that finds the database locked sleeps 1, 2, 5,
    10 ... 100 ms before it looks again. With two or three worker processes writing a few
    hundred times a second, collisions are constant and those sleeps were most of the tail
    (p99 0.6-3 s back to back, cores idle; BENCHMARKS.md). A thread lock plus an flock on a
    file beside the database hands the lock straight to the next writer; BEGIN IMMEDIATE and
    the busy timeout stay as the safety net for other programs using the file.
    """

    def __init__(self, db_file: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if db_file is not None and _HAVE_FLOCK:
            try:
                self._fd = os.open(f"{db_file}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                log.warning("no cross-process SQLite write lock (%s): busy_timeout only", exc)

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise

    def __exit__(self, *_exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


def all_metadata() -> MetaData:
    """Return the metadata of every table (bot/store/models.py), for migrations and tests."""
    from bot.store.models import Base

    return Base.metadata


def alembic_config() -> Config:
    """Build the Alembic configuration in code, so it works from an installed package too."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema in one transaction held under a lock."""
    config = alembic_config()
    bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    with bind.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    log.info("database schema at %s", revision)
