"""Retention: shopper text, notes, visitor ids, pages, addresses and photos older than N days
go; every row (but an address) and count stays."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.chat.images import CleanImage
from bot.chat.photos import PhotoStore
from bot.errors import ConfigError
from bot.insights.report import period_report, stats
from bot.matching.bot import FaqBot
from bot.runtime.retention import RetentionJob, purge_text
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    ConversationContact,
    Feedback,
    MailOutbox,
    Message,
    Photo,
    QuestionLog,
    Rating,
    Ticket,
    TicketEvent,
    utcnow,
)
from bot.web.app import create_app
from tests.support.faqs import write_tiny_faq
from tests.support.settings import make_settings


def seed(db: Database, days_ago: int, text: str, state: str = "resolved") -> str:
    """Write one conversation as the chat would: question, reply, feedback, ticket."""
    at = utcnow() - timedelta(days=days_ago)
    sid = uuid.uuid4().hex
    with db.write() as s:
        s.add(Conversation(id=sid, language="de", created_at=at, updated_at=at))
        s.flush()
        asked = Message(conversation_id=sid, role="shopper", text=text, language="de",
                        created_at=at)
        reply = Message(conversation_id=sid, role="bot", text="Wir melden uns.", language="de",
                        created_at=at, action="handoff")
        s.add_all([asked, reply])
        s.flush()
        s.add(QuestionLog(conversation_id=sid, message_id=asked.id, text=text, language="de",
                          action="handoff", reason="low_confidence", score=0.2, created_at=at))
        s.add(Feedback(conversation_id=sid, message_id=reply.id, helpful=False,
                       comment=f"comment on {text}", created_at=at))
        ticket = Ticket(conversation_id=sid, state=state, priority="normal", language="de",
                        reason="low_confidence", guesses=[], preview=text, created_at=at,
                        queued_at=at, due_at=at + timedelta(hours=4), asked_about=text,
                        resolved_at=at + timedelta(hours=1) if state == "resolved" else None)
        s.add(ticket)
        s.flush()
        s.add(Rating(conversation_id=sid, score=4, comment=f"rating on {text}", language="de",
                     agent="alice", ticket_id=ticket.id, created_at=at))
    return sid


def texts(db: Database, sid: str) -> dict[str, object]:
    with db.read() as s:
        mine = {"conversation_id": sid}
        return {
            "question": s.query(QuestionLog.text).filter_by(**mine).scalar(),
            "shopper": s.query(Message.text).filter_by(**mine, role="shopper").scalar(),
            "bot": s.query(Message.text).filter_by(**mine, role="bot").scalar(),
            "comment": s.query(Feedback.comment).filter_by(**mine).scalar(),
            "preview": s.query(Ticket.preview).filter_by(**mine).scalar(),
            "topic": s.query(Ticket.asked_about).filter_by(**mine).scalar(),
            "rating": s.query(Rating.comment).filter_by(**mine).scalar(),
        }


def test_old_text_is_removed_and_counts_stay(db: Database) -> None:
    old = seed(db, 120, "Meine Adresse ist Hauptstraße 5, wo ist mein Paket?")
    still_open = seed(db, 100, "Paket kaputt, Tel. 0151 2345678", state="open")
    recent = seed(db, 10, "Wo ist mein Paket?")
    before = (stats(period_report(db, 366)), period_report(db, 366))

    report = purge_text(db, 90)

    assert (report.questions, report.messages, report.comments, report.previews) == (2, 2, 4, 1)
    assert texts(db, old) == {"question": None, "shopper": "", "bot": "Wir melden uns.",
                              "comment": None, "preview": "", "topic": None, "rating": None}
    kept_preview = texts(db, still_open)
    assert kept_preview["question"] is None and kept_preview["shopper"] == ""
    assert kept_preview["preview"] == "Paket kaputt, Tel. 0151 2345678"  # an agent needs it
    asked = "Wo ist mein Paket?"
    assert texts(db, recent) == {"question": asked, "shopper": asked, "bot": "Wir melden uns.",
                                 "comment": f"comment on {asked}", "preview": asked,
                                 "topic": asked, "rating": f"rating on {asked}"}
    after = (stats(period_report(db, 366)), period_report(db, 366))
    assert after == before  # every count, per language and per day, is unchanged
    assert after[1].totals.questions == 3 and after[1].totals.not_helpful == 3
    assert purge_text(db, 90).total == 0  # idempotent


def add_personal_data(db: Database, sid: str, days_ago: int, photos: PhotoStore) -> str:
    """Give a seeded conversation what the inbox and the follow-up keep: return the photo file."""
    at = utcnow() - timedelta(days=days_ago)
    name = photos.save(CleanImage(data=b"jpeg bytes", kind="JPEG", content_type="image/jpeg",
                                  extension=".jpg", width=4, height=3))
    with db.write() as s:
        conv = s.get_one(Conversation, sid)
        conv.visitor_id, conv.page_url = f"visitor-{sid}", "https://shop.example/orders/4711"
        ticket = s.query(Ticket).filter_by(conversation_id=sid).one()
        ticket.page_url = conv.page_url
        asked = s.query(Message).filter_by(conversation_id=sid, role="shopper").one()
        s.add(TicketEvent(ticket_id=ticket.id, actor="alice", kind="note",
                          text="Kundin heißt Jana Muster, Tel. 0151 2345678", created_at=at))
        s.add(TicketEvent(ticket_id=ticket.id, actor="alice", kind="claim", created_at=at))
        s.add(ConversationContact(conversation_id=sid, email="jana@example.de",
                                  return_url="https://shop.example/", created_at=at,
                                  updated_at=at))
        s.add(MailOutbox(conversation_id=sid, first_message_id=asked.id,
                         last_message_id=asked.id, state="failed", due_at=at, created_at=at,
                         last_error="550 mailbox jana@example.de unknown"))
        s.add(Photo(conversation_id=sid, message_id=asked.id, file=name,
                    content_type="image/jpeg", size=10, width=4, height=3, created_at=at))
    return name


def test_notes_visitors_addresses_and_photos_go_too(db: Database, tmp_path: Path) -> None:
    photos = PhotoStore(tmp_path / "photos")
    old, recent = seed(db, 120, "Paket kaputt"), seed(db, 10, "Paket kaputt")
    old_file = add_personal_data(db, old, 120, photos)
    recent_file = add_personal_data(db, recent, 10, photos)

    report = purge_text(db, 90, photos=photos)

    assert (report.notes, report.visitors, report.contacts, report.mail_errors,
            report.photos) == (1, 1, 1, 1, 1)
    with db.read() as s:
        for sid, gone in ((old, True), (recent, False)):
            conv = s.get_one(Conversation, sid)
            assert (conv.visitor_id is None, conv.page_url is None) == (gone, gone)
            ticket = s.query(Ticket).filter_by(conversation_id=sid).one()
            assert (ticket.page_url is None, ticket.preview == "") == (gone, gone)
            events = s.query(TicketEvent).join(Ticket).filter(Ticket.conversation_id == sid)
            assert {e.kind: e.text for e in events} == {
                "note": "" if gone else "Kundin heißt Jana Muster, Tel. 0151 2345678",
                "claim": None}  # the history line stays, with who and when
            assert (s.get(ConversationContact, sid) is None) == gone
            mail = s.query(MailOutbox).filter_by(conversation_id=sid).one()
            assert (mail.last_error is None, mail.state) == (gone, "failed")
            photo = s.query(Photo).filter_by(conversation_id=sid).one()
            assert (photo.removed_at is not None) == gone
    assert not (photos.root / old_file).exists() and (photos.root / recent_file).is_file()
    assert purge_text(db, 90, photos=photos).total == 0  # idempotent


def test_retention_settings(db: Database) -> None:
    seed(db, 400, "alt")
    assert purge_text(db, 0).total == 0  # 0 keeps text forever
    with pytest.raises(ConfigError, match="FAQBOT_RETENTION_DAYS"):
        purge_text(db, -1)
    with pytest.raises(ConfigError, match="FAQBOT_RETENTION_DAYS"):
        RetentionJob(db, -5)
    assert purge_text(db, 365).questions == 1


def test_the_job_runs_at_start_and_stops(db: Database) -> None:
    sid = seed(db, 200, "alt und persönlich")
    job = RetentionJob(db, 90, interval_seconds=3600)
    job.start()
    deadline = time.monotonic() + 20
    while job.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    assert job.runs == 1 and job.last is not None and job.last.questions == 1
    assert texts(db, sid)["question"] is None


@pytest.mark.slow
def test_the_server_runs_retention_when_it_starts(
    tmp_path: Path, db_url: str, faqbot: FaqBot
) -> None:
    write_tiny_faq(tmp_path / "faq")
    settings = make_settings(tmp_path, database_url=db_url, retention_days=30)
    db = Database(db_url)
    sid = seed(db, 45, "Bitte ruf mich an: 0151 2345678")
    bot = FaqBot(settings, embedder=faqbot.embedder)
    app = create_app(settings, bot=bot)
    with TestClient(app):
        deadline = time.monotonic() + 20
        while app.state.services.retention.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert texts(db, sid)["question"] is None
    assert period_report(db, 366).totals.questions == 1
    db.dispose()
