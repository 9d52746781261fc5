"""The agents' inbox in the database (bot/chat/inbox.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot.chat.inbox import Inbox, events
from bot.chat.tickets import TicketStore, Triage
from bot.errors import ConflictError, InputError, NotFoundError
from bot.store.db import Database
from bot.store.models import Conversation, Message, utcnow

SLA = {"urgent": 30, "normal": 240}


@pytest.fixture
def inbox(db: Database) -> Inbox:
    return Inbox(db)


def open_ticket(db: Database, text: str = "where is my parcel", visitor: str | None = None,
                language: str = "en", ago: timedelta = timedelta(0)) -> tuple[int, str]:
    sid = uuid.uuid4().hex
    store = TicketStore(Triage.default(), SLA)
    with db.write() as s:
        s.add(Conversation(id=sid, language=language, visitor_id=visitor, locale="de-DE",
                           market="EU", page_url="https://shop.example/cart",
                           created_at=utcnow() - ago))
        s.flush()
        s.add(Message(conversation_id=sid, role="shopper", text=text, language=language))
        t = store.create(s, sid, language, "low_confidence", [], text, text)
        return t.id, sid


def test_notes_carry_their_author_and_stay_out_of_messages(db: Database, inbox: Inbox) -> None:
    tid, sid = open_ticket(db)
    note = inbox.add_note(tid, "alice", "  Called the carrier: parcel lost.  ")
    assert (note.kind, note.actor, note.text) == ("note", "alice",
                                                           "Called the carrier: parcel lost.")
    with db.read() as s:
        texts = [m.text for m in s.query(Message).filter_by(conversation_id=sid)]
        assert not any("carrier" in t for t in texts)
        assert [e.text for e in events(s, tid)] == ["Called the carrier: parcel lost."]
    with pytest.raises(InputError, match="empty"):
        inbox.add_note(tid, "alice", "   ")
    with pytest.raises(InputError, match="limit"):
        inbox.add_note(tid, "alice", "x" * 5001)
    with pytest.raises(NotFoundError):
        inbox.add_note(999_999, "alice", "hello")


def test_assign_and_take_check_who_held_the_ticket(db: Database, inbox: Inbox) -> None:
    tid, _ = open_ticket(db)
    moved = inbox.assign(tid, "lena", "alice", expected=None, check=True)
    assert (moved.ticket.state, moved.ticket.claimed_by, moved.previous) == (
        "claimed", "alice", None)
    with pytest.raises(ConflictError, match="held by alice"):
        inbox.assign(tid, "bob", "bob", expected="carol", check=True)
    moved = inbox.assign(tid, "bob", "bob", expected="alice", check=True)  # take over
    assert (moved.ticket.claimed_by, moved.previous) == ("bob", "alice")
    history = [(e.kind, e.actor, e.target, e.previous) for e in inbox.events(tid)]
    assert history == [("assign", "lena", "alice", None), ("assign", "bob", "bob", "alice")]


def test_spam_closes_quietly_and_only_for_whoever_may(db: Database, inbox: Inbox) -> None:
    tid, sid = open_ticket(db)
    inbox.assign(tid, "alice", "alice", expected=None, check=False)
    with pytest.raises(ConflictError, match="held by alice"):
        inbox.mark_spam(tid, "bob")
    t = inbox.mark_spam(tid, "alice")
    assert (t.state, t.spam) == ("resolved", True)
    with db.read() as s:
        assert s.query(Message).filter_by(conversation_id=sid).count() == 1  # no notice
    with pytest.raises(ConflictError, match="resolved"):
        inbox.assign(tid, "alice", "bob", expected=None, check=False)


def test_search_by_id_text_and_notes(db: Database, inbox: Inbox) -> None:
    a, _ = open_ticket(db, "Mein Paket ist beschädigt")
    b, _ = open_ticket(db, "refund for order 12345 please")
    inbox.add_note(a, "alice", "customer is 50%_off VIP")
    assert [t.id for t in inbox.search("PAKET", None, 50)] == [a]
    assert [t.id for t in inbox.search("12345", None, 50)] == [b]
    assert next(t.id for t in inbox.search(f"#{b}", None, 50)) == b
    assert [t.id for t in inbox.search("50%_off", None, 50)] == [a]  # % and _ are literal
    assert inbox.search("50%_of_", None, 50) == []
    assert inbox.search("refund", "resolved", 50) == []
    with pytest.raises(InputError):
        inbox.search("  ", None, 50)


def test_customer_context_lists_the_visitors_earlier_conversations(
    db: Database, inbox: Inbox
) -> None:
    old, old_sid = open_ticket(db, "first visit question", visitor="v1", ago=timedelta(days=2))
    open_ticket(db, "someone else", visitor="v2")
    _, sid = open_ticket(db, "second visit", visitor="v1")
    c = inbox.customer(sid)
    assert (c.locale, c.market, c.page_url) == ("de-DE", "EU",
                                                         "https://shop.example/cart")
    assert [(e.session_id, e.ticket_id, e.first_message) for e in c.earlier] == [
        (old_sid, old, "first visit question")]
    # The first visit's ticket was resolved and, days later, a new one opened (issue 16):
    # the visit is still listed once, with its newest ticket.
    store = TicketStore(Triage.default(), SLA)
    with db.write() as s:
        store.resolve(s, old, "alice")
        again = store.create(s, old_sid, "en", "asked_for_person", [], "again", "again").id
    assert [(e.session_id, e.ticket_id, e.ticket_state) for e in inbox.customer(sid).earlier
            ] == [(old_sid, again, "open")]
    assert inbox.customer(open_ticket(db)[1]).earlier == []  # no visitor id
