"""Structured logs: one JSON object per line on stderr, each with the request's id."""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Set by the request middleware (bot/web/middleware.py) for the request being served.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


# A conversation's id is its key (whoever knows it reads the chat): logs carry a short hash.
_SESSION_IN_PATH = re.compile(r"(/conversations/)([^/]+)")


def session_hash(session_id: str) -> str:
    """Return a short, stable stand-in for a session id (the same id, the same hash)."""
    return "~" + hashlib.blake2b(session_id.encode("utf-8", "surrogatepass"),
                                 digest_size=5).hexdigest()


def loggable_path(path: str) -> str:
    """Return ``path`` with any conversation id replaced by its :func:`session_hash`."""
    return _SESSION_IN_PATH.sub(lambda m: m.group(1) + session_hash(m.group(2)), path)


class JsonFormatter(logging.Formatter):
    """Format a log record as one JSON object carrying the request id."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": request_id_var.get(),
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging() -> None:
    """Send faqbot's logs to stderr as JSON lines (once per process)."""
    root = logging.getLogger("bot")
    if any(getattr(h, "_faqbot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._faqbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
