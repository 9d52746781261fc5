"""The HTTP API end to end, on SQLite and PostgreSQL, with the real default model."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.web.app import create_app
from tests.support.people import PersonFactory

pytestmark = pytest.mark.slow

# The development keys sign in as the users dev-agent and dev-lead (development only).
AGENT = {"Authorization": "Bearer dev-agent-key"}
LEAD = {"Authorization": "Bearer dev-lead-key"}


def chat(client: TestClient, message: str = "", **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def handed_off(client: TestClient, text: str = "I want to talk to a human") -> dict[str, Any]:
    first = chat(client, "How long do I have to return an item?")
    assert first["action"] == "answer"
    return chat(client, text, session_id=first["session_id"])


# ---- the shopper's chat ----
def test_a_clear_question_is_answered(client: TestClient) -> None:
    r = chat(client, "How long do I have to return an item?")
    assert r["action"] == "answer" and r["faq_id"] == "returns-window"
    assert r["answer"].startswith("You can return") and r["answer_language"] == "en"
    assert r["ticket_id"] is None and r["suggestions"] == []
    assert r["message_id"] == r["cursor"] > 0 and len(r["session_id"]) >= 16
    assert set(r) == {
        "session_id", "message_id", "action", "language", "faq_id", "confidence", "answer",
        "answer_language", "machine_translated", "suggestions", "person_chip", "ticket_id",
        "notice", "cursor", "kind", "state", "wait_minutes", "message_ids", "rate_message_id",
        "rate_prompt",
    }
    assert r["person_chip"] is None  # only with suggestions
    assert (r["kind"], r["state"], r["wait_minutes"]) == ("faq", "bot", None)


def test_the_answer_comes_in_the_shoppers_language(client: TestClient) -> None:
    r = chat(client, "Wie lange habe ich Zeit für eine Rücksendung?")
    assert (r["action"], r["language"], r["answer_language"]) == ("answer", "de", "de")
    assert "30 Tagen" in r["answer"]


def test_explicit_language_switch_sticks(client: TestClient) -> None:
    r = chat(client, "How long do I have to return an item?", language="de")
    assert r["language"] == "de" and "30 Tagen" in r["answer"]
    r = chat(client, "What is the return period?", session_id=r["session_id"])
    assert r["language"] == "de"


def test_unsure_questions_get_suggestions(client: TestClient) -> None:
    r = chat(client, "delivery")
    assert r["action"] == "clarify" and r["answer"] is None
    assert r["suggestions"] and r["suggestions"][0]["faq_id"] == "shipping-time"
    assert r["notice"]
    picked = chat(client, r["suggestions"][0]["question"], session_id=r["session_id"],
                  suggestion_id=r["suggestions"][0]["faq_id"])
    assert picked["action"] == "answer" and picked["faq_id"] == "shipping-time"


def test_out_of_scope_hands_off_with_a_localised_notice(client: TestClient) -> None:
    r = chat(client, "what is the meaning of life")
    assert r["action"] == "handoff" and r["ticket_id"] and r["faq_id"] is None
    assert "4 hours" in r["notice"]
    detail = client.get(f"/api/agent/tickets/{r['ticket_id']}", headers=AGENT).json()
    assert detail["reason"] == "low_confidence" and detail["language"] == "en"
    assert detail["guesses"] and {"faq_id", "score"} <= set(detail["guesses"][0])


def test_person_button_and_words_in_other_languages(client: TestClient) -> None:
    r = chat(client, human=True, locale="fr-FR")
    assert r["action"] == "handoff" and r["language"] == "fr"
    assert "personne" in r["notice"]
    r = chat(client, "Ich möchte mit einem Mitarbeiter sprechen")
    assert r["action"] == "handoff" and r["language"] == "de"
    assert "Person aus unserem Team" in r["notice"]
    detail = client.get(f"/api/agent/tickets/{r['ticket_id']}", headers=AGENT).json()
    assert detail["reason"] == "asked_for_person"


def test_entry_marked_handoff_answers_and_opens_an_urgent_ticket(client: TestClient) -> None:
    r = chat(client, "My item arrived damaged")
    assert r["action"] == "answer" and r["faq_id"] == "damaged-item" and r["ticket_id"]
    assert "30 minutes" in r["notice"]  # "damaged" is an urgent keyword
    t = client.get(f"/api/agent/tickets/{r['ticket_id']}", headers=AGENT).json()
    assert (t["reason"], t["priority"]) == ("entry_handoff", "urgent")


def test_the_bot_helps_while_handed_off_and_after_resolution(client: TestClient) -> None:
    r = handed_off(client)
    sid, tid = r["session_id"], r["ticket_id"]
    assert (r["state"], r["wait_minutes"]) == ("handoff", 240)
    q = chat(client, "How long do I have to return an item?", session_id=sid)
    assert (q["action"], q["faq_id"], q["ticket_id"], q["state"]) == (
        "answer", "returns-window", tid, "handoff")
    assert client.post(f"/api/agent/tickets/{tid}/claim", headers=AGENT).status_code == 200
    detail = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    assert "How long do I have to return an item?" in [m["text"] for m in detail["transcript"]]
    assert client.post(f"/api/agent/tickets/{tid}/resolve", headers=AGENT).status_code == 200
    msgs = client.get(f"/api/conversations/{sid}/messages").json()
    assert msgs["state"] == "resolved"
    assert [m["action"] for m in msgs["messages"][-2:]] == ["resolved", "rate"]
    after = chat(client, "What is the return period?", session_id=sid)
    assert (after["action"], after["state"]) == ("answer", "resolved")
    t = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    assert t["state"] == "resolved"
    # A new handoff soon after reopens the same ticket (FAQBOT_REOPEN_HOURS).
    again = chat(client, "I want to talk to a human", session_id=sid)
    assert again["action"] == "handoff" and again["ticket_id"] == tid
    t = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    assert t["state"] == "open" and t["claimed_by"] is None


def test_queued_messages_can_raise_priority(client: TestClient) -> None:
    r = handed_off(client)
    chat(client, "also I was charged twice", session_id=r["session_id"])
    t = client.get(f"/api/agent/tickets/{r['ticket_id']}", headers=AGENT).json()
    assert t["priority"] == "urgent"


def test_unknown_session_starts_a_new_conversation(client: TestClient) -> None:
    r = chat(client, "What is the return period?", session_id="no-such-session-123")
    assert r["session_id"] != "no-such-session-123" and r["action"] == "answer"


@pytest.mark.parametrize("body, status, words", [
    ({"message": "   "}, 400, "empty"),
    ({"message": ""}, 400, "empty"),
    ({"message": "x" * 1001}, 413, "1001 characters"),
    ({"message": "hi", "language": "xx"}, 400, "not supported"),
    ({"message": 5}, 422, "message"),
    ({"message": "hi", "human": "maybe"}, 422, "human"),
])
def test_bad_messages_get_a_reason(
    client: TestClient, body: dict[str, Any], status: int, words: str
) -> None:
    r = client.post("/api/chat", json=body)
    assert r.status_code == status
    assert isinstance(r.json()["detail"], str) and words in r.json()["detail"]


def test_a_thousand_characters_is_fine(client: TestClient) -> None:
    assert client.post("/api/chat", json={"message": "a" * 1000}).status_code == 200


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    r = client.post("/api/chat", content=b"{" + b" " * 70_000 + b"}",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413


# ---- polling, events, feedback ----
def test_polling_with_a_cursor(client: TestClient) -> None:
    r = chat(client, "How long do I have to return an item?")
    sid = r["session_id"]
    all_msgs = client.get(f"/api/conversations/{sid}/messages").json()
    assert [m["role"] for m in all_msgs["messages"]] == ["shopper", "bot"]
    assert all_msgs["cursor"] == r["cursor"] and all_msgs["state"] == "bot"
    assert all_msgs["messages"][1]["faq_id"] == "returns-window"
    none = client.get(f"/api/conversations/{sid}/messages", params={"after": r["cursor"]})
    assert none.json()["messages"] == [] and none.json()["cursor"] == r["cursor"]
    assert client.get("/api/conversations/nonexistent-session/messages").status_code == 404
    assert client.get(f"/api/conversations/{sid}/messages?after=-1").status_code == 422


def test_server_sent_events_stream_new_messages(client: TestClient) -> None:
    r = chat(client, "How long do I have to return an item?")
    url = f"/api/conversations/{r['session_id']}/events"
    with client.stream("GET", url, params={"after": 0, "timeout": 1}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    events = [block for block in body.split("\n\n") if "event: message" in block]
    assert len(events) == 2
    data = json.loads(events[1].split("data: ", 1)[1])
    assert data["role"] == "bot" and data["id"] == r["message_id"]
    assert client.get("/api/conversations/nonexistent-session/events").status_code == 404


def test_feedback(client: TestClient) -> None:
    r = chat(client, "How long do I have to return an item?", language="de")
    good = client.post("/api/feedback", json={
        "session_id": r["session_id"], "message_id": r["message_id"], "helpful": True})
    assert good.json()["notice"] == "Danke für dein Feedback!"
    assert good.json()["rate_prompt"] == "Wie zufrieden warst du mit diesem Gespräch?"
    bad = client.post("/api/feedback", json={
        "session_id": r["session_id"], "message_id": r["message_id"], "helpful": False,
        "comment": "I need the exact date"}).json()
    assert bad["offer_handoff"] is True and "Person" in bad["notice"]
    person = chat(client, human=True, session_id=r["session_id"])
    t = client.get(f"/api/agent/tickets/{person['ticket_id']}", headers=AGENT).json()
    assert t["reason"] == "negative_feedback"


@pytest.mark.parametrize("change, status", [
    ({"message_id": 999_999}, 404),
    ({"session_id": "nonexistent-session"}, 404),
    ({"comment": "x" * 1001}, 413),
    ({"helpful": None}, 422),
])
def test_bad_feedback(client: TestClient, change: dict[str, Any], status: int) -> None:
    r = chat(client, "How long do I have to return an item?")
    body = {"session_id": r["session_id"], "message_id": r["message_id"], "helpful": False}
    r2 = client.post("/api/feedback", json={**body, **change})
    assert r2.status_code == status and isinstance(r2.json()["detail"], str)


def test_feedback_refers_to_bot_messages_only(client: TestClient) -> None:
    r = chat(client, "How long do I have to return an item?")
    shopper_msg = r["message_id"] - 1
    r2 = client.post("/api/feedback", json={
        "session_id": r["session_id"], "message_id": shopper_msg, "helpful": False})
    assert r2.status_code == 404


# ---- agents ----
@pytest.mark.parametrize("headers", [
    {}, {"X-Agent-Key": "wrong"}, {"Authorization": "Bearer wrong"},
    {"Authorization": "Basic ZGV2LWFnZW50LWtleTo="},
])
def test_agent_api_needs_a_key(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/api/agent/tickets"), ("GET", "/api/agent/tickets/1"),
                         ("POST", "/api/agent/tickets/1/claim")]:
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401 and "key" in r.json()["detail"]
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_agent_flow(client: TestClient, person: PersonFactory) -> None:
    alice, bob = person("alice"), person("bob")
    r = handed_off(client, "Ich möchte mit einem Mitarbeiter sprechen")
    sid, tid = r["session_id"], r["ticket_id"]
    listed = client.get("/api/agent/tickets", headers=AGENT).json()["tickets"]
    mine = next(t for t in listed if t["id"] == tid)
    assert mine["state"] == "open" and mine["preview"].startswith("How long")
    assert mine["sla_breached"] is False and mine["waiting_seconds"] >= 0
    assert client.get("/api/agent/tickets", params={"language": "de"},
                      headers=AGENT).json()["tickets"][0]["id"] == tid
    assert client.get("/api/agent/tickets", params={"state": "claimed"},
                      headers=AGENT).json()["tickets"] == []
    assert client.get("/api/agent/tickets", params={"state": "lost"},
                      headers=AGENT).status_code == 422
    # replying needs the ticket
    assert client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "Hi"},
                       headers=AGENT).status_code == 409
    assert client.post(f"/api/agent/tickets/{tid}/claim", headers=alice).json()["claimed_by"] \
        == "alice"
    other = client.post(f"/api/agent/tickets/{tid}/claim", headers=bob)
    assert other.status_code == 409 and "alice" in other.json()["detail"]
    assert client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "Hi"},
                       headers=bob).status_code == 409
    assert client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "  "},
                       headers=alice).status_code == 400
    sent = client.post(f"/api/agent/tickets/{tid}/reply",
                       json={"text": "Your invoice is in your account."}, headers=alice).json()
    # no translation pack in tests: the reply goes out as written, and the shopper is told
    assert (sent["translated"], sent["untranslated"]) == (False, True)
    assert (sent["message"]["role"], sent["message"]["author"]) == ("agent", "alice")
    polled = client.get(f"/api/conversations/{sid}/messages",
                        params={"after": r["cursor"]}).json()
    assert [(m["text"], m["author"]) for m in polled["messages"]] == [
        ("Your invoice is in your account.", "alice"),
        ("Diese Antwort konnte nicht automatisch in deine Sprache übersetzt werden.", None)]
    detail = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    assert detail["session_id"] == sid
    assert [m["role"] for m in detail["transcript"]] == ["shopper", "bot", "shopper", "bot",
                                                          "agent", "system"]
    assert {"text_for_agent", "language", "created_at"} <= set(detail["transcript"][0])
    released = client.post(f"/api/agent/tickets/{tid}/release", headers=alice).json()
    assert (released["state"], released["claimed_by"]) == ("open", None)
    assert client.post(f"/api/agent/tickets/{tid}/release", headers=alice).status_code == 409
    done = client.post(f"/api/agent/tickets/{tid}/resolve", headers=bob).json()
    assert done["state"] == "resolved"
    assert client.post(f"/api/agent/tickets/{tid}/resolve", headers=bob).status_code == 409
    assert client.get("/api/agent/tickets/999999", headers=AGENT).status_code == 404
    assert client.post("/api/agent/tickets/999999/claim", headers=AGENT).status_code == 404


def test_twenty_concurrent_claims_over_http(client: TestClient, person: PersonFactory) -> None:
    tid = handed_off(client)["ticket_id"]
    keys = [person(f"a{i}") for i in range(20)]
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def claim(i: int) -> None:
        barrier.wait(timeout=30)
        r = client.post(f"/api/agent/tickets/{tid}/claim", headers=keys[i])
        codes.append(r.status_code)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [200] + [409] * 19


def test_queue_order_is_oldest_urgent_first(client: TestClient) -> None:
    n1 = handed_off(client)["ticket_id"]
    u1 = handed_off(client, "talk to a human, the parcel was damaged")["ticket_id"]
    n2 = handed_off(client)["ticket_id"]
    ids = [t["id"] for t in client.get("/api/agent/tickets", headers=AGENT).json()["tickets"]]
    assert ids == [u1, n1, n2]


# ---- leads ----
def test_lead_api_needs_a_leads_key(client: TestClient, person: PersonFactory) -> None:
    for headers in ({}, {"X-Lead-Key": "nope"}, {"Authorization": "Bearer nope"}):
        r = client.get("/api/lead/status", headers=headers)
        assert r.status_code == 401 and "key" in r.json()["detail"]
    for headers in (AGENT, person("alice")):  # a valid key of the wrong role: 403, not 401
        r = client.get("/api/lead/status", headers=headers)
        assert r.status_code == 403 and "lead's key" in r.json()["detail"]
    assert client.get("/api/lead/status", headers=person("lena", "lead")).status_code == 200


def test_lead_status_reload_stats_unanswered(client: TestClient) -> None:
    status = client.get("/api/lead/status", headers=LEAD).json()
    assert status["reload_ok"] and status["entries"] == 4 and status["phrasings"] == 9
    assert status["index_version"] and status["model"].startswith("use")
    again = client.post("/api/lead/reload", headers=LEAD).json()
    assert again["index_version"] == status["index_version"]
    chat(client, "How long do I have to return an item?")
    chat(client, "delivery")
    chat(client, "what is the meaning of life")
    stats = client.get("/api/lead/stats", headers=LEAD, params={"days": 2}).json()
    assert stats["totals"]["questions"] == 3
    assert (stats["totals"]["answered"], stats["totals"]["clarified"],
            stats["totals"]["handed_off"]) == (1, 1, 1)
    assert stats["per_language"]["en"]["questions"] == 3
    assert len(stats["per_day"]) == 2 and stats["per_day"][-1]["questions"] == 3
    un = client.get("/api/lead/unanswered", headers=LEAD).json()["questions"]
    assert [q["text"] for q in un] == ["what is the meaning of life", "delivery"]
    assert client.get("/api/lead/stats", headers=LEAD, params={"days": 0}).status_code == 422


# ---- operations and pages ----
def test_health_ready_and_request_ids(client: TestClient) -> None:
    h = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert h.json() == {"status": "ok", "reload_error": None, "faq_remote": None, "redis": None}
    assert h.headers["X-Request-ID"] == "abc-123"
    assert len(client.get("/health").headers["X-Request-ID"]) >= 8
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_not_ready_without_an_index(app_settings: Settings, tmp_path: Any) -> None:
    empty = app_settings.model_copy(update={"faq_dir": tmp_path / "nothing",
                                            "index_dir": tmp_path / "no-index"})
    bot = FaqBot(empty)
    with TestClient(create_app(empty, bot=bot)) as c:
        r = c.get("/ready")
        assert r.status_code == 503 and r.json()["index"] is None
        assert c.get("/health").status_code == 200
        # a shopper still reaches a person when the bot cannot answer
        handoff = chat(c, "Where is my order?")
        assert handoff["action"] == "handoff"


def test_pages_and_static_files(client: TestClient) -> None:
    for path in ("/", "/widget.js", "/agent", "/lead", "/static/agent.js", "/static/lead.js"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/no-such-file.css").status_code == 404
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404
    assert client.get("/static/hostile.html").status_code == 404  # a test page, not shipped


def test_cors_allows_listed_origins_only(app_settings: Settings, faqbot: FaqBot) -> None:
    settings = app_settings.model_copy(update={"cors_origins": ["https://shop.example"]})
    with TestClient(create_app(settings, bot=faqbot)) as c:
        pre = {"Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
        ok = c.options("/api/chat", headers={"Origin": "https://shop.example", **pre})
        assert ok.headers["access-control-allow-origin"] == "https://shop.example"
        no = c.options("/api/chat", headers={"Origin": "https://evil.example", **pre})
        assert "access-control-allow-origin" not in no.headers


@pytest.fixture
def strict_client(app_settings: Settings, faqbot: FaqBot) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"rate_limit_per_minute": 6,
                                               "conversation_rate_limit_per_minute": 3})
    with TestClient(create_app(settings, bot=faqbot)) as c:
        yield c


def test_rate_limits_per_conversation_and_per_address(strict_client: TestClient) -> None:
    r = chat(strict_client, "What is the return period?")
    sid = r["session_id"]
    for _ in range(3):
        chat(strict_client, "What is the return period?", session_id=sid)
    limited = strict_client.post("/api/chat", json={"message": "again", "session_id": sid})
    assert limited.status_code == 429 and "conversation" in limited.json()["detail"]
    assert int(limited.headers["Retry-After"]) >= 1
    chat(strict_client, "What is the return period?")  # 6th from this address (refused count)
    limited = strict_client.post("/api/chat", json={"message": "again"})
    assert limited.status_code == 429 and "address" in limited.json()["detail"]


def test_message_text_stays_out_of_info_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my secret address is Elm Street 5"
    with caplog.at_level(logging.INFO, logger="bot"):
        chat(client, secret)
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)


def test_message_text_in_logs_when_allowed(
    app_settings: Settings, faqbot: FaqBot, caplog: pytest.LogCaptureFixture
) -> None:
    settings = app_settings.model_copy(update={"log_message_text": True})
    with TestClient(create_app(settings, bot=faqbot)) as c, \
            caplog.at_level(logging.INFO, logger="bot"):
        chat(c, "What is the return period?")
    assert any("What is the return period?" in r.getMessage() for r in caplog.records)
