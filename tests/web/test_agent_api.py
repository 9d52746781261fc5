"""People's keys and the agents' inbox over HTTP, on SQLite and PostgreSQL, real model.

Each person signs in with a key of their own; the name on every claim, reply, note and
assignment comes from the key, and no header can change it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.store.db import Database
from bot.store.people import People
from bot.web.app import create_app
from tests.support.people import PersonFactory

pytestmark = pytest.mark.slow

DEV = {"Authorization": "Bearer dev-agent-key"}
VISITOR = "visitor-0123456789abcdef"


def chat(client: TestClient, message: str = "", **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def handoff(client: TestClient, language: str = "de", **fields: Any) -> dict[str, Any]:
    """A German (by default) shopper asks about returns, then for a person."""
    first = chat(client, "Wie lange habe ich Zeit für eine Rücksendung?", language=language,
                 **fields)
    return chat(client, "Ich möchte mit einem Mitarbeiter sprechen",
                session_id=first["session_id"], **fields)


def ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


# ---- who is asking ----
def test_me_names_the_keys_owner(client: TestClient, person: PersonFactory) -> None:
    alice = person("alice", "agent", "de")
    assert ok(client.get("/api/me", headers=alice)) == {
        "name": "alice", "role": "agent", "language": "de", "development": False}
    assert ok(client.get("/api/me", headers=DEV))["name"] == "dev-agent"
    lena = person("Lena", "lead")
    assert ok(client.get("/api/me", headers=lena))["role"] == "lead"
    assert client.get("/api/me").status_code == 401


def test_a_header_cannot_impersonate(client: TestClient, person: PersonFactory) -> None:
    alice, bob = person("alice"), person("bob")
    tid = handoff(client)["ticket_id"]
    r = client.post(f"/api/agent/tickets/{tid}/claim", headers={**bob, "X-Agent-Name": "alice"})
    assert r.status_code == 403 and "this key is bob's" in r.json()["detail"]
    r = client.post(f"/api/agent/tickets/{tid}/claim",
                    headers={**DEV, "X-Agent-Name": "alice"})  # dev key: no naming either
    assert r.status_code == 403
    lena = person("lena", "lead")
    assert client.get("/api/lead/history",
                      headers={**lena, "X-Lead-Name": "boss"}).status_code == 403
    # Naming the key's owner is harmless (older scripts send it).
    claimed = ok(client.post(f"/api/agent/tickets/{tid}/claim",
                             headers={**bob, "X-Agent-Name": "Bob"}))
    assert claimed["claimed_by"] == "bob"
    r = client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "Hallo!"}, headers=alice)
    assert r.status_code == 409 and "held by bob" in r.json()["detail"]


def test_old_key_headers_still_carry_a_persons_key(
    client: TestClient, person: PersonFactory
) -> None:
    key = person("alice")["Authorization"].split()[1]
    tid = handoff(client)["ticket_id"]
    t = ok(client.post(f"/api/agent/tickets/{tid}/claim", headers={"X-Agent-Key": key}))
    assert t["claimed_by"] == "alice"
    lead_key = person("lena", "lead")["Authorization"].split()[1]
    assert client.get("/api/lead/status", headers={"X-Lead-Key": lead_key}).status_code == 200
    assert client.get("/api/lead/status", headers={"X-Lead-Key": key}).status_code == 403


def test_a_disabled_or_rotated_key_stops_at_once(
    client: TestClient, person: PersonFactory, app_settings: Settings
) -> None:
    alice = person("alice")
    assert client.get("/api/agent/tickets", headers=alice).status_code == 200
    db = Database(app_settings.database_url)
    try:
        People.from_settings(db, app_settings).disable("alice")
        r = client.get("/api/agent/tickets", headers=alice)
        assert r.status_code == 401 and "disabled" in r.json()["detail"]
        people = People.from_settings(db, app_settings)
        people.enable("alice")
        new = people.rotate("alice")
    finally:
        db.dispose()
    assert client.get("/api/agent/tickets", headers=alice).status_code == 401
    assert client.get("/api/agent/tickets",
                      headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_development_keys_are_refused_in_production(
    app_settings: Settings, faqbot: FaqBot
) -> None:
    settings = app_settings.model_copy(update={
        "environment": "production", "secret_key": SecretStr("p" * 40)})
    lena_key = None
    with TestClient(create_app(settings, bot=faqbot)) as c:
        for key in ("dev-agent-key", "dev-lead-key"):
            r = c.get("/api/me", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 401
        db = Database(settings.database_url)
        try:
            lena_key = People.from_settings(db, settings).add("lena", "lead")
        finally:
            db.dispose()
        me = ok(c.get("/api/me", headers={"Authorization": f"Bearer {lena_key}"}))
        assert (me["name"], me["development"]) == ("lena", False)


# ---- the inbox ----
def test_claims_replies_notes_and_history_carry_the_real_names(
    client: TestClient, person: PersonFactory
) -> None:
    alice, bob, lena = person("alice"), person("bob"), person("lena", "lead")
    r = handoff(client)
    sid, tid = r["session_id"], r["ticket_id"]
    ok(client.post(f"/api/agent/tickets/{tid}/claim", headers=alice))
    note = ok(client.post(f"/api/agent/tickets/{tid}/notes",
                          json={"text": "Kundin ist **Stammkundin**, Rückgabe ohne Etikett ok."},
                          headers=bob))  # any agent may add a note
    assert (note["kind"], note["actor"]) == ("note", "bob")
    sent = ok(client.post(f"/api/agent/tickets/{tid}/reply",
                          json={"text": "Hallo, ich kümmere mich darum.", "language": "de"},
                          headers=alice))
    assert (sent["translated"], sent["untranslated"]) == (False, False)  # written in German
    assert sent["message"]["author"] == "alice"
    # A lead takes the ticket over, then gives it to bob.
    taken = ok(client.post(f"/api/agent/tickets/{tid}/assign",
                           json={"to": "lena", "from": "alice"}, headers=lena))
    assert taken["claimed_by"] == "lena"
    r = client.post(f"/api/agent/tickets/{tid}/assign", json={"to": "bob", "from": "alice"},
                    headers=alice)
    assert r.status_code == 409 and "held by lena" in r.json()["detail"]
    ok(client.post(f"/api/agent/tickets/{tid}/assign", json={"to": "bob"}, headers=lena))
    for bad, why in (("nobody", "no such person"), ("", "no such person")):
        r = client.post(f"/api/agent/tickets/{tid}/assign", json={"to": bad}, headers=lena)
        assert r.status_code == 400 and why in r.json()["detail"]
    ok(client.post(f"/api/agent/tickets/{tid}/resolve", headers=bob))

    detail = ok(client.get(f"/api/agent/tickets/{tid}", headers=alice))
    history = [(e["kind"], e["actor"], e["target"], e["previous"]) for e in detail["events"]]
    assert history == [
        ("claim", "alice", None, None), ("note", "bob", None, None),
        ("assign", "lena", "lena", "alice"), ("assign", "lena", "bob", "lena"),
        ("resolve", "bob", None, None),
    ]
    agent_lines = [m for m in detail["transcript"] if m["role"] == "agent"]
    assert [m["author"] for m in agent_lines] == ["alice"]

    # The note never reaches the shopper: not in polling, not in the event stream.
    polled = ok(client.get(f"/api/conversations/{sid}/messages"))
    assert not any("Stammkundin" in m["text"] for m in polled["messages"])
    with client.stream("GET", f"/api/conversations/{sid}/events",
                       params={"after": 0, "timeout": 1}) as stream:
        body = "".join(stream.iter_text())
    assert "Hallo, ich kümmere mich darum." in body and "Stammkundin" not in body


def test_an_untranslatable_reply_is_flagged_and_the_shopper_told_once_a_turn(
    client: TestClient, person: PersonFactory
) -> None:
    alice = person("alice")
    r = handoff(client)
    sid, tid = r["session_id"], r["ticket_id"]
    detail = ok(client.get(f"/api/agent/tickets/{tid}", headers=alice))
    assert (detail["shopper_language"], detail["agent_language"]) == ("de", "en")
    assert detail["translation_sources"] == []  # no pack in tests
    ok(client.post(f"/api/agent/tickets/{tid}/claim", headers=alice))
    for text in ("Hi, let me check.", "Your parcel left yesterday."):
        sent = ok(client.post(f"/api/agent/tickets/{tid}/reply", json={"text": text},
                              headers=alice))
        assert sent["untranslated"] is True
    chat(client, "Danke, und wann kommt es an?", session_id=sid)
    ok(client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "Tomorrow."}, headers=alice))
    # Whether the bot answers while a person is on it, or says the message was passed on
    # (issue 16's waiting flow; which one depends on the score), is not what this test is about.
    passed_on = "Danke, deine Nachricht wurde weitergeleitet. Eine Person antwortet dir hier."
    lines = [(m["role"], m["text"]) for m in
             ok(client.get(f"/api/conversations/{sid}/messages"))["messages"]
             if m["role"] != "bot" and m["text"] != passed_on]
    after = lines[lines.index(("agent", "Hi, let me check.")):]
    note = ("system", "Diese Antwort konnte nicht automatisch in deine Sprache übersetzt werden.")
    assert after == [("agent", "Hi, let me check."), note,
                     ("agent", "Your parcel left yesterday."),
                     ("shopper", "Danke, und wann kommt es an?"),
                     ("agent", "Tomorrow."), note]
    bad = client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "x", "language": "xx"},
                      headers=alice)
    assert bad.status_code == 400


def test_faq_answers_to_insert_in_the_shoppers_language(
    client: TestClient, person: PersonFactory
) -> None:
    alice = person("alice")
    found = ok(client.get("/api/agent/faq", params={"q": "Rücksendung"}, headers=alice))
    assert found["entries"][0]["faq_id"] == "returns-window"
    assert found["entries"][0]["title"] == "How long do I have to return an item?"
    by_meaning = ok(client.get("/api/agent/faq", params={"q": "wann kommt mein Paket"},
                               headers=alice))
    assert "shipping-time" in [e["faq_id"] for e in by_meaning["entries"]][:3]
    everything = ok(client.get("/api/agent/faq", headers=alice))["entries"]
    assert [e["faq_id"] for e in everything] == sorted(e["faq_id"] for e in everything)
    german = ok(client.get("/api/agent/faq/returns-window", params={"language": "de"},
                           headers=alice))
    assert german["text"].startswith("Sie können") and german["language"] == "de"
    assert (german["fallback"], german["draft"]) == (False, False)
    english = ok(client.get("/api/agent/faq/shipping-time", params={"language": "de"},
                            headers=alice))
    assert (english["language"], english["fallback"], english["default_language"]) == (
        "en", True, "en")
    assert client.get("/api/agent/faq/no-such-entry", params={"language": "de"},
                      headers=alice).status_code == 404
    detail_guesses = ok(client.get(f"/api/agent/tickets/{handoff(client)['ticket_id']}",
                                   headers=alice))["guesses"]
    assert all(g["title"] for g in detail_guesses)


def test_canned_replies_over_http(client: TestClient, person: PersonFactory,
                                  app_settings: Settings, faqbot: FaqBot,
                                  tmp_path: Any) -> None:
    canned = tmp_path / "canned"
    canned.mkdir()
    (canned / "en.yaml").write_text(
        "replies:\n  - id: hello\n    title: Greeting\n    text: Hello!\n"
        "  - id: bye\n    title: Goodbye\n    text: Bye!\n", encoding="utf-8")
    (canned / "de.yaml").write_text(
        "replies:\n  - id: hello\n    title: Begrüßung\n    text: Hallo!\n  - bad\n",
        encoding="utf-8")
    settings = app_settings.model_copy(update={"canned_dir": canned})
    with TestClient(create_app(settings, bot=faqbot)) as c:
        alice = person("alice")
        got = ok(c.get("/api/agent/canned", params={"language": "de"}, headers=alice))
        assert [(r["id"], r["language"], r["fallback"]) for r in got["replies"]] == [
            ("hello", "de", False), ("bye", "en", True)]
        assert len(got["problems"]) == 1 and "de.yaml:5:" in got["problems"][0]
        got = ok(c.get("/api/agent/canned", params={"language": "de", "q": "good"},
                       headers=alice))
        assert [r["id"] for r in got["replies"]] == ["bye"]


def test_customer_context_and_earlier_conversations(
    client: TestClient, person: PersonFactory
) -> None:
    alice = person("alice")
    page = "https://shop.example/de/schuhe/sneaker-42?token=secret#top"
    earlier = chat(client, "Welche Zahlungsarten gibt es?", language="de", visitor_id=VISITOR,
                   page_url=page, locale="de-AT", market="EU")
    chat(client, "Something else entirely", visitor_id="another-visitor-123")
    r = handoff(client, visitor_id=VISITOR, page_url=page, locale="de-AT", market="EU")
    detail = ok(client.get(f"/api/agent/tickets/{r['ticket_id']}", headers=alice))
    c = detail["customer"]
    assert (c["locale"], c["market"], c["language"]) == ("de-AT", "EU", "de")
    assert c["page_url"] == "https://shop.example/de/schuhe/sneaker-42"  # no query, no token
    assert [(e["session_id"], e["ticket_id"], e["first_message"]) for e in c["earlier"]] == [
        (earlier["session_id"], None, "Welche Zahlungsarten gibt es?")]
    convo = ok(client.get(f"/api/agent/conversations/{earlier['session_id']}", headers=alice))
    assert [m["role"] for m in convo["messages"]] == ["shopper", "bot"]
    # Odd values are dropped, never an error for the shopper.
    odd = chat(client, "Hallo?", visitor_id="x", page_url="javascript:alert(1)")
    assert odd["session_id"]


def test_search_bulk_resolve_and_spam(client: TestClient, person: PersonFactory) -> None:
    alice, bob = person("alice"), person("bob")
    a = handoff(client)["ticket_id"]
    spam1 = chat(client, "BUY CHEAP WATCHES www.spam.example", human=True)["ticket_id"]
    spam2 = chat(client, "cheap watches again", human=True)["ticket_id"]
    ok(client.post(f"/api/agent/tickets/{a}/claim", headers=bob))
    found = ok(client.get("/api/agent/tickets", params={"q": "watches"}, headers=alice))
    assert sorted(t["id"] for t in found["tickets"]) == sorted([spam1, spam2])
    assert ok(client.get("/api/agent/tickets", params={"q": f"#{a}"},
                         headers=alice))["tickets"][0]["id"] == a
    out = ok(client.post("/api/agent/tickets/bulk",
                         json={"ids": [spam1, spam2, a, 999999], "action": "spam"},
                         headers=alice))["results"]
    assert [(x["id"], x["ok"]) for x in out] == [(spam1, True), (spam2, True), (a, False),
                                                 (999999, False)]
    assert "held by bob" in out[2]["detail"] and "no ticket" in out[3]["detail"]
    closed = ok(client.get("/api/agent/tickets", params={"state": "resolved"}, headers=alice))
    assert {t["id"]: t["spam"] for t in closed["tickets"]} == {spam1: True, spam2: True}
    # No notice went to the spammer.
    sid = ok(client.get(f"/api/agent/tickets/{spam1}", headers=alice))["session_id"]
    assert not any(m["role"] == "system" for m in
                   ok(client.get(f"/api/conversations/{sid}/messages"))["messages"])
    mine = ok(client.get("/api/agent/tickets", params={"state": "claimed", "claimed_by": "bob"},
                         headers=alice))
    assert [t["id"] for t in mine["tickets"]] == [a]
    out = ok(client.post("/api/agent/tickets/bulk", json={"ids": [a], "action": "resolve"},
                         headers=bob))["results"]
    assert out == [{"id": a, "ok": True, "detail": None}]
    assert client.post("/api/agent/tickets/bulk", json={"ids": [], "action": "resolve"},
                       headers=bob).status_code == 422
    people = ok(client.get("/api/agent/people", headers=alice))["people"]
    assert [p["name"] for p in people] == ["alice", "bob"]


def test_agent_replies_show_their_authors_name_to_the_shopper(
    client: TestClient, person: PersonFactory
) -> None:
    alice = person("Alice Martin")
    r = handoff(client, language="en")
    ok(client.post(f"/api/agent/tickets/{r['ticket_id']}/claim", headers=alice))
    ok(client.post(f"/api/agent/tickets/{r['ticket_id']}/reply", json={"text": "Hi there"},
                   headers=alice))
    with client.stream("GET", f"/api/conversations/{r['session_id']}/events",
                       params={"after": r["cursor"], "timeout": 1}) as stream:
        body = "".join(stream.iter_text())
    data = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert [(d["role"], d["author"]) for d in data if d["role"] == "agent"] == [
        ("agent", "Alice Martin")]
