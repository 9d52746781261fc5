"""Hostile input answered 404/422, never 500, on SQLite and PostgreSQL (issue 14, items 3-6).

Integers past the database's INTEGER columns, lone surrogates, NUL characters and a NUL in a
static file's path: each gave a 500 on one database or both (or was stored raw on SQLite).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow

AGENT = {"Authorization": "Bearer dev-agent-key"}
LEAD = {"Authorization": "Bearer dev-lead-key"}
HUGE = [2**31, 2**63, 2**64 + 1]  # past PostgreSQL's INTEGER, past SQLite's, past both
SURROGATE = "\ud800"


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def handoff(client: TestClient) -> dict[str, Any]:
    """A shopper asks about returns, then for a person: a conversation with an open ticket."""
    first = ok(client.post("/api/chat", json={"message": "How long do I have to return an item?",
                                              "language": "en"}))
    return ok(client.post("/api/chat", json={"message": "I want to talk to a person",
                                             "session_id": first["session_id"]}))


def send(client: TestClient, path: str, body: dict[str, Any],
         headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` as JSON with \\u escapes: a lone surrogate goes out as a browser sends it."""
    return client.post(path, content=json.dumps(body),
                       headers={"Content-Type": "application/json", **(headers or {})})


def refused(r: Any, *codes: int, field: str | None = None) -> str:
    assert r.status_code in codes, (r.status_code, r.text)
    detail: str = r.json()["detail"]
    if field is not None:
        assert field in detail, detail
    return detail


@pytest.mark.parametrize("n", HUGE)
def test_ids_past_the_columns_are_refused_not_500(client: TestClient, n: int) -> None:
    turn = handoff(client)
    sid, tid = turn["session_id"], turn["ticket_id"]
    for method, path in [("GET", f"/api/agent/tickets/{n}"),
                         ("POST", f"/api/agent/tickets/{n}/claim"),
                         ("POST", f"/api/agent/tickets/{n}/resolve"),
                         ("POST", f"/api/agent/tickets/{n}/release"),
                         ("POST", f"/api/agent/tickets/{n}/spam"),
                         ("GET", f"/api/agent/photos/{n}")]:
        refused(client.request(method, path, headers=AGENT), 404, 422)
    refused(client.post(f"/api/agent/tickets/{n}/reply", json={"text": "hi"}, headers=AGENT),
            404, 422)
    refused(client.post(f"/api/agent/tickets/{n}/notes", json={"text": "hi"}, headers=AGENT),
            404, 422)
    refused(client.post("/api/agent/tickets/bulk", json={"ids": [tid, n], "action": "spam"},
                        headers=AGENT), 422, field="ids")
    refused(client.get(f"/api/conversations/{sid}/messages", params={"after": n}), 422,
            field="after")
    refused(client.get(f"/api/conversations/{sid}/events", params={"after": n, "timeout": 1}),
            422, field="after")
    refused(client.post("/api/feedback", json={"session_id": sid, "message_id": n,
                                               "helpful": True}), 422, field="message_id")
    refused(client.post("/api/lead/clusters/add-phrasings", headers=LEAD,
                        json={"entry_id": "returns-window", "question_ids": [n]}),
            422, field="question_ids")
    # A Last-Event-ID no server sent is ignored: the stream starts at `after`.
    with client.stream("GET", f"/api/conversations/{sid}/events", params={"timeout": 1},
                       headers={"Last-Event-ID": str(n)}) as r:
        assert r.status_code == 200
        assert "event: message" in "".join(r.iter_text())
    # The ticket is untouched by all that.
    assert ok(client.get(f"/api/agent/tickets/{tid}", headers=AGENT))["state"] == "open"


@pytest.mark.parametrize("bad", [SURROGATE, "a\x00b"], ids=["surrogate", "nul"])
def test_bad_characters_are_a_422_naming_the_field(client: TestClient, bad: str) -> None:
    turn = handoff(client)
    sid, tid = turn["session_id"], turn["ticket_id"]
    bot_reply = ok(send(client, "/api/chat", {"message": "return period?", "language": "en"}))
    refused(send(client, "/api/chat", {"message": f"hello {bad}"}), 422, field="message")
    refused(send(client, "/api/chat", {"message": f"hi {bad}", "human": True}), 422,
            field="message")
    # The conversation waits for a person: its messages are queued, not answered.
    refused(send(client, "/api/chat", {"message": f"still {bad}", "session_id": sid}), 422,
            field="message")
    for field in ("locale", "market", "language", "visitor_id", "page_url"):
        refused(send(client, "/api/chat", {"message": "hello", field: f"x{bad}"}), 422,
                field=field)
    refused(send(client, "/api/feedback", {
        "session_id": bot_reply["session_id"], "message_id": bot_reply["message_id"],
        "helpful": False, "comment": f"bad {bad}"}), 422, field="comment")
    refused(send(client, f"/api/conversations/{sid}/rating",
                 {"score": 4, "comment": f"ok {bad}"}), 422, field="comment")
    refused(send(client, f"/api/conversations/{sid}/contact", {"email": f"a{bad}@b.example"}),
            422, field="email")
    ok(client.post(f"/api/agent/tickets/{tid}/claim", headers=AGENT))
    refused(send(client, f"/api/agent/tickets/{tid}/reply", {"text": f"Hello {bad}"}, AGENT),
            422, field="text")
    refused(send(client, f"/api/agent/tickets/{tid}/notes", {"text": f"note {bad}"}, AGENT),
            422, field="text")
    refused(send(client, "/api/lead/clusters/add-phrasings", {
        "entry_id": "returns-window", "questions": [f"Return {bad}?"]}, LEAD),
            422, field="questions")
    # NUL in a query string or a path names nothing: refused before any route runs.
    refused(client.get("/api/agent/tickets", params={"q": "a\x00b"}, headers=AGENT), 422)
    refused(client.get("/api/agent/conversations/ab%00cd", headers=AGENT), 404)
    # Nothing of it was stored: the transcript holds only the two good turns.
    texts = [m["text"] for m in ok(client.get(f"/api/conversations/{sid}/messages"))["messages"]]
    assert not any("\x00" in t or SURROGATE in t for t in texts)


def test_static_path_with_nul_is_404(client: TestClient) -> None:
    assert client.get("/static/agent.js").status_code == 200
    refused(client.get("/static/agent.js%00.html"), 404)


@pytest.mark.parametrize("key", ["c\u00b2", "c" + "9" * 20, "c2147483648"])
def test_odd_cluster_keys_are_refused_not_500(client: TestClient, key: str) -> None:
    """ "c²" passed str.isdigit() and broke int(); a huge one overflowed the column."""
    refused(send(client, "/api/lead/clusters/dismiss", {"key": key}, LEAD), 400,
            field="not a cluster key")


def test_the_schema_states_the_limits(client: TestClient) -> None:
    """What the schema allows is not refused for its length, range or shape (issue 14)."""
    doc = ok(client.get("/openapi.json"))
    bodies = doc["components"]["schemas"]
    assert bodies["ChatIn"]["properties"]["message"]["maxLength"] == 1000
    assert bodies["FeedbackIn"]["properties"]["comment"]["maxLength"] == 1000
    assert bodies["FeedbackIn"]["properties"]["message_id"]["maximum"] == 2**31 - 1
    assert bodies["ReplyIn"]["properties"]["text"] | {"maxLength": 5000, "pattern": "\\S"} \
        == bodies["ReplyIn"]["properties"]["text"]
    assert bodies["DismissIn"]["properties"]["key"]["pattern"] == "^c[0-9]{1,9}$"
    ticket = doc["paths"]["/api/agent/tickets/{ticket_id}"]["get"]["parameters"][0]
    assert ticket["schema"]["maximum"] == 2**31 - 1 and ticket["schema"]["minimum"] == 1
    assert "at most 65536 bytes" in doc["info"]["description"]
