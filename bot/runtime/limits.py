"""Sliding-window rate limits: in this process's memory, or in a file its sibling workers share.

`SlidingWindow` counts in one process. `serve --workers N` gives its workers a SQLite file to
count in together (`SharedSlidingWindow`, FAQBOT_RATE_LIMIT_FILE): a shopper's connections are
spread over the workers, and counting apart would allow N times the limit. Several machines
behind a load balancer still count per machine; a shared budget across machines needs a
store they all reach (Redis, say) behind the same ``hit`` interface.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path
from typing import Protocol

from bot.errors import ConfigError, RateLimited
from bot.store.db import WriterLock

log = logging.getLogger(__name__)


class Limit(Protocol):
    """Counts hits per key and refuses the one over the limit."""

    def hit(self, key: str, now: float | None = None) -> None: ...


def _refuse(limit: int, window: float, what: str, oldest: float, now: float) -> RateLimited:
    retry = max(1, math.ceil(oldest + window - now))
    return RateLimited(
        f"too many {what}: the limit is {limit} per {window:g} seconds; try again in {retry} s",
        retry,
    )


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window`` seconds."""

    # Sweeping idle keys every so many hits keeps memory bounded without a timer thread.
    SWEEP_EVERY = 1000

    def __init__(self, limit: int, window: float = 60.0, what: str = "requests") -> None:
        if limit < 1:
            raise ValueError(f"a rate limit must be at least 1 per window, got {limit}")
        if window <= 0:
            raise ValueError(f"the window must be positive, got {window}")
        self.limit = limit
        self.window = window
        self.what = what
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one hit for ``key``; raise RateLimited when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._calls += 1
            if self._calls % self.SWEEP_EVERY == 0:
                self._sweep(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                raise _refuse(self.limit, self.window, self.what, hits[0], now)
            hits.append(now)

    def _sweep(self, now: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]


class SharedSlidingWindow:
    """The same limit, counted in a SQLite file by every process that opens it.

    Times are ``time.monotonic()``, one clock for all processes of a Linux machine. Writers
    queue on the database's writer lock (a thread lock plus an flock), so a busy moment costs
    a hand-over, not SQLite's busy-wait sleeps. The file holds at most a window of hits.
    """

    SWEEP_EVERY = 1000

    def __init__(self, path: Path, limit: int, window: float = 60.0,
                 what: str = "requests") -> None:
        if limit < 1:
            raise ValueError(f"a rate limit must be at least 1 per window, got {limit}")
        if window <= 0:
            raise ValueError(f"the window must be positive, got {window}")
        self.limit, self.window, self.what, self.path = limit, window, what, path
        self._writer = WriterLock(path)
        self._calls = 0
        try:
            # Autocommit mode: transactions are the explicit BEGIN IMMEDIATE ... COMMIT below.
            self._db = sqlite3.connect(path, timeout=10, isolation_level=None,
                                       check_same_thread=False)
            with self._writer:
                self._db.execute("PRAGMA journal_mode=WAL")
                # Counts a power cut loses are harmless: they would have expired in a minute.
                self._db.execute("PRAGMA synchronous=OFF")
                self._db.execute("CREATE TABLE IF NOT EXISTS hits (what TEXT, key TEXT, t REAL)")
                self._db.execute("CREATE INDEX IF NOT EXISTS hits_key ON hits (what, key, t)")
        except sqlite3.Error as exc:
            raise ConfigError(
                f"FAQBOT_RATE_LIMIT_FILE={path} cannot be used as a SQLite file ({exc}): "
                "point it at a writable place, or unset it to count in each process"
            ) from exc

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one hit for ``key``; raise RateLimited when it is over the limit."""
        now = time.monotonic() if now is None else now
        since = now - self.window
        db = self._db
        with self._writer:
            try:
                db.execute("BEGIN IMMEDIATE")
                self._calls += 1
                if self._calls % self.SWEEP_EVERY == 0:
                    db.execute("DELETE FROM hits WHERE t <= ?", (since,))
                else:
                    db.execute("DELETE FROM hits WHERE what = ? AND key = ? AND t <= ?",
                               (self.what, key, since))
                count, oldest = db.execute(
                    "SELECT count(*), min(t) FROM hits WHERE what = ? AND key = ?",
                    (self.what, key),
                ).fetchone()
                refused = count >= self.limit
                if not refused:
                    db.execute("INSERT INTO hits VALUES (?, ?, ?)", (self.what, key, now))
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                # A broken counter file (disk full, deleted) must not stop shoppers' chats:
                # let the request through and say so.
                with contextlib.suppress(sqlite3.Error):  # the connection may be gone too
                    db.rollback()
                log.warning("rate limit store %s failed (%s): request let through",
                            self.path, exc)
                return
        if refused:
            raise _refuse(self.limit, self.window, self.what, oldest, now)


def make_limit(path: Path | None, limit: int, window: float, what: str) -> Limit:
    """Count in the shared file when the server has one (several workers), else in memory."""
    if path is None:
        return SlidingWindow(limit, window, what)
    return SharedSlidingWindow(path, limit, window, what)
