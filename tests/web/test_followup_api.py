"""E-mail follow-up and photos over HTTP, on SQLite and PostgreSQL, with the real model.

A real SMTP server process receives what the app's own outbox thread sends.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import SecretStr

from bot.matching.bot import FaqBot
from bot.runtime.retention import purge_text
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Photo, utcnow
from bot.web.app import create_app
from tests.support.images import exif_with_gps_and_rotation, photo_bytes
from tests.support.mailserver import SmtpServer, smtp_server
from tests.support.people import PersonFactory


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("mail")) as server:
        yield server


@pytest.fixture
def mail_client(app_settings: Settings, faqbot: FaqBot, smtp: SmtpServer) -> Iterator[TestClient]:
    """The app with e-mail on (sent at once), its outbox thread running."""
    smtp.clear()
    settings = app_settings.model_copy(update={
        "smtp_url": SecretStr(smtp.url()), "mail_from": "Shop <help@shop.example>",
        "email_after_seconds": 0, "shop_name": "Test Shop"})
    with TestClient(create_app(settings, bot=faqbot)) as c:
        yield c


def handoff(c: TestClient, text: str = "I want to talk to a human") -> str:
    r = c.post("/api/chat", json={"message": text, "locale": "de-DE", "language": "de"})
    assert r.status_code == 200 and r.json()["action"] == "handoff", r.text
    return str(r.json()["session_id"])


def test_the_offer_the_address_and_a_mailed_reply(
    mail_client: TestClient, smtp: SmtpServer, person: PersonFactory
) -> None:
    c = mail_client
    alice = person("Alice")
    answered = c.post("/api/chat", json={"message": "How long do I have to return an item?"})
    sid = answered.json()["session_id"]
    poll = c.get(f"/api/conversations/{sid}/messages").json()
    assert poll["followup"] == {"email_offer": False, "email": None}  # no handoff yet
    r = c.post(f"/api/conversations/{sid}/contact", json={"email": "a@example.com"})
    assert r.status_code == 409 and "handoff" in r.json()["detail"]

    sid = handoff(c)
    assert c.get(f"/api/conversations/{sid}/messages").json()["followup"] == {
        "email_offer": True, "email": None}
    for bad, reason in [("", "enter an e-mail"), ("jane@", "after the @"),
                        ("jane doe@example.com", "invalid characters"), ("x" * 300, "254")]:
        r = c.post(f"/api/conversations/{sid}/contact", json={"email": bad})
        assert r.status_code == 400 and reason in r.json()["detail"], (bad, r.text)
    assert c.post("/api/conversations/nope-nope-nope/contact",
                  json={"email": "a@example.com"}).status_code == 404
    r = c.post(f"/api/conversations/{sid}/contact",
               json={"email": "Jana@Example.de", "page": "https://evil.example/phish"})
    assert r.status_code == 200 and r.json() == {"email": "Jana@example.de"}
    poll = c.get(f"/api/conversations/{sid}/messages", params={"visible": "false"}).json()
    assert poll["followup"] == {"email_offer": False, "email": "Jana@example.de"}

    ticket = c.get("/api/agent/tickets", headers=alice).json()["tickets"][0]
    detail = c.get(f"/api/agent/tickets/{ticket['id']}", headers=alice).json()
    # On the ticket, and in the customer panel beside the transcript.
    assert detail["email"] == detail["customer"]["email"] == "Jana@example.de"
    c.post(f"/api/agent/tickets/{ticket['id']}/claim", headers=alice)
    # The shopper's page polled when the address was left; make that long ago (tab closed).
    db = Database(c.app.state.services.settings.database_url)  # type: ignore[attr-defined]
    with db.write() as s:
        from bot.store.models import ConversationContact

        s.get_one(ConversationContact, sid).seen_at = utcnow() - timedelta(minutes=5)
    reply = c.post(f"/api/agent/tickets/{ticket['id']}/reply", headers=alice,
                   json={"text": "Hallo! Wir kümmern uns darum."}).json()
    assert reply["may_email"] is True and reply["message"]["author"] == "Alice"

    [mail] = smtp.wait_for(1)  # sent by the app's outbox thread
    assert mail["To"] == "Jana@example.de" and mail["Subject"] == "Neue Antwort von Test Shop"
    body = mail.get_body(("plain",)).get_content()
    assert "Alice von Test Shop" in body and "Wir kümmern uns darum." in body
    # The page given was not on this server or a listed origin: the link is the server's.
    assert f"http://testserver/#faqbot={sid}" in body and "evil.example" not in body
    # The shopper sees the agent's name on the reply in the chat too.
    agent_lines = [m for m in c.get(f"/api/conversations/{sid}/messages").json()["messages"]
                   if m["role"] == "agent"]
    assert agent_lines[0]["author"] == "Alice"

    assert c.delete(f"/api/conversations/{sid}/contact").status_code == 204
    assert c.get(f"/api/conversations/{sid}/messages").json()["followup"]["email"] is None
    db.dispose()


def test_no_mail_setup_means_no_offer(client: TestClient) -> None:
    sid = handoff(client)
    assert client.get(f"/api/conversations/{sid}/messages").json()["followup"] == {
        "email_offer": False, "email": None}
    r = client.post(f"/api/conversations/{sid}/contact", json={"email": "a@example.com"})
    assert r.status_code == 409 and "FAQBOT_SMTP_URL" in r.json()["detail"]


def multipart(files: list[tuple[str, bytes]], text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"files": [("photo", (name, data, "image/jpeg")) for name, data in files]}
    if text is not None:
        out["data"] = {"text": text}
    return out


def test_photos_go_to_a_person_cleaned_and_only_agents_see_them(
    client: TestClient, app_settings: Settings, person: PersonFactory
) -> None:
    c = client
    alice = person("Alice")
    sid = c.post("/api/chat", json={"message": "How long does delivery take?"}).json()[
        "session_id"]
    jpeg = photo_bytes("JPEG", exif=exif_with_gps_and_rotation()) + b"PK\x03\x04 secret zip"
    r = c.post(f"/api/conversations/{sid}/photos", **multipart(
        [("damage.jpg", jpeg), ("label.png", photo_bytes("PNG"))], "Kaputt angekommen"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["action"], out["photos"]) == ("handoff", 2) and out["ticket_id"]

    shopper_view = c.get(f"/api/conversations/{sid}/messages").json()
    line = next(m for m in shopper_view["messages"] if m["photos"])
    assert (line["role"], line["text"], line["photos"]) == ("shopper", "Kaputt angekommen", 2)
    assert shopper_view["state"] == "handoff"

    detail = c.get(f"/api/agent/tickets/{out['ticket_id']}", headers=alice).json()
    assert detail["reason"] == "photo" and detail["preview"].startswith("📷 ×2")
    photos = next(t for t in detail["transcript"] if t["photos"])["photos"]
    assert [(p["content_type"], p["width"], p["height"]) for p in photos] == [
        ("image/jpeg", 48, 64), ("image/png", 64, 48)]
    url = f"/api/agent/photos/{photos[0]['id']}"
    assert c.get(url).status_code == 401
    # The key's owner views it; a header naming someone else is refused, not believed.
    assert c.get(url, headers={**alice, "X-Agent-Name": "Bob"}).status_code == 403
    got = c.get(url, headers=alice)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert got.headers["cache-control"] == "private, no-store"
    assert b"secret zip" not in got.content and b"SpyCam" not in got.content
    with Image.open(io.BytesIO(got.content)) as im:
        assert len(im.getexif()) == 0 and im.size == (48, 64)

    # Stored outside the web root, nothing left from the upload itself.
    stored = [p for p in Path(app_settings.photos_dir).rglob("*") if p.is_file()]
    assert not [p for p in stored if p.parent.name == ".incoming"]
    assert all(not p.is_relative_to(Path("bot/static").resolve()) for p in stored)

    # A second photo message while a person has it: queued, not a new ticket.
    r = c.post(f"/api/conversations/{sid}/photos", **multipart([("more.webp",
                                                                 photo_bytes("WEBP"))]))
    assert r.json()["action"] == "queued" and r.json()["ticket_id"] == out["ticket_id"]


def test_bad_photos_get_a_code_the_widget_can_translate(client: TestClient) -> None:
    c = client
    sid = handoff(c)
    cases = [
        ([("anim.gif", b"GIF89a" + b"\0" * 64)], 415, "photo_type", "anim.gif"),
        ([("x.jpg", b"\xff\xd8\xff\xe0 not a jpeg at all")], 422, "photo_unreadable", "x.jpg"),
        ([(f"p{i}.jpg", photo_bytes("JPEG")) for i in range(4)], 400, "photo_too_many", "p3.jpg"),
        ([("big.jpg", photo_bytes("JPEG") + b"\0" * (10 * 1024 * 1024))], 413,
         "photo_too_large", "big.jpg"),
        ([], 400, "photo_empty", None),
    ]
    for files, status, code, name in cases:
        r = c.post(f"/api/conversations/{sid}/photos",
                   **(multipart(files) if files else {"files": {"text": (None, "hi")}}))
        assert r.status_code == status, (code, r.text)
        assert (r.json()["code"], r.json()["filename"]) == (code, name), r.text
    r = c.post(f"/api/conversations/{sid}/photos", content=b"x" * 40_000_000,
               headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413
    r = c.post(f"/api/conversations/{sid}/photos", json={"photo": "data:..."})
    assert r.status_code == 415
    r = c.post("/api/conversations/0123456789abcdef/photos",
               **multipart([("a.jpg", photo_bytes("JPEG"))]))
    assert r.status_code == 404
    assert c.get(f"/api/conversations/{sid}/messages").json()["messages"][-1]["photos"] == 0


def test_retention_removes_photos_and_addresses(
    mail_client: TestClient, app_settings: Settings, person: PersonFactory
) -> None:
    c = mail_client
    alice = person("Alice")
    sid = handoff(c)
    c.post(f"/api/conversations/{sid}/contact", json={"email": "old@example.com"})
    r = c.post(f"/api/conversations/{sid}/photos", **multipart([("a.jpg", photo_bytes("JPEG"))]))
    photo_id = r.json()["message_id"]
    db = Database(app_settings.database_url)
    sv = c.app.state.services  # type: ignore[attr-defined]
    with db.read() as s:
        photo = s.query(Photo).filter_by(message_id=photo_id).one()
    path = sv.photos.path(photo.file)
    assert path.is_file()
    report = purge_text(db, 90, now=utcnow() + timedelta(days=91), photos=sv.photos)
    assert report.photos == 1 and report.contacts == 1
    assert not path.exists()
    assert c.get(f"/api/agent/photos/{photo.id}", headers=alice).status_code == 404
    assert c.get(f"/api/conversations/{sid}/messages").json()["followup"]["email"] is None
    detail = c.get(f"/api/agent/tickets/{r.json()['ticket_id']}", headers=alice).json()
    assert [p["removed"] for t in detail["transcript"] for p in t["photos"]] == [True]
    db.dispose()
