"""Sliding-window rate limits kept in this process's memory.

Each process counts on its own: behind a load balancer with N processes a client gets up to
N times the limit. Several processes or machines that must share one budget need a shared
store (Redis, or a table in the database) behind the same ``hit`` interface.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from bot.errors import InputError


class RateLimited(InputError):
    """Too many requests from one client or conversation -> 429."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
                retry = max(1, math.ceil(hits[0] + self.window - now))
                raise RateLimited(
                    f"too many {self.what}: the limit is {self.limit} per "
                    f"{self.window:g} seconds; try again in {retry} s",
                    retry,
                )
            hits.append(now)

    def _sweep(self, now: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]
