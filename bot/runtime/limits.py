"""Sliding-window rate limits: in this process's memory, or in a file its sibling workers share.

`SlidingWindow` counts in one process. `serve --workers N` gives its workers a SQLite file to
count in together (`SharedSlidingWindow`, FAQBOT_RATE_LIMIT_FILE): a shopper's connections are
spread over the workers, and counting apart would allow N times the limit. Several machines
behind a load balancer count in Redis (`RedisSlidingWindow`, FAQBOT_REDIS_URL), behind the
same ``hit`` interface; while Redis is down each machine counts on its own again, so a
shopper is never refused for Redis's sake and never answered with an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import sqlite3
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Protocol

from bot.errors import ConfigError, RateLimited
from bot.runtime.redis_link import RedisDown, RedisLink
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


# One round trip: drop hits older than the window, count, add this one if under the limit.
# Times are Redis's own clock, so servers whose clocks differ still share one window.
_REDIS_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"""


class RedisSlidingWindow:
    """The same limit counted in Redis, one budget for every server that shares it.

    Each key is a sorted set of hit times that expires with its window. Keys are hashed, so
    a long or odd key costs Redis no more than a short one. While Redis is down (see
    bot/runtime/redis_link.py) the hits are counted by ``fallback``, this machine's own
    limit: the budget is then per machine, as without Redis, and nobody gets an error.
    """

    def __init__(self, link: RedisLink, limit: int, window: float = 60.0,
                 what: str = "requests", fallback: Limit | None = None) -> None:
        if limit < 1:
            raise ValueError(f"a rate limit must be at least 1 per window, got {limit}")
        if window <= 0:
            raise ValueError(f"the window must be positive, got {window}")
        self.link, self.limit, self.window, self.what = link, limit, window, what
        self.fallback = fallback or SlidingWindow(limit, window, what)
        self._script = link.client.register_script(_REDIS_HIT)
        self._space = hashlib.blake2b(what.encode(), digest_size=6).hexdigest()
        self._window_ms = max(1, round(window * 1000))

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one hit for ``key``; raise RateLimited when it is over the limit.

        ``now`` is ignored while Redis answers (Redis's clock counts); the fallback uses it.
        """
        name = self.link.key("limit", self._space,
                             hashlib.blake2b(key.encode(), digest_size=16).hexdigest())
        member = uuid.uuid4().hex  # two hits in one millisecond are still two
        try:
            allowed, wait_ms = self.link.run(
                lambda r: self._script(keys=[name], args=[self.limit, self._window_ms, member],
                                       client=r))
        except RedisDown:
            self.fallback.hit(key, now)
            return
        if not allowed:
            retry = max(1, math.ceil(int(wait_ms) / 1000))
            raise RateLimited(
                f"too many {self.what}: the limit is {self.limit} per {self.window:g} seconds; "
                f"try again in {retry} s",
                retry,
            )


def make_limit(path: Path | None, limit: int, window: float, what: str,
               link: RedisLink | None = None) -> Limit:
    """Count in Redis when there is one (several machines), else in the workers' shared file
    (several workers), else in this process's memory."""
    local: Limit = (SlidingWindow(limit, window, what) if path is None
                    else SharedSlidingWindow(path, limit, window, what))
    if link is None:
        return local
    return RedisSlidingWindow(link, limit, window, what, fallback=local)
