"""What a request may hold, checked once for every route: id ranges, clean text, lengths.

The request bodies (bot/web/schemas.py ``In``) run ``check_text`` on every field; the routes
take ids through ``TicketId``, ``PhotoId`` and ``After``; ``state_limits`` writes the limits
that depend on settings into the OpenAPI document, so that what it allows is not refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import Field

# Row ids are INTEGER columns: PostgreSQL's hold up to 2^31-1 and a bigger number in a query
# is a database error (500), as is one over 2^63-1 on SQLite. An id past that cannot exist.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]
PhotoId = Annotated[int, Path(ge=1, le=MAX_ID)]
LearnedId = Annotated[int, Path(ge=1, le=MAX_ID)]
After = Annotated[int, Query(ge=0, le=MAX_ID, description="the cursor: messages after it")]

# The length limits the services check (after trimming, 413 beyond): stated in the schema,
# not enforced by it, so that a request the schema allows is never refused for its length.
COMMENT_CHARS = 1000
REPLY_CHARS = 5000
NOTE_CHARS = 5000
MESSAGE_CHARS = 1000  # FAQBOT_MAX_MESSAGE_CHARS's default; create_app states the setting
# Checked by the services with a 400 of their own words; the schema says what passes.
CLUSTER: dict[str, Any] = {"pattern": "^c[0-9]{1,9}$"}  # bot/insights/clusters.py CLUSTER_KEY
NOT_BLANK = "\\S"  # some text besides white space


def check_text(value: Any) -> Any:
    """Refuse NUL characters and lone surrogates anywhere in ``value`` (str, list or dict).

    PostgreSQL refuses NUL in text (a 500) while SQLite stores it raw, and a lone surrogate
    such as "\\ud800" cannot be encoded as UTF-8 by either driver (a 500): both are a 422
    naming the field, on both databases.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the text is not valid Unicode (a lone surrogate)") from None
    elif isinstance(value, list):
        for item in value:
            check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    return value


def state_limits(openapi: dict[str, Any], max_message_chars: int, body_bytes: int,
                 photo_bytes: int) -> dict[str, Any]:
    """Write the limits that depend on settings into the generated OpenAPI document."""
    message = openapi["components"]["schemas"]["ChatIn"]["properties"]["message"]
    message["maxLength"] = max_message_chars
    message["description"] = message["description"].replace(
        f"1..{MESSAGE_CHARS}", f"1..{max_message_chars}")
    openapi["info"]["description"] = (
        f"Request bodies are at most {body_bytes} bytes (photos: {photo_bytes}), counted as "
        "they arrive, chunked or not: 413 beyond. Row ids are 1..2147483647. Text may not "
        "hold NUL characters or lone surrogates (422).")
    return openapi
