"""The period report (API and `faqbot report`), and `faqbot unanswered` from the command line."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.insights.report import period_report
from bot.store.db import Database
from bot.store.models import Conversation, Feedback, Message, QuestionLog, Ticket, utcnow
from tests.support.faqs import write_tiny_faq

MIN = 60.0
HOUR = 3600.0


def ticket(db: Database, language: str, created: datetime, first_reply: float | None,
           resolved: float | None, sla_hours: float = 4) -> None:
    """A handed-off conversation: times are seconds after ``created``."""
    sid = uuid.uuid4().hex
    with db.write() as s:
        s.add(Conversation(id=sid, language=language, created_at=created, updated_at=created))
        s.flush()
        asked = Message(conversation_id=sid, role="shopper", text="?", language=language,
                        created_at=created)
        s.add(asked)
        s.flush()
        s.add(QuestionLog(conversation_id=sid, message_id=asked.id, text="help", language=language,
                          action="handoff", score=0.1, created_at=created))
        if first_reply is not None:
            for extra in (0, 120):  # only the first agent message counts
                s.add(Message(conversation_id=sid, role="agent", text="Hi", language=language,
                              created_at=created + timedelta(seconds=first_reply + extra)))
        s.add(Ticket(conversation_id=sid, state="resolved" if resolved is not None else "open",
                     priority="normal", language=language, reason="low_confidence", guesses=[],
                     preview="?", created_at=created, queued_at=created,
                     due_at=created + timedelta(hours=sla_hours),
                     resolved_at=created + timedelta(seconds=resolved) if resolved else None))


def answered(db: Database, language: str, helpful: bool | None, at: datetime) -> None:
    sid = uuid.uuid4().hex
    with db.write() as s:
        s.add(Conversation(id=sid, language=language, created_at=at, updated_at=at))
        s.flush()
        asked = Message(conversation_id=sid, role="shopper", text="q", language=language,
                        created_at=at)
        reply = Message(conversation_id=sid, role="bot", text="a", language=language,
                        created_at=at, action="answer")
        s.add_all([asked, reply])
        s.flush()
        s.add(QuestionLog(conversation_id=sid, message_id=asked.id, text="q", language=language,
                          action="answer", score=0.9, faq_id="x", created_at=at))
        if helpful is not None:
            s.add(Feedback(conversation_id=sid, message_id=reply.id, helpful=helpful,
                           created_at=at))


@pytest.fixture
def seeded(db: Database) -> Database:
    yesterday = utcnow().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    ticket(db, "de", yesterday, 10 * MIN, 1 * HOUR)           # in time
    ticket(db, "de", yesterday, 5 * HOUR, 6 * HOUR)           # replied after the 4 h SLA
    ticket(db, "en", utcnow() - timedelta(hours=10), None, None)  # open, overdue
    ticket(db, "en", utcnow() - timedelta(minutes=5), None, None)  # open, in time
    ticket(db, "en", yesterday - timedelta(days=30), 60, 120)  # outside a 7-day window
    for helpful in (True, True, True, False):
        answered(db, "de", helpful, yesterday)
    answered(db, "en", None, yesterday)
    return db


def test_report_counts_times_and_breaches(seeded: Database) -> None:
    r = asdict(period_report(seeded, 7))  # the report as the API and CLI show it
    de, en, total = r["per_language"]["de"], r["per_language"]["en"], r["totals"]
    assert r["languages"] == ["de", "en"]
    assert (de["questions"], de["answered"], de["handed_off"]) == (6, 4, 2)
    assert (de["helpful"], de["not_helpful"], de["helpful_share"]) == (3, 1, 0.75)
    assert en["helpful_share"] is None  # nobody rated
    assert (de["tickets"], en["tickets"], total["tickets"]) == (2, 2, 4)
    # First responses 10 min and 5 h: median 2.58 h; p90 interpolates (numpy's default).
    assert de["first_response_median_s"] == 9300.0 and de["first_response_p90_s"] == 16260.0
    assert de["resolution_median_s"] == 12600.0 and de["resolution_p90_s"] == 19800.0
    assert en["first_response_median_s"] is None and en["resolution_median_s"] is None
    assert total["first_response_median_s"] == 9300.0
    assert (de["sla_breaches"], en["sla_breaches"], total["sla_breaches"]) == (1, 1, 2)
    assert len(r["per_day"]) == 7 and sum(d["questions"] for d in r["per_day"]) == 9
    assert sum(d["tickets"] for d in r["per_day_by_language"]["en"]) == 2
    month = asdict(period_report(seeded, 60))
    assert month["totals"]["tickets"] == 5 and month["totals"]["first_response_median_s"] == 600.0


def test_faqbot_report_prints_a_table_and_json(
    seeded: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("FAQBOT_DATABASE_URL", seeded.url)
    assert main(["report", "--days", "7", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["tickets"] == 4 and data["per_language"]["de"]["helpful_share"] == 0.75
    assert main(["report"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[:4] == ["language", "questions", "answered", "clarified"]
    rows = {line.split()[0]: line.split() for line in table[3:]}
    assert rows["de"][1:3] == ["6", "4"] and rows["all"][6] == "4" and rows["de"][5] == "75%"
    assert rows["de"][7] == "2.6h" and rows["all"][-1] == "2"
    with pytest.raises(SystemExit):
        main(["report", "--days", "0"])


@pytest.mark.slow
def test_faqbot_unanswered_groups_questions(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_tiny_faq(tmp_path / "faq")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAQBOT_DATABASE_URL", db.url)
    monkeypatch.setenv("FAQBOT_MODEL", "use")
    with db.write() as s:
        for text, language in (("Do you sell gift cards?", "en"),
                               ("Verkaufen Sie Geschenkgutscheine?", "de"),
                               ("¿Venden tarjetas regalo?", "es"),
                               ("Can I pick up my order in the store?", "en")):
            s.add(QuestionLog(text=text, language=language, action="handoff", score=0.2,
                              created_at=utcnow()))
    args = ["unanswered", "--faq-dir", str(tmp_path / "faq"), "--index-dir",
            str(tmp_path / "index"), "--days", "7"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pending"] == 0 and data["total_questions"] == 4
    top = data["clusters"][0]
    assert top["count"] == 3 and set(top["languages"]) == {"de", "en", "es"}
    assert top["nearest"]["faq_id"] and 0 < top["nearest"]["score"] < 1
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 unanswered questions in 2 clusters" in out and "de,en,es" in out.replace(" ", "")
