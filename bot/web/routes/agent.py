"""Agents' routes (a person's key): the queue and search, a ticket with its transcript, notes,
history and customer, claim, reply, resolve, release, the shoppers' photos."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from bot.chat.entries import title_of
from bot.chat.photos import photo_file
from bot.matching.language import supported_language
from bot.runtime.events import RESYNC
from bot.web.deps import AgentDep, AgentLanguage, ServicesDep, client_ip, require_agent
from bot.web.inputs import PhotoId, TicketId
from bot.web.schemas import (
    ERRORS,
    ReplyIn,
    ReplyOut,
    TicketDetailOut,
    TicketOut,
    TicketsOut,
)
from bot.web.streaming import SlotStream

KEEPALIVE_SECONDS = 15.0
router = APIRouter(prefix="/api/agent", tags=["agent"], responses=ERRORS,
                   dependencies=[Depends(require_agent)])


@router.get("/tickets", response_model=TicketsOut)
def list_tickets(
    sv: ServicesDep,
    state: Literal["open", "claimed", "resolved"] | None = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    priority: Literal["urgent", "normal"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    claimed_by: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200,
                                   description="search: a ticket id (123, #123) or words")] = None,
) -> TicketsOut:
    """List tickets, oldest urgent first; without ``state``, the open and claimed ones.

    With ``q``: tickets in any state (or ``state``) whose id, conversation, preview or notes
    match, newest first.
    """
    if q is not None and q.strip():
        tickets = [t for t in sv.inbox.search(q, state, limit)
                   if (not language or t.language == language)
                   and (not priority or t.priority == priority)]
    else:
        tickets = sv.chat.list_tickets(state, language or None, priority, limit,
                                       claimed_by or None)
    return TicketsOut(tickets=[TicketOut.model_validate(t) for t in tickets])


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
def get_ticket(ticket_id: TicketId, sv: ServicesDep, language: AgentLanguage) -> TicketDetailOut:
    """Return a ticket with its transcript (each line also in the agent's language), its
    notes and history, the customer's context and what a reply can be translated from."""
    detail = sv.chat.ticket_detail(ticket_id, language)
    entries = sv.bot.index.entries if sv.bot.ready else {}
    guesses = []
    for g in detail.guesses:
        entry = entries.get(g.faq_id)
        title = title_of(entry, language, sv.settings.default_language) if entry else None
        guesses.append({**dataclasses.asdict(g), "title": title})
    customer = sv.inbox.customer(detail.session_id)
    shopper = customer.language
    return TicketDetailOut.model_validate({
        **{f.name: getattr(detail, f.name) for f in dataclasses.fields(detail)},
        "guesses": guesses,
        "events": sv.inbox.events(ticket_id),
        "customer": customer,
        "shopper_language": shopper,
        "agent_language": language,
        "translation_sources": sorted(src for src, dst in sv.chat.translator.pairs()
                                      if dst == shopper),
    })


@router.post("/tickets/{ticket_id}/claim", response_model=TicketOut)
def claim_ticket(ticket_id: TicketId, sv: ServicesDep, agent: AgentDep) -> TicketOut:
    """Take a ticket; 409 when another agent holds it."""
    ticket = sv.chat.claim(ticket_id, agent.name)
    sv.announce(ticket_id=ticket_id, what="claimed")
    return TicketOut.model_validate(ticket)


@router.post("/tickets/{ticket_id}/reply", response_model=ReplyOut)
def reply_ticket(
    ticket_id: TicketId, body: ReplyIn, sv: ServicesDep, agent: AgentDep, language: AgentLanguage
) -> ReplyOut:
    """Send a reply into the shopper's conversation (translated when a pack covers the pair;
    else as written, and the shopper is told)."""
    written = supported_language(body.language, sv.settings.supported_languages) \
        if body.language else None
    sent = sv.chat.agent_reply(ticket_id, agent.name, body.text, language, written)
    sv.announce(sent.session_id, ticket_id, "replied")
    return ReplyOut.model_validate(sent)


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut)
def resolve_ticket(ticket_id: TicketId, sv: ServicesDep, agent: AgentDep) -> TicketOut:
    """Close a ticket (open, or held by this agent)."""
    ticket = sv.chat.resolve(ticket_id, agent.name)
    sv.announce(ticket.session_id, ticket_id, "resolved")
    return TicketOut.model_validate(ticket)


@router.post("/tickets/{ticket_id}/release", response_model=TicketOut)
def release_ticket(ticket_id: TicketId, sv: ServicesDep, agent: AgentDep) -> TicketOut:
    """Give a held ticket back to the queue."""
    ticket = sv.chat.release(ticket_id, agent.name)
    sv.announce(ticket_id=ticket_id, what="released")
    return TicketOut.model_validate(ticket)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`queue` events ({ticket_id, what}: opened, message, "
                                    "claimed, assigned, note, replied, released, resolved); "
                                    "`resync`: reload the queue"}},
)
async def agent_events(
    request: Request,
    sv: ServicesDep,
    timeout: Annotated[float, Query(ge=1, le=3600, description="close after (s)")] = 300,
) -> StreamingResponse:
    """Stream changes of the queue from every server, so a console refreshes at once."""
    timeout = min(timeout, sv.settings.sse_max_seconds)
    slot = sv.streams.take(client_ip(request))  # 429 / 503 over a cap
    sub = sv.events.open("queue")

    async def stream() -> AsyncIterator[str]:
        deadline = time.monotonic() + timeout
        try:
            yield "retry: 3000\n\n"
            while time.monotonic() < deadline and not await request.is_disconnected():
                events = await sub.next(
                    min(KEEPALIVE_SECONDS, max(0.0, deadline - time.monotonic())))
                for e in events:
                    kind = "resync" if e.topic == RESYNC else "queue"
                    yield f"event: {kind}\ndata: {json.dumps(e.data)}\n\n"
                if not events:
                    yield ": keepalive\n\n"
        finally:
            sv.events.close(sub)

    return SlotStream(stream(), slot)


@router.get("/photos/{photo_id}", response_class=Response, responses={
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
          "description": "the re-encoded photo"}})
def get_photo(photo_id: PhotoId, sv: ServicesDep) -> FileResponse:
    """Return a shopper's photo (agents only; no shared cache may keep it)."""
    name, content_type = photo_file(sv.db, photo_id)
    return FileResponse(sv.photos.path(name), media_type=content_type, headers={
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": f'inline; filename="photo-{photo_id}{Path(name).suffix}"',
    })
