"""The reporting window (the last N days, UTC) and reading times back from either database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import InputError
from bot.store.models import utcnow

MAX_DAYS = 366


def window_start(days: int, now: datetime | None = None) -> datetime:
    """Return the start of a ``days``-day window ending today (UTC), as the stats count it."""
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    today = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def as_datetime(value: Any) -> datetime | None:
    """Return an aware datetime from a value SQL aggregates hand back (text on SQLite)."""
    if value is None or isinstance(value, datetime):
        return aware(value)
    return aware(datetime.fromisoformat(str(value)))


def aware(value: datetime | None) -> datetime | None:
    """Return ``value`` with UTC attached when it has no time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def utc(value: datetime) -> datetime:
    """Return ``value`` with UTC attached when it has no time zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
