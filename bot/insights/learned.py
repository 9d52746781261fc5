"""Learning from use: clarify chips shoppers picked become suggested phrasings for the lead.

A shopper asks in their words, the bot offers chips, the shopper taps one (bot/chat/
learning.py stores the tap as a pending pick). What follows judges the pick:

- "helpful" on the answer, before any complaint: counted;
- a thumbs down or a handoff (a ticket opened or reopened) in the conversation within
  FAQBOT_LEARN_TURNS later shopper messages and FAQBOT_LEARN_MINUTES: rejected;
- no complaint once those turns were taken or the minutes passed: counted.

A counted pick adds one to its (entry, normalised question) suggestion; the lead page lists
them, most confirmed first, and a lead accepts one (its words become a phrasing of the entry
through bot/faq/edit.py, and the index reloads) or dismisses it. Picks are judged lazily,
when the list is read (:func:`settle`): nothing is added to the chat's hot path but the
one insert of the tap. The question text is personal data: the retention job deletes old
picks and suggestions (bot/runtime/retention.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import ConflictError, InputError, NotFoundError
from bot.faq.load import normalise_phrasing
from bot.store.db import Database
from bot.store.models import ChipPick, Feedback, LearnedPhrasing, Message, Ticket, utcnow

STATES = ("suggested", "accepted", "dismissed")
KEY_CHARS = 300  # learned_phrasings.key
_BATCH = 500  # picks judged per settle call (the rest wait for the next read)


@dataclass(frozen=True)
class Learned:
    """A suggested phrasing as the lead page shows it."""

    id: int
    faq_id: str
    question: str
    language: str
    count: int  # picks that confirmed it
    state: str  # suggested | accepted | dismissed
    first_seen: datetime
    last_seen: datetime
    decided_by: str | None
    decided_at: datetime | None


def learned_view(r: LearnedPhrasing) -> Learned:
    """Return a stored suggestion as the API shows it."""
    return Learned(id=r.id, faq_id=r.faq_id, question=r.question, language=r.language,
                   count=r.count, state=r.state, first_seen=r.first_seen,
                   last_seen=r.last_seen, decided_by=r.decided_by, decided_at=r.decided_at)


def judge(s: Session, pick: ChipPick, turns: int, minutes: float, now: datetime) -> str:
    """Return "counted", "rejected" or "pending" for one pick, from what followed it."""
    start, deadline = pick.created_at, pick.created_at + timedelta(minutes=minutes)
    helpful_at = s.scalar(select(func.min(Feedback.created_at)).where(
        Feedback.message_id == pick.message_id, Feedback.helpful.is_(True)))
    thumbs_down = s.scalar(select(func.min(Feedback.created_at)).where(
        Feedback.conversation_id == pick.conversation_id, Feedback.helpful.is_(False),
        Feedback.created_at >= start))
    handoff = s.scalar(select(func.min(Ticket.queued_at)).where(
        Ticket.conversation_id == pick.conversation_id, Ticket.queued_at >= start))
    complaints = [t for t in (thumbs_down, handoff) if t is not None and t <= deadline]
    complaint = min(complaints) if complaints else None
    if complaint is not None:
        before = int(s.scalar(select(func.count()).select_from(Message).where(
            Message.conversation_id == pick.conversation_id, Message.role == "shopper",
            Message.id > pick.message_id, Message.created_at <= complaint)) or 0)
        if before > turns:
            complaint = None  # after the watched turns: the pick had already proved itself
    if complaint is not None and (helpful_at is None or complaint < helpful_at):
        return "rejected"
    if helpful_at is not None:
        return "counted"
    later = int(s.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == pick.conversation_id, Message.role == "shopper",
        Message.id > pick.message_id)) or 0)
    return "counted" if later >= turns or now > deadline else "pending"


def _count(s: Session, pick: ChipPick) -> None:
    """Add a counted pick to its (entry, normalised question) suggestion."""
    key = normalise_phrasing(pick.question)[:KEY_CHARS]
    if not key:
        return
    row = s.scalars(select(LearnedPhrasing).where(
        LearnedPhrasing.faq_id == pick.faq_id, LearnedPhrasing.key == key
    ).with_for_update()).first()
    if row is None:
        s.add(LearnedPhrasing(faq_id=pick.faq_id, key=key, question=pick.question,
                              language=pick.language, count=1, state="suggested",
                              first_seen=pick.created_at, last_seen=pick.created_at))
        s.flush()
    else:
        row.count += 1  # a dismissed one keeps counting quietly; it is not shown again
        row.last_seen = max(row.last_seen, pick.created_at)


def settle(db: Database, turns: int, minutes: float, now: datetime | None = None) -> int:
    """Judge the pending picks; return how many were counted."""
    now = now or utcnow()
    for attempt in range(2):
        try:
            return _settle(db, turns, minutes, now)
        except IntegrityError:
            if attempt:  # two servers created the same suggestion at once: read again
                raise
    return 0


def _settle(db: Database, turns: int, minutes: float, now: datetime) -> int:
    counted = 0
    with db.write() as s:
        picks = s.scalars(
            select(ChipPick).where(ChipPick.state == "pending").order_by(ChipPick.id)
            .limit(_BATCH).with_for_update(skip_locked=True)
        ).all()
        for pick in picks:
            verdict = judge(s, pick, turns, minutes, now)
            if verdict == "pending":
                continue
            pick.state = verdict
            if verdict == "counted":
                _count(s, pick)
                counted += 1
    return counted


def suggestions(db: Database, state: str = "suggested", limit: int = 200) -> list[Learned]:
    """Return the suggestions in ``state``, most confirmed and newest first."""
    if state not in STATES:
        raise InputError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    with db.read() as s:
        rows = s.scalars(
            select(LearnedPhrasing).where(LearnedPhrasing.state == state)
            .order_by(LearnedPhrasing.count.desc(), LearnedPhrasing.last_seen.desc(),
                      LearnedPhrasing.id)
            .limit(limit)
        ).all()
        return [learned_view(r) for r in rows]


def get(db: Database, learned_id: int) -> Learned:
    """Return one suggestion that a lead may still accept or dismiss."""
    with db.read() as s:
        row = s.get(LearnedPhrasing, learned_id)
        if row is None:
            raise NotFoundError(f"no suggested phrasing {learned_id}")
        if row.state != "suggested":
            raise ConflictError(f"suggested phrasing {learned_id} was already {row.state} "
                                f"by {row.decided_by}")
        return learned_view(row)


def decide(db: Database, learned_id: int, state: str, author: str) -> Learned:
    """Mark a suggestion accepted or dismissed by ``author``; return it."""
    if state not in ("accepted", "dismissed"):
        raise InputError(f"a suggestion is accepted or dismissed, not {state!r}")
    with db.write() as s:
        row = s.scalars(select(LearnedPhrasing).where(LearnedPhrasing.id == learned_id)
                        .with_for_update()).first()
        if row is None:
            raise NotFoundError(f"no suggested phrasing {learned_id}")
        if row.state != "suggested":
            raise ConflictError(f"suggested phrasing {learned_id} was already {row.state} "
                                f"by {row.decided_by}")
        row.state, row.decided_by, row.decided_at = state, author, utcnow()
        s.flush()
        return learned_view(row)
