"""Agents' routes (X-Agent-Key): the queue, a ticket's transcript, claim, reply, resolve."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from bot.web.deps import AgentDep, ServicesDep, require_agent
from bot.web.schemas import ERRORS, ReplyIn, ReplyOut, TicketDetailOut, TicketOut, TicketsOut

router = APIRouter(prefix="/api/agent", tags=["agent"], responses=ERRORS,
                   dependencies=[Depends(require_agent)])


@router.get("/tickets", response_model=TicketsOut)
def list_tickets(
    sv: ServicesDep,
    state: Literal["open", "claimed", "resolved"] | None = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    priority: Literal["urgent", "normal"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> TicketsOut:
    """List tickets, oldest urgent first; without ``state``, the open and claimed ones."""
    tickets = sv.chat.list_tickets(state, language or None, priority, limit)
    return TicketsOut(tickets=[TicketOut.model_validate(t) for t in tickets])


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
def get_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> TicketDetailOut:
    """Return a ticket with its transcript (each line also in the agent's language)."""
    return TicketDetailOut.model_validate(sv.chat.ticket_detail(ticket_id, agent.language))


@router.post("/tickets/{ticket_id}/claim", response_model=TicketOut)
def claim_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> TicketOut:
    """Take a ticket; 409 when another agent holds it."""
    return TicketOut.model_validate(sv.chat.claim(ticket_id, agent.name))


@router.post("/tickets/{ticket_id}/reply", response_model=ReplyOut)
def reply_ticket(ticket_id: int, body: ReplyIn, sv: ServicesDep, agent: AgentDep) -> ReplyOut:
    """Send a reply into the shopper's conversation (translated when a pack exists)."""
    return ReplyOut.model_validate(
        sv.chat.agent_reply(ticket_id, agent.name, body.text, agent.language)
    )


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut)
def resolve_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> TicketOut:
    """Close a ticket (open, or held by this agent)."""
    return TicketOut.model_validate(sv.chat.resolve(ticket_id, agent.name))


@router.post("/tickets/{ticket_id}/release", response_model=TicketOut)
def release_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> TicketOut:
    """Give a held ticket back to the queue."""
    return TicketOut.model_validate(sv.chat.release(ticket_id, agent.name))
