"""The follow-up outbox against a real SMTP server process, on SQLite and PostgreSQL.

A shopper who left an address and is not on the page gets an agent's reply by e-mail,
in their language, with a link back; a server that refuses, a process that dies between
claim and send, and several senders at once all end with each mail sent exactly once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat.followup import Followup
from bot.runtime.outbox import Outbox
from bot.runtime.smtp import SmtpMailer
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Conversation, ConversationContact, MailOutbox, Message, Ticket, utcnow
from tests.support.faqs import ROOT
from tests.support.mailserver import SmtpServer, smtp_server
from tests.support.servers import free_port
from tests.support.settings import make_settings


def settings_for(tmp: Path, db_url: str, smtp: str, delay: int = 0) -> Settings:
    return make_settings(tmp, database_url=db_url, smtp_url=smtp, email_after_seconds=delay,
                         mail_from="Shop support <support@shop.example>",
                         shop_name="Example Shop")


def handed_off(db: Database, language: str = "de") -> str:
    """Create a conversation with an open ticket; return its session id."""
    sid = uuid.uuid4().hex
    now = utcnow()
    with db.write() as s:
        s.add(Conversation(id=sid, language=language, created_at=now, updated_at=now))
        s.flush()
        s.add(Ticket(conversation_id=sid, state="claimed", priority="normal",
                     language=language, reason="asked_for_person", guesses=[], preview="?",
                     created_at=now, queued_at=now, due_at=now + timedelta(hours=4),
                     claimed_by="Alice"))
    return sid


def reply(db: Database, followup: Followup, sid: str, text: str, author: str = "Alice") -> int:
    """Store an agent reply and queue it for mail, as ChatService.agent_reply does."""
    with db.write() as s:
        msg = Message(conversation_id=sid, role="agent", text=text, language="de",
                      author=author, created_at=utcnow())
        s.add(msg)
        s.flush()
        followup.queue_reply(s, sid, msg.id)
        return msg.id


def away(db: Database, sid: str) -> None:
    """Make the shopper's last visible poll long ago (they closed the tab)."""
    with db.write() as s:
        contact = s.get_one(ConversationContact, sid)
        contact.seen_at = utcnow() - timedelta(minutes=10)


def states(db: Database) -> list[str]:
    with db.read() as s:
        return [r.state for r in s.query(MailOutbox).order_by(MailOutbox.id)]


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("mail")) as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> SmtpServer:
    """The module's SMTP server, emptied for this test."""
    smtp.clear()
    return smtp


def make(tmp_path: Path, db_url: str, server_url: str, **outbox: float) -> tuple[
        Database, Followup, Outbox]:
    settings = settings_for(tmp_path, db_url, server_url)
    db = Database(db_url)
    followup = Followup(db, settings)
    assert settings.smtp is not None
    return db, followup, Outbox(db, followup, SmtpMailer(settings.smtp), **outbox)


def test_a_reply_to_an_absent_shopper_arrives_in_their_language(
    tmp_path: Path, db_url: str, mailbox: SmtpServer
) -> None:
    db, followup, outbox = make(tmp_path, db_url, mailbox.url())
    sid = handed_off(db)
    followup.set_contact(sid, " Jana.Muster@Example.COM ", "http://shop.test/p?x=1#top",
                         "http://127.0.0.1:8000")
    away(db, sid)
    reply(db, followup, sid, "Hallo Jana,\nwir schicken **Ersatz**.")
    reply(db, followup, sid, "Die Sendungsnummer folgt.", author="Bob")

    assert outbox.run_once().counts == {"sent": 1}  # both replies in one mail
    [mail] = mailbox.wait_for(1)
    assert mail["To"] == "Jana.Muster@example.com"
    assert mail["From"] == "Shop support <support@shop.example>"
    assert mail["Subject"] == "Neue Antwort von Example Shop"
    assert mail["Content-Language"] == "de" and mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Bob von Example Shop hat auf deine Nachricht geantwortet:" in text
    assert "> Hallo Jana,\n> wir schicken **Ersatz**." in text
    assert "> Die Sendungsnummer folgt." in text
    # The shop page is not this server's origin nor a listed one: the link goes home.
    assert f"http://127.0.0.1:8000/#faqbot={sid}" in text
    html = mail.get_body(("html",)).get_content()
    assert "Zum Gespräch" in html and "<strong>" not in html and "&lt;" not in text
    assert states(db) == ["sent"]
    assert outbox.run_once().counts == {}  # nothing twice
    assert len(mailbox.wait_for(1, timeout=0.5)) == 1


def test_a_shopper_on_the_page_gets_no_mail(
    tmp_path: Path, db_url: str, mailbox: SmtpServer
) -> None:
    db, followup, outbox = make(tmp_path, db_url, mailbox.url())
    sid = handed_off(db, "fr")
    followup.set_contact(sid, "lea@example.fr", None, "http://127.0.0.1:8000")
    msg_id = reply(db, followup, sid, "Bonjour, c'est réglé.")
    # Polled a moment ago from a visible page, but not yet shown the reply: wait.
    assert outbox.run_once().counts == {"postponed": 1}
    # The next poll shows it: the row is skipped, no mail.
    assert followup.on_poll(sid, msg_id, "handoff", visible=True).email == "lea@example.fr"
    later = Outbox(db, followup, outbox.mailer, clock=lambda: utcnow() + timedelta(minutes=1))
    assert later.run_once().counts == {"skipped": 1}
    assert mailbox.received() == [] and states(db) == ["skipped"]


def test_a_hidden_tab_does_not_count_as_here(
    tmp_path: Path, db_url: str, mailbox: SmtpServer
) -> None:
    db, followup, outbox = make(tmp_path, db_url, mailbox.url())
    sid = handed_off(db, "en")
    followup.set_contact(sid, "sam@example.com", None, "http://127.0.0.1:8000")
    away(db, sid)
    msg_id = reply(db, followup, sid, "We refunded you.")
    followup.on_poll(sid, msg_id, "handoff", visible=False)  # a background tab polls
    assert outbox.run_once().counts == {"sent": 1}
    assert mailbox.wait_for(1)[0]["Subject"] == "New reply from Example Shop"


def test_a_refusing_server_delays_the_mail_and_loses_nothing(
    tmp_path: Path, db_url: str
) -> None:
    with smtp_server(tmp_path / "busy", "--refuse", "2") as busy:
        db, followup, outbox = make(tmp_path, db_url, busy.url(), backoff_seconds=30)
        sid = handed_off(db, "es")
        followup.set_contact(sid, "ana@example.es", None, "http://127.0.0.1:8000")
        away(db, sid)
        reply(db, followup, sid, "Hola Ana, ya está.")
        assert outbox.run_once().counts == {"deferred": 1}
        assert outbox.run_once().counts == {}  # not due again yet (30 s)
        for minutes in (1, 3):  # backoff 30 s, then 60 s
            later = Outbox(db, followup, outbox.mailer,
                           clock=lambda m=minutes: utcnow() + timedelta(minutes=m))
            outcome = later.run_once().counts
        assert outcome == {"sent": 1}
        [mail] = busy.wait_for(1)
        assert mail["Subject"] == "Nueva respuesta de Example Shop"
    with db.read() as s:
        row = s.query(MailOutbox).one()
        assert (row.state, row.attempts, row.last_error) == ("sent", 3, None)


def test_no_server_at_all_then_one_arrives(tmp_path: Path, db_url: str) -> None:
    port = free_port()
    db, followup, outbox = make(tmp_path, db_url, f"smtp://127.0.0.1:{port}?timeout=5",
                                backoff_seconds=1)
    sid = handed_off(db, "de")
    followup.set_contact(sid, "max@example.de", None, "http://127.0.0.1:8000")
    away(db, sid)
    reply(db, followup, sid, "Erledigt.")
    assert outbox.run_once().counts == {"deferred": 1}
    with db.read() as s:
        assert "Connection" in (s.query(MailOutbox).one().last_error or "")
    with smtp_server(tmp_path / "late", port=port) as late:
        soon = Outbox(db, followup, outbox.mailer, clock=lambda: utcnow() + timedelta(minutes=5))
        assert soon.run_once().counts == {"sent": 1}
        assert len(late.wait_for(1)) == 1


def test_an_unknown_recipient_fails_for_good(
    tmp_path: Path, db_url: str, mailbox: SmtpServer
) -> None:
    db, followup, outbox = make(tmp_path, db_url, mailbox.url())
    sid = handed_off(db, "en")
    followup.set_contact(sid, "nobody@example.com", None, "http://127.0.0.1:8000")
    away(db, sid)
    reply(db, followup, sid, "Hi")
    assert outbox.run_once().counts == {"failed": 1}
    with db.read() as s:
        assert "550" in (s.query(MailOutbox).one().last_error or "")


def test_a_crash_between_claim_and_send_is_sent_once_after_the_lease(
    tmp_path: Path, db_url: str, mailbox: SmtpServer
) -> None:
    db, followup, outbox = make(tmp_path, db_url, mailbox.url())
    sid = handed_off(db, "de")
    followup.set_contact(sid, "kai@example.de", None, "http://127.0.0.1:8000")
    away(db, sid)
    reply(db, followup, sid, "Ist unterwegs.")
    # A real process claims the row and dies before sending anything.
    crash = (
        "import os, sys\n"
        "from bot.store.db import Database\n"
        "from bot.runtime.outbox import Outbox\n"
        "ob = Outbox(Database(sys.argv[1]), None, None)\n"
        "assert len(ob.claim()) == 1\n"
        "os._exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", crash, db_url], cwd=ROOT, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert states(db) == ["sending"]
    assert outbox.run_once().counts == {}  # its lease still holds: nobody else sends
    after_lease = Outbox(db, followup, outbox.mailer,
                         clock=lambda: utcnow() + timedelta(minutes=6))
    assert after_lease.run_once().counts == {"sent": 1}
    assert after_lease.run_once().counts == {}
    assert len(mailbox.wait_for(1)) == 1 and states(db) == ["sent"]


def test_several_senders_send_each_mail_once(
    tmp_path: Path, db_url: str, mailbox: SmtpServer
) -> None:
    db, followup, _outbox = make(tmp_path, db_url, mailbox.url())
    sids = []
    for i in range(12):
        sid = handed_off(db, "en")
        followup.set_contact(sid, f"shopper{i}@example.com", None, "http://127.0.0.1:8000")
        away(db, sid)
        reply(db, followup, sid, f"Reply {i}")
        sids.append(sid)
    settings = settings_for(tmp_path, db_url, mailbox.url())
    assert settings.smtp is not None
    results: list[dict[str, int]] = []

    def sender() -> None:
        own = Database(db_url)  # its own engine and pool, as another process would have
        try:
            results.append(Outbox(own, Followup(own, settings),
                                  SmtpMailer(settings.smtp)).run_once().counts)  # type: ignore[arg-type]
        finally:
            own.dispose()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(r.get("sent", 0) for r in results) == 12
    mails = mailbox.wait_for(12)
    assert sorted(m["To"] for m in mails) == sorted(f"shopper{i}@example.com" for i in range(12))
    assert len({m["Message-ID"] for m in mails}) == 12
    assert states(db) == ["sent"] * 12
