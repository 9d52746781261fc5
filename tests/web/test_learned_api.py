"""Issue 17 over HTTP: the person chip in /api/chat, and the lead's suggested phrasings.

A lead lists the phrasings learned from chips shoppers tapped, accepts one (it is written
into the entry's YAML through bot/faq/edit.py and the bot answers it right away) or
dismisses one (the file stays as it was). Real model, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.faq.edit import read_entry
from bot.matching.bot import FaqBot
from bot.web.app import create_app
from tests.support.faqs import write_tiny_faq
from tests.support.people import add_person
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow

LeadApp = tuple[TestClient, Path, dict[str, str]]


@pytest.fixture
def lead_app(tmp_path: Path, faqbot: FaqBot, db_url: str) -> Iterator[LeadApp]:
    """An app on its own writable tiny FAQ (the session's stays as is), and Lena's key."""
    settings = make_settings(tmp_path, database_url=db_url)
    path = write_tiny_faq(settings.faq_dir)
    bot = FaqBot(settings, embedder=faqbot.embedder)
    assert bot.reload().ok
    with TestClient(create_app(settings, bot=bot)) as client:
        yield client, path, add_person(settings, "Lena", "lead")


def chat(client: TestClient, message: str, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def learn(client: TestClient, question: str) -> dict[str, Any]:
    """A shopper asks, taps the first chip and finds the answer helpful."""
    unsure = chat(client, question)
    assert unsure["action"] == "clarify" and unsure["person_chip"], unsure
    chip = unsure["suggestions"][0]
    picked = chat(client, chip["question"], session_id=unsure["session_id"],
                  suggestion_id=chip["faq_id"])
    r = client.post("/api/feedback", json={"session_id": picked["session_id"],
                                           "message_id": picked["message_id"],
                                           "helpful": True})
    assert r.status_code == 200, r.text
    return chip


def test_the_lead_accepts_and_dismisses_learned_phrasings(lead_app: LeadApp) -> None:
    client, path, lena = lead_app
    assert client.get("/api/lead/learned").status_code == 401  # a lead's key only
    chip = learn(client, "delivery")
    learn(client, "payment")
    listed = client.get("/api/lead/learned", headers=lena).json()
    assert listed["state"] == "suggested"
    rows = {r["question"]: r for r in listed["suggestions"]}
    assert set(rows) == {"delivery", "payment"}
    first = rows["delivery"]
    assert (first["faq_id"], first["language"], first["count"]) == (chip["faq_id"], "en", 1)
    assert first["title"] == chip["question"]

    before = path.read_text(encoding="utf-8")
    r = client.post(f"/api/lead/learned/{rows['payment']['id']}/dismiss", headers=lena)
    assert r.status_code == 200 and r.json()["decided_by"] == "Lena"
    assert path.read_text(encoding="utf-8") == before  # dismissing writes nothing

    r = client.post(f"/api/lead/learned/{first['id']}/accept", headers=lena)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["reload"]["reload_ok"] and out["change"]["author"] == "Lena"
    assert read_entry(path.parent, chip["faq_id"])[1].questions["en"][-1] == "delivery"
    assert "payment" not in read_entry(path.parent, "payment-methods")[1].questions["en"]
    assert chat(client, "delivery")["action"] == "answer"  # live at once
    again = client.post(f"/api/lead/learned/{first['id']}/accept", headers=lena)
    assert again.status_code == 409
    assert client.get("/api/lead/learned", headers=lena).json()["suggestions"] == []
    accepted = client.get("/api/lead/learned?state=accepted", headers=lena).json()
    assert [r["question"] for r in accepted["suggestions"]] == ["delivery"]
    history = client.get("/api/lead/history", headers=lena).json()["changes"]
    assert "learned from use" in history[0]["summary"]
