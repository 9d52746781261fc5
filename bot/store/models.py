"""The relational tables: conversations, their messages, handoff tickets, feedback, question log.

Times are stored as naive UTC (both SQLite and PostgreSQL then group them by day the same
way) and come back as aware UTC datetimes. Schema changes go through Alembic
(bot/migrations/); a test checks that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp kept as naive UTC in the database and handed out as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only (use bot.models.utcnow())")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite hands back text from raw expressions
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base class of every table."""


class Conversation(Base):
    """One shopper's chat; its id is the session id the widget sends back."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    language: Mapped[str] = mapped_column(String(8))
    # True once the shopper picked a language explicitly: detection no longer overrides it.
    language_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    market: Mapped[str | None] = mapped_column(String(8), default=None)


class Message(Base):
    """One line of a conversation: from the shopper, the bot, an agent or the system."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))  # shopper | bot | agent | system
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    action: Mapped[str | None] = mapped_column(String(16), default=None)
    faq_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # For agent replies sent through machine translation: what the agent wrote, and in what.
    original_text: Mapped[str | None] = mapped_column(Text, default=None)
    original_language: Mapped[str | None] = mapped_column(String(8), default=None)
    author: Mapped[str | None] = mapped_column(String(64), default=None)


class Ticket(Base):
    """A conversation handed to people; one per conversation, reopened rather than repeated."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_state_priority_queued", "state", "priority", "queued_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | claimed | resolved
    priority: Mapped[str] = mapped_column(String(16), default="normal")  # urgent | normal
    language: Mapped[str] = mapped_column(String(8))
    # low_confidence | asked_for_person | entry_handoff | negative_feedback | bot_unavailable
    reason: Mapped[str] = mapped_column(String(32))
    guesses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    preview: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When it (re)entered the queue: waiting time and queue order count from here.
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    reopened: Mapped[int] = mapped_column(Integer, default=0)


class Feedback(Base):
    """A shopper's verdict on one bot reply."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class QuestionLog(Base):
    """One question the bot decided on; feeds stats, the unanswered list and clustering.

    ``text`` is nullable so a retention job can blank old questions but keep the counts.
    """

    __tablename__ = "question_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(16))  # answer | clarify | handoff
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    faq_id: Mapped[str | None] = mapped_column(String(200), default=None)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    market: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
