"""The lead edits an entry's answer in any language, and sees thumbs-down per entry."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.web.app import create_app
from tests.support.people import add_person
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow

# A shop file with the lead's comments: edits must keep them byte for byte.
SHOP_FAQ = textwrap.dedent("""\
    # Shop FAQ - owned by Lena. Keep the most asked entries first.
    entries:
      - id: payment-methods   # linked from checkout
        questions:
          en: [Which payment methods do you accept?, Can I pay with PayPal?]
        answer:
          en: We accept cards, PayPal and bank transfer.

      # Delivery times are checked by logistics every quarter.
      - id: shipping-time
        questions:
          en:
            - How long does delivery take?
            - When will my order arrive?   # shoppers also say "parcel"
        answer:
          en: Delivery takes 2 to 4 working days.
    # end of shop entries
    """)


LeadApp = tuple[TestClient, Path, dict[str, str]]


@pytest.fixture
def lead_app(tmp_path: Path, faqbot: FaqBot, db_url: str) -> Iterator[LeadApp]:
    """An app on its own writable FAQ (the session's FAQ stays as is), and Lena's key."""
    settings = make_settings(tmp_path, database_url=db_url)
    settings.faq_dir.mkdir(parents=True)
    (settings.faq_dir / "shop.yaml").write_text(SHOP_FAQ, encoding="utf-8")
    bot = FaqBot(settings, embedder=faqbot.embedder)
    assert bot.reload().ok
    with TestClient(create_app(settings, bot=bot)) as client:
        yield client, settings.faq_dir / "shop.yaml", add_person(settings, "Lena", "lead")


def chat(client: TestClient, message: str, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_lead_edits_answers_and_the_bot_answers_with_them(lead_app: LeadApp) -> None:
    client, path, lena = lead_app
    entries = client.get("/api/lead/entries", headers=lena).json()["entries"]
    titles = {e["id"]: (e["question"], e["answer_languages"]) for e in entries}
    assert titles["shipping-time"] == ("How long does delivery take?", ["en"])
    entry = client.get("/api/lead/entries/shipping-time", headers=lena).json()
    assert entry["answer"] == {"en": "Delivery takes 2 to 4 working days."}
    assert (entry["file"], entry["title"]) == ("shop", "How long does delivery take?")

    # A German answer where there was none: the file keeps every comment.
    de = "Die Lieferung dauert **2 bis 4 Werktage**."
    r = client.post("/api/lead/entries/shipping-time/answer", headers=lena,
                    json={"language": "de", "text": de, "expected": ""})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["reload"]["reload_ok"] and out["change"]["author"] == "Lena"
    assert out["change"]["summary"] == "de answer of shipping-time written"
    text = path.read_text(encoding="utf-8")
    for line in SHOP_FAQ.splitlines():
        assert line in text.splitlines(), line  # nothing the lead wrote is lost
    reply = chat(client, "Wie lange dauert die Lieferung?", language="de")
    assert (reply["faq_id"], reply["answer"], reply["answer_language"]) == (
        "shipping-time", de, "de")

    # Rewriting the English answer: history keeps before and after.
    r = client.post("/api/lead/entries/shipping-time/answer", headers=lena, json={
        "language": "en", "text": "Delivery takes 1 to 3 working days.",
        "expected": "Delivery takes 2 to 4 working days."})
    assert r.status_code == 200, r.text
    change = client.get("/api/lead/history", headers=lena).json()["changes"][0]
    assert change["action"] == "edit_answer" and change["detail"] == {
        "language": "en", "before": "Delivery takes 2 to 4 working days.",
        "after": "Delivery takes 1 to 3 working days."}
    assert chat(client, "How long does delivery take?")["answer"] == (
        "Delivery takes 1 to 3 working days.")

    # Someone else saved meanwhile: the stale edit is refused, nothing written.
    before = path.read_bytes()
    r = client.post("/api/lead/entries/shipping-time/answer", headers=lena, json={
        "language": "en", "text": "Old view.", "expected": "Delivery takes 2 to 4 working days."})
    assert r.status_code == 409 and "changed since you opened it" in r.json()["detail"]
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"language": "en", "text": "   "}, 400, "empty"),
        ({"language": "xx", "text": "Hi"}, 400, "not supported"),
        ({"language": "en", "text": "Delivery takes 1 to 3 working days."}, 400, "nothing changed"),
    ]
    for body, status, reason in bad:
        r = client.post("/api/lead/entries/shipping-time/answer", headers=lena, json=body)
        assert (r.status_code, reason in r.json()["detail"]) == (status, True), r.text
    r = client.post("/api/lead/entries/no-such-entry/answer", headers=lena,
                    json={"language": "en", "text": "x"})
    assert r.status_code == 404
    assert client.post("/api/lead/entries/shipping-time/answer",
                       json={"language": "en", "text": "x"}).status_code == 401
    # The author is the key's owner: an agent's key, or a header naming another lead, is refused.
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    agent = add_person(settings, "Arno", "agent")
    for headers in (agent, {**lena, "X-Lead-Name": "Boss"}):
        assert client.post("/api/lead/entries/shipping-time/answer", headers=headers,
                           json={"language": "en", "text": "x"}).status_code == 403
    assert path.read_bytes() == before


def test_thumbs_down_per_entry(lead_app: LeadApp) -> None:
    client, _path, lena = lead_app
    votes = [("Which payment methods do you accept?", False), ("Can I pay with PayPal?", False),
             ("How long does delivery take?", True), ("Which payment methods do you accept?",
                                                      True)]
    for question, helpful in votes:
        reply = chat(client, question)
        assert reply["action"] == "answer", reply
        r = client.post("/api/feedback", json={"session_id": reply["session_id"],
                                               "message_id": reply["message_id"],
                                               "helpful": helpful})
        assert r.status_code == 200
    chat(client, "When will my order arrive?")  # answered, not rated
    rows = client.get("/api/lead/feedback?days=7", headers=lena).json()["entries"]
    assert rows == [
        {"faq_id": "payment-methods", "title": "Which payment methods do you accept?",
         "answered": 3, "helpful": 1, "not_helpful": 2},
        {"faq_id": "shipping-time", "title": "How long does delivery take?",
         "answered": 2, "helpful": 1, "not_helpful": 0},
    ]
