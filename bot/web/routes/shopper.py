"""Shoppers' routes (public): chat, the conversation's messages and events, feedback, config."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from bot.chat.views import ChatRequest
from bot.web.deps import ServicesDep, client_ip
from bot.web.schemas import (
    ERRORS,
    ChatIn,
    ChatOut,
    ConfigOut,
    FeedbackIn,
    FeedbackOut,
    MessageOut,
    MessagesOut,
)

SSE_KEEPALIVE_SECONDS = 15.0

router = APIRouter(prefix="/api", tags=["shopper"], responses=ERRORS)


@router.post("/chat", response_model=ChatOut)
def post_chat(body: ChatIn, request: Request, sv: ServicesDep) -> ChatOut:
    """Send one shopper message; start a conversation with ``session_id`` null."""
    sv.ip_limit.hit(client_ip(request))
    if body.session_id:
        sv.conversation_limit.hit(body.session_id)
    result = sv.chat.chat(ChatRequest(
        session_id=body.session_id, message=body.message, language=body.language,
        locale=body.locale, market=body.market, suggestion_id=body.suggestion_id,
        human=body.human, visitor_id=body.visitor_id, page_url=body.page_url,
    ))
    sv.announce(result.session_id, result.ticket_id,
                "message" if result.action == "queued" else "opened")
    return ChatOut.model_validate(result)


@router.get("/conversations/{session_id}/messages", response_model=MessagesOut)
def get_messages(
    session_id: str, sv: ServicesDep, after: Annotated[int, Query(ge=0)] = 0
) -> MessagesOut:
    """Return the conversation's messages after the cursor (poll with the returned cursor)."""
    sv.poll_limit.hit(session_id)
    return MessagesOut.model_validate(sv.chat.messages(session_id, after))


@router.get(
    "/conversations/{session_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "one `message` event per new message"}},
)
async def get_events(
    session_id: str,
    request: Request,
    sv: ServicesDep,
    after: Annotated[int, Query(ge=0)] = 0,
    timeout: Annotated[float, Query(ge=1, le=3600, description="close after (s)")] = 300,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Stream new messages as server-sent events; the browser reconnects with Last-Event-ID."""
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    # Listen before the first read, so a message added in between still wakes the stream.
    sub = sv.events.open(f"conversation:{session_id}")
    try:
        first = await run_in_threadpool(sv.chat.messages, session_id, after)  # 404 now
    except BaseException:
        sv.events.close(sub)
        raise

    async def stream() -> AsyncIterator[str]:
        view, cursor = first, after
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        try:
            yield "retry: 3000\n\n"
            while True:
                for m in view.messages:
                    cursor = m.id
                    payload = MessageOut.model_validate(m).model_dump_json()
                    yield f"id: {cursor}\nevent: message\ndata: {payload}\n\n"
                    quiet_since = time.monotonic()
                if time.monotonic() >= deadline or await request.is_disconnected():
                    return
                if time.monotonic() - quiet_since >= SSE_KEEPALIVE_SECONDS:
                    yield ": keepalive\n\n"  # keeps proxies from closing an idle stream
                    quiet_since = time.monotonic()
                # Woken by an event from any server, else after the poll interval (1 s
                # without Redis, a few seconds as a safety net with it).
                await sub.next(min(sv.events.poll_seconds, max(0.0, deadline - time.monotonic())))
                view = await run_in_threadpool(sv.chat.messages, session_id, cursor)
        finally:
            sv.events.close(sub)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/feedback", response_model=FeedbackOut)
def post_feedback(body: FeedbackIn, request: Request, sv: ServicesDep) -> FeedbackOut:
    """Say whether a bot reply helped; "not helpful" offers a person."""
    sv.ip_limit.hit(client_ip(request))
    sv.conversation_limit.hit(body.session_id)
    return FeedbackOut.model_validate(
        sv.chat.feedback(body.session_id, body.message_id, body.helpful, body.comment)
    )


@router.get("/config", response_model=ConfigOut)
def get_config(sv: ServicesDep) -> ConfigOut:
    """Return what the widget and the pages need to know: the languages this desk supports."""
    s = sv.settings
    return ConfigOut(default_language=s.default_language,
                     languages=list(s.supported_languages))
