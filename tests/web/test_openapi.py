"""The OpenAPI schema is the contract the widget, console and lead page are written against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.web.app import create_app
from tests.support.embedders import FakeHashEmbedder
from tests.support.settings import make_settings


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home: Path = tmp_path_factory.mktemp("schema")
    settings = make_settings(home)
    app = create_app(settings, bot=FaqBot(settings, embedder=FakeHashEmbedder()))
    with TestClient(app) as c:
        assert c.get("/docs").status_code == 200
        body: dict[str, Any] = c.get("/openapi.json").json()
    return body


ROUTES = {
    ("post", "/api/chat"),
    ("get", "/api/conversations/{session_id}/messages"),
    ("get", "/api/conversations/{session_id}/events"),
    ("post", "/api/feedback"),
    ("post", "/api/conversations/{session_id}/contact"),
    ("delete", "/api/conversations/{session_id}/contact"),
    ("post", "/api/conversations/{session_id}/photos"),
    ("post", "/api/conversations/{session_id}/leave"),
    ("get", "/api/agent/photos/{photo_id}"),
    ("post", "/api/conversations/{session_id}/withdraw"),
    ("post", "/api/conversations/{session_id}/rating"),
    ("get", "/api/agent/tickets"),
    ("get", "/api/agent/tickets/{ticket_id}"),
    ("post", "/api/agent/tickets/{ticket_id}/claim"),
    ("post", "/api/agent/tickets/{ticket_id}/reply"),
    ("post", "/api/agent/tickets/{ticket_id}/resolve"),
    ("post", "/api/agent/tickets/{ticket_id}/release"),
    ("get", "/api/agent/events"),
    ("get", "/api/me"),
    ("get", "/api/agent/people"),
    ("post", "/api/agent/tickets/{ticket_id}/notes"),
    ("post", "/api/agent/tickets/{ticket_id}/assign"),
    ("post", "/api/agent/tickets/{ticket_id}/spam"),
    ("post", "/api/agent/tickets/bulk"),
    ("get", "/api/agent/faq"),
    ("get", "/api/agent/faq/{faq_id}"),
    ("get", "/api/agent/canned"),
    ("get", "/api/agent/conversations/{session_id}"),
    ("post", "/api/lead/reload"),
    ("get", "/api/lead/status"),
    ("get", "/api/lead/stats"),
    ("get", "/api/lead/unanswered"),
    ("get", "/api/lead/learned"),
    ("post", "/api/lead/learned/{learned_id}/accept"),
    ("post", "/api/lead/learned/{learned_id}/dismiss"),
    ("get", "/health"),
    ("get", "/ready"),
}


def props(schema: dict[str, Any], name: str) -> set[str]:
    return set(schema["components"]["schemas"][name]["properties"])


def response_schema(schema: dict[str, Any], method: str, path: str) -> str:
    ref = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"][
        "schema"]["$ref"]
    return str(ref.rsplit("/", 1)[1])


def test_every_route_of_the_contract_is_documented(schema: dict[str, Any]) -> None:
    documented = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert ROUTES.issubset(documented)
    # pages are served but not part of the API description
    assert not any(p in schema["paths"] for p in ("/", "/widget.js", "/agent", "/lead"))


def test_request_and_response_fields_match_the_contract(schema: dict[str, Any]) -> None:
    assert props(schema, "ChatIn") == {
        "session_id", "message", "language", "locale", "market", "suggestion_id", "human",
        "visitor_id", "page_url"}
    assert props(schema, response_schema(schema, "post", "/api/chat")) == {
        "session_id", "message_id", "action", "language", "faq_id", "confidence", "answer",
        "answer_language", "machine_translated", "suggestions", "person_chip", "ticket_id",
        "notice", "cursor", "kind", "state", "wait_minutes", "message_ids", "rate_message_id",
        "rate_prompt"}
    assert props(schema, "ChatOut") >= {"action"}
    action = schema["components"]["schemas"]["ChatOut"]["properties"]["action"]
    assert set(action["enum"]) == {"answer", "clarify", "handoff", "queued", "smalltalk",
                                   "noise", "vague", "withdrawn"}
    assert props(schema, "SuggestionOut") == {"faq_id", "question", "confidence"}
    assert props(schema, "MessagesOut") == {
        "session_id", "state", "ticket_id", "language", "messages", "cursor", "followup",
        "wait_minutes", "rated"}
    assert props(schema, "FollowupOut") == {"email_offer", "email"}
    assert props(schema, "WithdrawOut") == {
        "state", "notice", "message_ids", "cursor", "rate_message_id", "rate_prompt"}
    assert props(schema, "RatingIn") == {"score", "comment"}
    assert props(schema, "RatingOut") == {"ok", "score", "notice"}
    assert props(schema, "MessageOut") == {
        "id", "role", "text", "language", "created_at", "action", "faq_id", "author", "photos"}
    assert props(schema, "ContactIn") == {"email", "page"}
    assert props(schema, "PhotoMessageOut") == {
        "session_id", "message_id", "action", "language", "ticket_id", "notice", "cursor",
        "photos"}
    assert props(schema, "FeedbackIn") == {"session_id", "message_id", "helpful", "comment"}
    assert props(schema, "FeedbackOut") == {
        "ok", "offer_handoff", "notice", "rate_message_id", "rate_prompt"}
    ticket = {"id", "state", "priority", "language", "reason", "created_at", "due_at",
              "sla_breached", "waiting_seconds", "claimed_by", "preview", "spam", "kind",
              "asked_about", "page_url", "locale", "market", "resolution"}
    assert props(schema, "TicketOut") == ticket
    assert props(schema, "TicketDetailOut") == ticket | {
        "session_id", "guesses", "transcript", "email", "asked_about_for_agent", "events",
        "customer", "shopper_language", "agent_language", "translation_sources"}
    assert props(schema, "TranscriptLine") == {
        "id", "role", "text", "language", "text_for_agent", "created_at", "author", "photos"}
    assert props(schema, "PhotoOut") == {
        "id", "content_type", "width", "height", "size", "removed"}
    assert props(schema, "ReplyIn") == {"text", "language"}
    assert props(schema, "ReplyOut") == {"message", "translated", "may_email", "untranslated"}
    assert props(schema, "CustomerOut") == {
        "session_id", "language", "locale", "market", "page_url", "started_at", "email",
        "earlier"}
    assert props(schema, "EventOut") == {
        "id", "kind", "actor", "text", "target", "previous", "created_at"}
    assert props(schema, "MeOut") == {"name", "role", "language", "development"}
    assert props(schema, "StatusOut") == {
        "index_version", "model", "entries", "phrasings", "reload_ok", "reload_error",
        "reloaded_at"}
    assert props(schema, "StatsOut") >= {"totals", "per_language", "per_day"}
    assert props(schema, "QuestionOut") >= {
        "id", "text", "language", "action", "faq_id", "score", "created_at"}
    assert props(schema, "HealthOut") == {"status", "reload_error", "faq_remote", "redis"}
    assert props(schema, "RemoteStatusOut") == {"url", "head", "fetched_at", "error"}
    assert props(schema, "ReadyOut") == {"index", "database"}


def test_errors_and_keys_are_described(schema: dict[str, Any]) -> None:
    chat = schema["paths"]["/api/chat"]["post"]["responses"]
    assert {"400", "413", "422", "429"} <= set(chat)
    assert props(schema, "ErrorOut") == {"detail", "code", "filename"}
    upload = schema["paths"]["/api/conversations/{session_id}/photos"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["photo"]["maxItems"] == 3 and {"413", "415"} <= set(
        upload["responses"])
    photo = schema["paths"]["/api/agent/photos/{photo_id}"]["get"]
    assert {"Bearer": []} in photo["security"] and "image/jpeg" in photo["responses"]["200"][
        "content"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    # The old headers still carry a key (any person's) for existing scripts.
    assert schemes["AgentKey"] | {"description": ""} == {
        "type": "apiKey", "in": "header", "name": "X-Agent-Key", "description": ""}
    assert schemes["LeadKey"]["name"] == "X-Lead-Key"
    claim = schema["paths"]["/api/agent/tickets/{ticket_id}/claim"]["post"]
    assert {"Bearer": []} in claim["security"] and "409" in claim["responses"]
    assert {"403", "401"} <= set(schema["paths"]["/api/lead/stats"]["get"]["responses"])
    assert {"Bearer": []} in schema["paths"]["/api/lead/stats"]["get"]["security"]
    assert {"Bearer": []} in schema["paths"]["/api/me"]["get"]["security"]
    params = {p["name"] for p in schema["paths"]["/api/agent/tickets"]["get"]["parameters"]}
    assert {"state", "language", "priority", "q", "claimed_by"} <= params
    # A name is never taken from a header, so none is documented.
    every = [p["name"] for path in schema["paths"].values() for op in path.values()
             for p in op.get("parameters", [])]
    assert "X-Agent-Name" not in every and "X-Lead-Name" not in every
    events = schema["paths"]["/api/conversations/{session_id}/events"]["get"]["responses"]["200"]
    assert "text/event-stream" in events["content"]
