"""Retention: blank what shoppers wrote after ``FAQBOT_RETENTION_DAYS``, keep the counts.

Shoppers' messages are personal data (GDPR), so once they are older than the retention
period their text goes: the question log's ``text`` becomes NULL, shopper messages and the
previews, topics and pages of resolved tickets become empty, feedback and rating comments
NULL, agents' internal notes empty, and a conversation's visitor id and page address NULL
(so an old conversation is no longer linked to the shopper's browser); e-mail addresses
left for the follow-up are deleted (and the SMTP answers in the outbox, which may name
them); photo files are deleted, their rows marked removed. Every row stays (but the
address's), with its language, action, scores, entry and times, so stats, reports and
cluster counts do not change. Learning from use (issue 17) keeps a shopper's question with
the chip they picked and as a suggested phrasing: those rows are deleted once older than
the period (a suggestion by when it was last confirmed). ``FAQBOT_RETENTION_DAYS=0`` keeps
text forever.

The job runs when the server starts and then once a day, on a daemon thread started by
the app (bot/web/app.py); it is idempotent, so several server processes may all run it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from bot.chat.photos import PhotoStore
from bot.errors import ConfigError
from bot.runtime.jobs import PeriodicJob
from bot.store.db import Database
from bot.store.models import (
    ChipPick,
    Conversation,
    ConversationContact,
    Feedback,
    LearnedPhrasing,
    MailOutbox,
    Message,
    Photo,
    QuestionLog,
    Rating,
    Ticket,
    TicketEvent,
    utcnow,
)

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class RetentionReport:
    """How many rows had their text removed, per table."""

    cutoff: datetime | None
    questions: int = 0
    messages: int = 0
    comments: int = 0
    previews: int = 0
    contacts: int = 0
    mail_errors: int = 0
    photos: int = 0
    notes: int = 0
    visitors: int = 0
    learned: int = 0  # chip picks and suggested phrasings deleted (their text is a question)

    @property
    def total(self) -> int:
        return (self.questions + self.messages + self.comments + self.previews + self.contacts
                + self.mail_errors + self.photos + self.notes + self.visitors + self.learned)


def purge_text(
    db: Database, days: int, now: datetime | None = None, photos: PhotoStore | None = None
) -> RetentionReport:
    """Remove shopper text, addresses and photos older than ``days`` days; 0 days = keep all."""
    if days < 0:
        raise ConfigError(f"FAQBOT_RETENTION_DAYS must be >= 0 (0 = keep text), got {days}")
    if days == 0:
        return RetentionReport(None)
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    with db.write() as s:
        questions = _rowcount(s.execute(
            update(QuestionLog)
            .where(QuestionLog.created_at < cutoff, QuestionLog.text.is_not(None))
            .values(text=None)
        ))
        messages = _rowcount(s.execute(
            update(Message)
            .where(Message.created_at < cutoff, Message.role == "shopper", Message.text != "")
            .values(text="")
        ))
        comments = _rowcount(s.execute(
            update(Feedback)
            .where(Feedback.created_at < cutoff, Feedback.comment.is_not(None))
            .values(comment=None)
        )) + _rowcount(s.execute(  # the comments that come with ratings (the score stays)
            update(Rating)
            .where(Rating.created_at < cutoff, Rating.comment.is_not(None))
            .values(comment=None)
        ))
        # Open tickets keep their preview: an agent still needs it to pick the ticket up.
        previews = _rowcount(s.execute(
            update(Ticket)
            .where(Ticket.created_at < cutoff, Ticket.state == "resolved",
                   (Ticket.preview != "") | Ticket.asked_about.is_not(None)
                   | Ticket.page_url.is_not(None))
            # The topic is the shopper's words too; the page goes as the conversation's does.
            .values(preview="", asked_about=None, page_url=None)
        ))
        notes = _rowcount(s.execute(
            update(TicketEvent)
            .where(TicketEvent.created_at < cutoff, TicketEvent.kind == "note",
                   TicketEvent.text != "")
            .values(text="")
        ))
        # Conversations idle since the cutoff: the shopper's browser id and page go.
        visitors = _rowcount(s.execute(
            update(Conversation)
            .where(Conversation.updated_at < cutoff,
                   (Conversation.visitor_id.is_not(None)) | (Conversation.page_url.is_not(None)))
            .values(visitor_id=None, page_url=None)
        ))
        # An address left (or changed) longer ago than the period goes: mails still waiting
        # for it are then skipped by the outbox.
        contacts = _rowcount(s.execute(
            delete(ConversationContact).where(ConversationContact.updated_at < cutoff)
        ))
        mail_errors = _rowcount(s.execute(
            update(MailOutbox)
            .where(MailOutbox.created_at < cutoff, MailOutbox.last_error.is_not(None))
            .values(last_error=None)
        ))
        learned = _rowcount(s.execute(
            delete(ChipPick).where(ChipPick.created_at < cutoff)
        )) + _rowcount(s.execute(
            delete(LearnedPhrasing).where(LearnedPhrasing.last_seen < cutoff)
        ))
        old_photos = s.execute(
            select(Photo.id, Photo.file)
            .where(Photo.created_at < cutoff, Photo.removed_at.is_(None))
        ).all()
        if old_photos:
            s.execute(update(Photo).where(Photo.id.in_([p.id for p in old_photos]))
                      .values(removed_at=now))
    # Files go after the commit: a crash in between leaves files the sweep below removes.
    if photos is not None:
        for p in old_photos:
            photos.remove(p.file)
        with db.read() as s:
            known = set(s.scalars(select(Photo.file).where(Photo.removed_at.is_(None))))
        photos.sweep(known)
    report = RetentionReport(cutoff, questions, messages, comments, previews, contacts,
                             mail_errors, len(old_photos), notes, visitors, learned)
    if report.total:
        log.info(
            "retention: removed text older than %s from %d questions, %d messages, "
            "%d comments, %d ticket previews, %d notes, %d conversations' visitor ids; "
            "%d e-mail addresses, %d mail errors, %d photos, %d learned phrasings and picks",
            cutoff.date().isoformat(), questions, messages, comments, previews, notes, visitors,
            contacts, mail_errors, len(old_photos), learned,
        )
    return report


def _rowcount(result: Any) -> int:
    # UPDATE results are CursorResults; the generic Result type does not show rowcount.
    return int(getattr(result, "rowcount", 0) or 0)


class RetentionJob(PeriodicJob):
    """Run :func:`purge_text` now and then every ``interval_seconds`` on a daemon thread."""

    thread_name = "faq-retention"

    def __init__(self, db: Database, days: int, interval_seconds: float = DAY_SECONDS,
                 photos: PhotoStore | None = None) -> None:
        if days < 0:
            raise ConfigError(f"FAQBOT_RETENTION_DAYS must be >= 0 (0 = keep text), got {days}")
        if interval_seconds <= 0:
            raise ConfigError(f"retention interval must be positive, got {interval_seconds}")
        super().__init__(interval_seconds)
        self.db = db
        self.days = days
        self.photos = photos
        self.last: RetentionReport | None = None
        self.runs = 0

    def run_once(self) -> RetentionReport:
        """Purge once and remember the outcome."""
        self.last = purge_text(self.db, self.days, photos=self.photos)
        self.runs += 1
        return self.last

    def enabled(self) -> bool:
        """Run only when a retention period is set (0 keeps the text)."""
        return self.days > 0
