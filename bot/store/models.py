"""The relational tables: conversations, their messages, handoff tickets, feedback, question
log, and the lead's insights (question clusters, FAQ change history, dismissed clusters).

Times are stored as naive UTC (both SQLite and PostgreSQL then group them by day the same
way) and come back as aware UTC datetimes. Schema changes go through Alembic
(bot/store/migrations/); a test checks that the migrations and these models agree.

No shopper text is stored in the insight tables: a cluster keeps the embedding of its first
question (its leader), and what a lead sees of its members is read from the question log,
whose text the retention job blanks.

The follow-up tables keep personal data in as few places as possible: the e-mail address
only in ``conversation_contacts`` (deleted by the retention job), photos as files named by
a random token (the row says which conversation), and the mail outbox holds ids, never an
address or a text: a mail is composed when it is sent, from what the conversation holds then.
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
    LargeBinary,
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
    # A random id the widget keeps in the shopper's browser (localStorage), so an agent sees
    # this shopper's earlier conversations; blanked by retention like message text.
    visitor_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # The shop page the widget was on at the shopper's last message (no query string);
    # customer context for the agent.
    page_url: Mapped[str | None] = mapped_column(String(500), default=None)


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
    """A conversation handed to people.

    A handoff soon after a resolution reopens the conversation's last ticket; a later one
    opens a new ticket (FAQBOT_REOPEN_HOURS), so a conversation may have several over time.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_state_priority_queued", "state", "priority", "queued_at"),
        Index("ix_tickets_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
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
    # Closed as spam (state "resolved"): no notice to the shopper, left out of response times.
    spam: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the triage made of the message that opened it: person | complaint | order | faq.
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    # The shopper's substantive messages in one line, in their words (bot/chat/summary.py).
    asked_about: Mapped[str | None] = mapped_column(Text, default=None)
    page_url: Mapped[str | None] = mapped_column(String(500), default=None)
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    market: Mapped[str | None] = mapped_column(String(8), default=None)
    # How it was resolved: "agent", or "self_served" (the shopper said it is answered).
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)


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
    # The triage kind (faq | order | complaint | person) and the bot's three best entries,
    # so a later ticket carries guesses from every substantive message.
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    guesses: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)


class Rating(Base):
    """A shopper's 1-5 rating of a conversation (CSAT); one per conversation."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str] = mapped_column(String(8))
    # Who resolved the conversation's last ticket; None = the bot alone (no ticket).
    agent: Mapped[str | None] = mapped_column(String(64), default=None)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


# ---- the lead's insights (migration 0002) ----
class InsightCluster(Base):
    """A group of unanswered questions with the same need, led by its first question.

    ``vector`` is the leader's unit embedding (float32 bytes) under ``model``; a question
    joins the most similar leader above the threshold, so leaders never move and every
    process can cache them append-only.
    """

    __tablename__ = "insight_clusters"
    __table_args__ = (Index("ix_insight_clusters_model_id", "model", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InsightAssignment(Base):
    """Which cluster a logged question belongs to, under one embedding model.

    The question's time, language and action are copied here (they never change), so a
    page load counts clusters from this table alone instead of joining 50,000 log rows.
    """

    __tablename__ = "insight_assignments"
    __table_args__ = (
        Index("ix_insight_assignments_model_asked_at", "model", "asked_at"),
        Index("ix_insight_assignments_cluster_question", "cluster_id", "question_id"),
    )

    question_id: Mapped[int] = mapped_column(
        ForeignKey("question_log.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("insight_clusters.id", ondelete="CASCADE")
    )
    # Cosine to the leader: shows how tight a cluster is, and lets a test check the threshold.
    similarity: Mapped[float] = mapped_column(Float, default=1.0)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    language: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(16))


class FaqChange(Base):
    """One change a lead made to the FAQ files from the lead page or API: who, when, what."""

    __tablename__ = "faq_changes"
    __table_args__ = (Index("ix_faq_changes_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # add_phrasings | new_entry
    file: Mapped[str] = mapped_column(String(300))
    entry_id: Mapped[str] = mapped_column(String(200))
    # The cluster the change answered: its questions logged until now stop showing.
    cluster_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DismissedCluster(Base):
    """A cluster a lead marked "not for the FAQ" (abuse, jokes ...): it stops showing."""

    __tablename__ = "dismissed_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("insight_clusters.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# ---- follow-up: e-mail contacts, the mail outbox, photos ----
class ConversationContact(Base):
    """The e-mail address a shopper left after a handoff, and whether they are still here.

    ``seen_at`` / ``delivered_id`` are written by the shopper's polls from a visible page
    (at most every few seconds): an agent's reply is mailed only when it was not shown.
    """

    __tablename__ = "conversation_contacts"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254))
    # The page the widget was on: the mail links back to it (origin checked when given).
    return_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    delivered_id: Mapped[int] = mapped_column(Integer, default=0)


class MailOutbox(Base):
    """One follow-up mail to send: agent replies ``first_message_id..last_message_id``.

    States: pending -> sending (claimed, with a lease) -> sent | skipped (read in the chat,
    or no address any more) | failed (refused for good, or too many tries). A claim is one
    conditional UPDATE, so of several worker processes exactly one sends a row.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    first_message_id: Mapped[int] = mapped_column(Integer)
    last_message_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # The SMTP server's last answer; may name the address, so retention blanks it.
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class Photo(Base):
    """A shopper's photo: re-encoded image file in FAQBOT_PHOTOS_DIR, shown to agents only."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    file: Mapped[str] = mapped_column(String(80))  # relative to FAQBOT_PHOTOS_DIR
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    # Set when retention deleted the file; the row stays so counts and transcripts hold.
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


# ---- people and the ticket history ----
class User(Base):
    """A person who signs in to the agent console or the lead page with a key of their own.

    Only a keyed digest of the key is stored (bot/store/people.py says why that is enough);
    ``key_hint`` is the key's first characters, to tell keys apart in ``faqbot users list``.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # agent | lead
    # The language the person reads (machine translations in the console); None = the setting.
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    key_created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class TicketEvent(Base):
    """One line of a ticket's history for agents: a note, claim, assignment, resolution ...

    Internal notes live here and never in ``messages``, so nothing that reads a shopper's
    conversation (the widget's polling and stream, e-mail follow-up) can ever carry one.
    """

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))  # a user's name, or "shopper" / "system"
    # note | claim | release | assign | resolve | spam | reopen | withdraw (the shopper: answered)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text, default=None)  # a note's text
    # assign: who got the ticket; the holder it was taken from goes in ``previous``.
    target: Mapped[str | None] = mapped_column(String(64), default=None)
    previous: Mapped[str | None] = mapped_column(String(64), default=None)


# ---- learning from use: chips shoppers picked, and the phrasings they suggest ----
class ChipPick(Base):
    """A clarify chip a shopper tapped, waiting to be judged by what followed.

    ``question`` is the shopper's own question that led to the chips (personal data: the
    retention job deletes old rows). ``state``: pending | counted (helpful, or no complaint
    within FAQBOT_LEARN_TURNS turns / FAQBOT_LEARN_MINUTES) | rejected (thumbs down or a
    handoff first).
    """

    __tablename__ = "chip_picks"
    __table_args__ = (Index("ix_chip_picks_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # The bot's answer to the tap: the message "helpful" / "not helpful" is given on.
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    faq_id: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LearnedPhrasing(Base):
    """A shopper's question suggested as a new phrasing of an entry (the lead page).

    One row per (entry, normalised question); ``count`` says how many picks confirmed it.
    ``state``: suggested | accepted | dismissed. The text goes with the retention period.
    """

    __tablename__ = "learned_phrasings"
    __table_args__ = (Index("ux_learned_phrasings_entry_key", "faq_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    faq_id: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(300))  # normalise_phrasing(question)
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default="suggested")
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
