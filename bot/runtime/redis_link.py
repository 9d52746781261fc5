"""One Redis connection pool per process, and what to do while Redis is down.

Rate limits and live events across servers use Redis (FAQBOT_REDIS_URL), but neither may
stop a shopper's chat: every call is bounded by a short timeout, a failure is logged once
per outage (not once per request), and for a few seconds after one the callers fall back
at once (limits count on this machine, events fall back to polling) instead of each
waiting for a timeout. The first call after that pause tries Redis again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")

# A Redis on the same network answers in well under a millisecond; waiting longer than this
# for one would show in the shoppers' latency.
TIMEOUT_SECONDS = 0.5
# After a failure, how long callers skip Redis before trying it again.
PAUSE_SECONDS = 2.0


class RedisDown(Exception):
    """Redis did not answer (or is in the pause after a failure): use the fallback."""


def redact_url(url: str) -> str:
    """Return a Redis URL without its password, for log lines."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


class RedisLink:
    """A Redis client with short timeouts and an outage switch shared by its users."""

    def __init__(self, url: str, prefix: str = "faqbot", *, timeout: float = TIMEOUT_SECONDS,
                 pause: float = PAUSE_SECONDS) -> None:
        if timeout <= 0 or pause < 0:
            raise ValueError(f"need timeout > 0 and pause >= 0, got {timeout} and {pause}")
        self.safe_url = redact_url(url)
        try:
            # No retries inside the client: a retry doubles the wait, and the callers have
            # a fallback that is always good enough for a few seconds.
            self.client: redis.Redis = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=30,
            )
        except ValueError as exc:
            raise ConfigError(f"FAQBOT_REDIS_URL {self.safe_url} cannot be used: {exc}") from None
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.pause = pause
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def key(self, *parts: str) -> str:
        """Return a key (or channel) name under this desk's prefix."""
        return ":".join((self.prefix, *parts))

    @property
    def up(self) -> bool:
        """Tell whether the last call reached Redis."""
        return not self._down

    def run(self, call: Callable[[redis.Redis], T]) -> T:
        """Run ``call`` on the client; raise RedisDown when Redis fails or is paused."""
        if self._down and time.monotonic() < self._down_until:
            raise RedisDown(f"Redis {self.safe_url} is down")
        try:
            result = call(self.client)
        except redis.RedisError as exc:
            self.failed(exc)
            raise RedisDown(str(exc)) from exc
        self.succeeded()
        return result

    def failed(self, exc: BaseException) -> None:
        """Note a failure: log it when it starts an outage, and pause the callers."""
        with self._lock:
            self._down_until = time.monotonic() + self.pause
            if self._down:
                return
            self._down = True
        log.warning("Redis %s is unreachable (%s): rate limits count on this machine and "
                    "live events fall back to polling until it is back", self.safe_url,
                    type(exc).__name__)

    def succeeded(self) -> None:
        """Note a success: log the end of an outage."""
        if not self._down:
            return
        with self._lock:
            if not self._down:
                return
            self._down = False
        log.info("Redis %s is reachable again", self.safe_url)

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()
