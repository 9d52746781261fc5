"""The agents' inbox beyond claim and reply: notes, history, assignment, search, context.

- **Notes** and the ticket's **history** (claimed, assigned, resolved, spam ...) are rows of
  ``ticket_events``, never ``messages``: whatever shows a shopper their conversation (the
  widget's polling and stream, e-mail follow-up) reads ``messages`` only, so a note cannot
  reach a shopper by any path. Every row carries the name of the key's owner.
- **Assign / take**: one conditional UPDATE, like a claim; with ``expected`` (the holder the
  agent saw) it fails with 409 if someone else moved the ticket meanwhile.
- **Search** by ticket id (``123`` or ``#123``) and by text in the conversation, the ticket's
  preview and its notes.
- **Customer context**: the conversation's locale, market and page, the e-mail address the
  shopper left for replies (bot/chat/followup.py), and the shopper's earlier conversations.
  A shopper is recognised across conversations by the visitor id the widget keeps in their
  browser's localStorage (random, no personal data; another browser or a cleared storage is
  a new visitor); retention blanks it with the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from bot.chat.followup import Followup
from bot.chat.tickets import ticket_view
from bot.chat.views import CustomerView, EarlierConversation, EventView, TicketView
from bot.errors import ConflictError, InputError, NotFoundError
from bot.store.db import Database
from bot.store.models import Conversation, Message, Ticket, TicketEvent, utcnow

MAX_NOTE_CHARS = 5000
EVENT_KINDS = (
    "note", "claim", "release", "assign", "resolve", "spam", "reopen", "withdraw",
)
EARLIER_LIMIT = 10
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_PAGE_URL_CHARS = 500  # conversations.page_url and tickets.page_url (migration 0004)
_TICKET_ID = re.compile(r"^#?(\d{1,12})$")


def clean_visitor(value: str | None) -> str | None:
    """Return a well-formed visitor id, else None (an odd value is dropped, not an error)."""
    return value if value and VISITOR_ID.match(value) else None


def clean_page_url(value: str | None) -> str | None:
    """Return an http(s) page address without query or fragment, else None."""
    if not value:
        return None
    url = value.strip()
    if not re.match(r"^https?://[^\s/?#]+\S*$", url, re.IGNORECASE):
        return None
    # The widget drops them already; an older widget may not: they can hold tokens or e-mails.
    return re.split(r"[?#]", url, maxsplit=1)[0][:MAX_PAGE_URL_CHARS]


def noted_untranslated(s: Session, conversation_id: str) -> bool:
    """Tell whether the shopper was told, since their last message, that a reply could not
    be translated (the notice comes once per turn of the agent's, not after every reply)."""
    last_shopper = select(func.max(Message.id)).where(
        Message.conversation_id == conversation_id, Message.role == "shopper").scalar_subquery()
    return s.scalar(
        select(func.count()).select_from(Message).where(
            Message.conversation_id == conversation_id, Message.action == "untranslated",
            Message.id > func.coalesce(last_shopper, 0))
    ) != 0


def record(
    s: Session,
    ticket_id: int,
    actor: str,
    kind: str,
    text: str | None = None,
    target: str | None = None,
    previous: str | None = None,
) -> TicketEvent:
    """Add one line to a ticket's history inside the caller's transaction."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown ticket event {kind!r}")
    event = TicketEvent(ticket_id=ticket_id, actor=actor, kind=kind, text=text, target=target,
                        previous=previous, created_at=utcnow())
    s.add(event)
    s.flush()
    return event


def event_view(e: TicketEvent) -> EventView:
    """Return a history line as the agent sees it."""
    return EventView(id=e.id, kind=e.kind, actor=e.actor, text=e.text, target=e.target,
                     previous=e.previous, created_at=e.created_at)


def events(s: Session, ticket_id: int) -> list[EventView]:
    """Return a ticket's notes and history, oldest first."""
    rows = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                     .order_by(TicketEvent.id))
    return [event_view(e) for e in rows]


@dataclass(frozen=True)
class Moved:
    """The outcome of an assignment: the ticket and who held it before (None = nobody)."""

    ticket: TicketView
    previous: str | None


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _get(s: Session, ticket_id: int) -> Ticket:
    t = s.scalars(select(Ticket).where(Ticket.id == ticket_id)
                  .execution_options(populate_existing=True)).first()
    if t is None:
        raise NotFoundError(f"no ticket {ticket_id}")
    return t


class Inbox:
    """Notes, assignment, search and customer context on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- notes ----
    def add_note(self, ticket_id: int, author: str, text: str) -> EventView:
        """Add an internal note (agents only; never shown to the shopper)."""
        body = text.strip()
        if not body:
            raise InputError("the note is empty")
        if len(body) > MAX_NOTE_CHARS:
            raise InputError(f"the note is {len(body)} characters; the limit is {MAX_NOTE_CHARS}")
        with self.db.write() as s:
            _get(s, ticket_id)
            return event_view(record(s, ticket_id, author, "note", text=body))

    def events(self, ticket_id: int) -> list[EventView]:
        """Return a ticket's notes and history, oldest first."""
        with self.db.read() as s:
            return events(s, ticket_id)

    # ---- assignment ----
    def assign(
        self, ticket_id: int, actor: str, to: str, expected: str | None, check: bool
    ) -> Moved:
        """Give an open or claimed ticket to ``to``.

        With ``check`` the ticket must still be held by ``expected`` (None: still open), so
        an agent never takes a ticket from someone they did not see holding it.
        """
        with self.db.write() as s:
            t = _get(s, ticket_id)
            previous = t.claimed_by if t.state == "claimed" else None
            if t.state == "resolved":
                raise ConflictError(f"ticket {ticket_id} is resolved: reopen it first")
            if check and previous != expected:
                held = f"held by {previous}" if previous else "open"
                raise ConflictError(f"ticket {ticket_id} is {held} now; look again before "
                                    "moving it")
            if previous == to:
                return Moved(ticket_view(t), previous)
            stmt = update(Ticket).where(Ticket.id == ticket_id, Ticket.state == t.state)
            stmt = stmt.where(Ticket.claimed_by == previous if previous is not None
                              else Ticket.claimed_by.is_(None))
            won = _rowcount(s.execute(
                stmt.values(state="claimed", claimed_by=to, claimed_at=utcnow()),
                execution_options={"synchronize_session": False},
            ))
            if won != 1:
                raise ConflictError(f"ticket {ticket_id} changed meanwhile; look again")
            record(s, ticket_id, actor, "assign", target=to, previous=previous)
            return Moved(ticket_view(_get(s, ticket_id)), previous)

    def mark_spam(self, ticket_id: int, actor: str) -> TicketView:
        """Close a ticket as spam: no notice to the shopper, out of the response times.

        Allowed on open tickets, tickets the actor holds, and resolved ones (to fix the
        record); a ticket someone else holds is theirs to judge.
        """
        with self.db.write() as s:
            t = _get(s, ticket_id)
            if t.state == "claimed" and t.claimed_by != actor:
                raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by "
                                    f"{actor}")
            if t.spam:
                return ticket_view(t)
            values: dict[str, Any] = {"state": "resolved", "spam": True}
            if t.state != "resolved":
                values["resolved_at"] = utcnow()
            won = _rowcount(s.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.state == t.state)
                .values(**values), execution_options={"synchronize_session": False},
            ))
            if won != 1:
                raise ConflictError(f"ticket {ticket_id} changed meanwhile; look again")
            record(s, ticket_id, actor, "spam")
            return ticket_view(_get(s, ticket_id))

    # ---- search ----
    def search(self, query: str, state: str | None, limit: int) -> list[TicketView]:
        """Find tickets by id (``123``, ``#123``) or by text, newest first."""
        q = query.strip()
        if not q:
            raise InputError("type a ticket id or some words to search for")
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"
        in_messages = select(Message.conversation_id).where(
            Message.text.ilike(pattern, escape="\\"))
        in_notes = select(TicketEvent.ticket_id).where(
            TicketEvent.kind == "note", TicketEvent.text.ilike(pattern, escape="\\"))
        conditions: list[ColumnElement[bool]] = [
            Ticket.conversation_id.in_(in_messages), Ticket.id.in_(in_notes),
            Ticket.preview.ilike(pattern, escape="\\"),
        ]
        number = _TICKET_ID.match(q)
        if number:
            conditions.append(Ticket.id == int(number.group(1)))
        stmt = select(Ticket).where(or_(*conditions))
        if state:
            stmt = stmt.where(Ticket.state == state)
        with self.db.read() as s:
            found = list(s.scalars(stmt.order_by(Ticket.queued_at.desc(), Ticket.id.desc())
                                   .limit(limit)))
        if number:  # the ticket named by its id comes first
            wanted = int(number.group(1))
            found.sort(key=lambda t: t.id != wanted)
        return [ticket_view(t) for t in found]

    # ---- customer context ----
    def customer(self, conversation_id: str) -> CustomerView:
        """Return what is known about the shopper of a conversation, for the agent."""
        with self.db.read() as s:
            return _customer(s, conversation_id)


def _customer(s: Session, conversation_id: str) -> CustomerView:
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        raise NotFoundError(f"no conversation {conversation_id!r}")
    earlier: list[EarlierConversation] = []
    if conv.visitor_id:
        # A conversation may have had several tickets (a handoff long after a resolution
        # opens a new one): each earlier conversation is listed once, with its newest.
        newest = (select(func.max(Ticket.id)).where(Ticket.conversation_id == Conversation.id)
                  .correlate(Conversation).scalar_subquery())
        rows = s.execute(
            select(Conversation.id, Conversation.created_at, Conversation.language,
                   Ticket.id, Ticket.state)
            .outerjoin(Ticket, Ticket.id == newest)
            .where(Conversation.visitor_id == conv.visitor_id,
                   Conversation.id != conv.id)
            .order_by(Conversation.created_at.desc()).limit(EARLIER_LIMIT)
        ).all()
        firsts = _first_questions(s, [r[0] for r in rows])
        earlier = [
            EarlierConversation(session_id=sid, started_at=at, language=lang, ticket_id=tid,
                                ticket_state=tstate, first_message=firsts.get(sid, ""))
            for sid, at, lang, tid, tstate in rows
        ]
    return CustomerView(session_id=conv.id, language=conv.language, locale=conv.locale,
                        market=conv.market, page_url=conv.page_url, started_at=conv.created_at,
                        email=Followup.contact_email(s, conv.id), earlier=earlier)


def _first_questions(s: Session, conversation_ids: list[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    first = (select(func.min(Message.id)).where(Message.conversation_id.in_(conversation_ids),
                                                Message.role == "shopper")
             .group_by(Message.conversation_id))
    rows = s.execute(select(Message.conversation_id, Message.text)
                     .where(Message.id.in_(first))).all()
    return {sid: text for sid, text in rows}
