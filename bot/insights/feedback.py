"""How each FAQ entry fares with shoppers: answers given and thumbs up / down on them.

The lead page lists the entries shoppers rate "not helpful" most, so a lead knows which
answer to rewrite first. Feedback is joined to the bot message it rates, whose ``faq_id``
names the entry; counts only, no shopper text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bot.insights.window import window_start
from bot.store.db import Database
from bot.store.models import Feedback, Message, QuestionLog


def entry_feedback(db: Database, days: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """Return per entry: answers given, helpful and not helpful votes; worst first."""
    since = window_start(days, now)
    rows: dict[str, dict[str, Any]] = {}

    def row(faq_id: str | None) -> dict[str, Any]:
        assert faq_id is not None  # the queries keep only rows with an entry
        return rows.setdefault(faq_id, {"faq_id": faq_id, "answered": 0, "helpful": 0,
                                        "not_helpful": 0})

    with db.read() as s:
        for faq_id, n in s.execute(
            select(QuestionLog.faq_id, func.count())
            .where(QuestionLog.created_at >= since, QuestionLog.action == "answer",
                   QuestionLog.faq_id.is_not(None))
            .group_by(QuestionLog.faq_id)
        ):
            row(faq_id)["answered"] += int(n)
        for faq_id, helpful, n in s.execute(
            select(Message.faq_id, Feedback.helpful, func.count())
            .join(Message, Message.id == Feedback.message_id)
            .where(Feedback.created_at >= since, Message.faq_id.is_not(None))
            .group_by(Message.faq_id, Feedback.helpful)
        ):
            row(faq_id)["helpful" if helpful else "not_helpful"] += int(n)
    return sorted(rows.values(),
                  key=lambda r: (-r["not_helpful"], -r["answered"], r["faq_id"]))
