"""Shoppers' routes (public): chat, messages and events, feedback, config, e-mail, photos."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute

from bot.chat.images import MAX_PHOTO_BYTES, MAX_PHOTOS_PER_MESSAGE, PhotoRejected, clean_image
from bot.chat.photos import photo_message
from bot.chat.views import ChatRequest, ChatResult
from bot.web.deps import Services, ServicesDep, check_session_id, client_ip
from bot.web.errors import database_outage
from bot.web.inputs import MAX_ID, After
from bot.web.middleware import PHOTO_BODY_BYTES
from bot.web.schemas import (
    ERRORS,
    ChatIn,
    ChatOut,
    ConfigOut,
    ContactIn,
    ContactOut,
    FeedbackIn,
    FeedbackOut,
    FollowupOut,
    MessageOut,
    MessagesOut,
    PhotoMessageOut,
    RatingIn,
    RatingOut,
    WithdrawOut,
)
from bot.web.streaming import SlotStream
from bot.web.uploads import Upload, read_upload

SSE_KEEPALIVE_SECONDS = 15.0
_EVENT_ID = re.compile(r"[0-9]{1,10}")


class AddressLimitedRoute(APIRoute):
    """A route with a body counts the caller's address against the per-IP limit first.

    FastAPI reads and parses the body before any dependency runs: a flood of large bodies
    would be read in full before its 429 (issue 14).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def limited(request: Request) -> Response:
            sv: Services = request.app.state.services
            await run_in_threadpool(sv.ip_limit.hit, client_ip(request))
            return await handler(request)

        return limited


router = APIRouter(prefix="/api", tags=["shopper"], responses=ERRORS,
                   route_class=AddressLimitedRoute)


@router.post("/chat", response_model=ChatOut)
def post_chat(body: ChatIn, sv: ServicesDep) -> ChatOut:
    """Send one shopper message; start a conversation with ``session_id`` null."""
    # The address was counted before the body was read (AddressLimitedRoute).
    if body.session_id:
        sv.conversation_limit.hit(body.session_id)
    result = sv.chat.chat(ChatRequest(
        session_id=body.session_id, message=body.message, language=body.language,
        locale=body.locale, market=body.market, suggestion_id=body.suggestion_id,
        human=body.human, visitor_id=body.visitor_id, page_url=body.page_url,
    ))
    sv.announce(result.session_id, result.ticket_id, _queue_change(result))
    return ChatOut.model_validate(result)


def _queue_change(result: ChatResult) -> str | None:
    """Say what a chat turn changed in the queue, if anything (the consoles refresh)."""
    if result.ticket_opened:
        return "opened"
    if result.action == "withdrawn":
        return "resolved"
    return "message" if result.state == "handoff" else None


@router.get("/conversations/{session_id}/messages", response_model=MessagesOut)
def get_messages(
    session_id: str,
    request: Request,
    sv: ServicesDep,
    after: After = 0,
    visible: Annotated[bool, Query(description="false from a background tab")] = True,
) -> MessagesOut:
    """Return the conversation's messages after the cursor (poll with the returned cursor)."""
    sv.poll_ip_limit.hit(client_ip(request))
    check_session_id(session_id)  # a junk id never reaches the rate-limit store
    sv.poll_limit.hit(session_id)
    view = sv.chat.messages(session_id, after)
    out = MessagesOut.model_validate(view)
    out.followup = FollowupOut.model_validate(
        sv.followup.on_poll(session_id, view.cursor, view.state, visible))
    return out


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
    after: After = 0,
    timeout: Annotated[float, Query(ge=1, le=3600, description="close after (s)")] = 300,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Stream new messages as server-sent events; the browser reconnects with Last-Event-ID."""
    # Only an id this server could have sent counts ("²".isdigit() is true, 2^63 overflows).
    if last_event_id and _EVENT_ID.fullmatch(last_event_id) and int(last_event_id) <= MAX_ID:
        after = max(after, int(last_event_id))
    check_session_id(session_id)
    timeout = min(timeout, sv.settings.sse_max_seconds)
    slot = sv.streams.take(client_ip(request), session_id)  # 429 / 503 over a cap
    # Listen before the first read, so a message added in between still wakes the stream.
    sub = sv.events.open(f"conversation:{session_id}")
    try:
        first = await run_in_threadpool(sv.chat.messages, session_id, after)  # 404 now
    except BaseException:
        sv.events.close(sub)
        slot.release()
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
                if sv.followup.enabled:  # an open stream counts as the shopper being here
                    await run_in_threadpool(sv.followup.on_poll, session_id, cursor,
                                            view.state, True)
                if time.monotonic() >= deadline or await request.is_disconnected():
                    return
                if time.monotonic() - quiet_since >= SSE_KEEPALIVE_SECONDS:
                    yield ": keepalive\n\n"  # keeps proxies from closing an idle stream
                    quiet_since = time.monotonic()
                # Woken by an event from any server, else after the poll interval (1 s
                # without Redis, a few seconds as a safety net with it).
                await sub.next(min(sv.events.poll_seconds, max(0.0, deadline - time.monotonic())))
                try:
                    view = await run_in_threadpool(sv.chat.messages, session_id, cursor)
                except Exception as exc:
                    if database_outage(exc) is None:
                        raise
                    # The database went away: end the stream cleanly (the browser comes
                    # back after `retry`) instead of cutting the connection mid-stream.
                    return
        finally:
            sv.events.close(sub)

    return SlotStream(stream(), slot)


@router.post("/feedback", response_model=FeedbackOut)
def post_feedback(body: FeedbackIn, sv: ServicesDep) -> FeedbackOut:
    """Say whether a bot reply helped; "not helpful" offers a person."""
    # The address was counted before the body was read (AddressLimitedRoute).
    check_session_id(body.session_id)
    sv.conversation_limit.hit(body.session_id)
    return FeedbackOut.model_validate(
        sv.chat.feedback(body.session_id, body.message_id, body.helpful, body.comment)
    )


@router.post("/conversations/{session_id}/withdraw", response_model=WithdrawOut)
def post_withdraw(session_id: str, request: Request, sv: ServicesDep) -> WithdrawOut:
    """Say the question is answered: the waiting ticket closes as self-served."""
    sv.ip_limit.hit(client_ip(request))
    check_session_id(session_id)
    sv.conversation_limit.hit(session_id)
    done = sv.chat.withdraw(session_id)
    sv.announce(session_id, done.ticket_id, "resolved" if done.notice else None)
    return WithdrawOut.model_validate(done)


@router.post("/conversations/{session_id}/rating", response_model=RatingOut,
             responses={409: {"description": "already rated (a comment may follow once)"}})
def post_rating(session_id: str, body: RatingIn, sv: ServicesDep) -> RatingOut:
    """Rate the conversation 1-5 (once; the same score again may add a comment)."""
    # The address was counted before the body was read (AddressLimitedRoute).
    check_session_id(session_id)
    sv.conversation_limit.hit(session_id)
    return RatingOut.model_validate(sv.chat.rate(session_id, body.score, body.comment))


@router.get("/config", response_model=ConfigOut)
def get_config(sv: ServicesDep) -> ConfigOut:
    """Return what the widget and the pages need to know: the languages this desk supports."""
    s = sv.settings
    return ConfigOut(default_language=s.default_language,
                     languages=list(s.supported_languages))


@router.post("/conversations/{session_id}/contact", response_model=ContactOut)
def post_contact(
    session_id: str, body: ContactIn, request: Request, sv: ServicesDep
) -> ContactOut:
    """Leave an e-mail address after a handoff: replies not read in the chat are mailed."""
    # The address was counted before the body was read (AddressLimitedRoute).
    check_session_id(session_id)
    sv.conversation_limit.hit(session_id)
    return ContactOut.model_validate(
        sv.followup.set_contact(session_id, body.email, body.page, str(request.base_url)))


@router.delete("/conversations/{session_id}/contact", status_code=204,
               response_class=Response)
def delete_contact(session_id: str, request: Request, sv: ServicesDep) -> Response:
    """Forget the conversation's e-mail address; mails not sent yet are dropped."""
    sv.ip_limit.hit(client_ip(request))
    sv.followup.forget(session_id)
    return Response(status_code=204)


@router.post("/conversations/{session_id}/leave", status_code=204, response_class=Response)
def post_leave(session_id: str, request: Request, sv: ServicesDep) -> Response:
    """Say the shopper's page closed (the widget sends a beacon): unread replies are mailed."""
    sv.poll_ip_limit.hit(client_ip(request))
    check_session_id(session_id)
    sv.poll_limit.hit(session_id)
    sv.followup.left(session_id)
    return Response(status_code=204)


_PHOTO_FORM = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["photo"],
        "properties": {
            "photo": {"type": "array", "maxItems": MAX_PHOTOS_PER_MESSAGE,
                      "items": {"type": "string", "format": "binary"},
                      "description": "JPEG, PNG or WebP, at most 10 MB each"},
            "text": {"type": "string", "description": "an optional caption"},
        }}}}},
}


def _clean_and_store(sv: Services, upload: Upload) -> list[dict[str, Any]]:
    """Check and re-encode every uploaded file, then store them: all of them or none."""
    stored: list[dict[str, Any]] = []
    try:
        cleaned = [clean_image(f.path, f.filename) for f in upload.files]
        for image in cleaned:
            stored.append({"file": sv.photos.save(image), "content_type": image.content_type,
                           "size": len(image.data), "width": image.width,
                           "height": image.height})
    except BaseException:
        for item in stored:
            sv.photos.remove(item["file"])
        raise
    return stored


@router.post("/conversations/{session_id}/photos", response_model=PhotoMessageOut,
             openapi_extra=_PHOTO_FORM)
async def post_photos(session_id: str, request: Request, sv: ServicesDep) -> PhotoMessageOut:
    """Send up to 3 photos (JPEG, PNG, WebP; 10 MB each) and a caption to a person.

    The bytes decide the type; every photo is re-encoded (no metadata survives) and shown
    to agents only. A conversation with no ticket is handed to a person.
    """
    sv.ip_limit.hit(client_ip(request))
    check_session_id(session_id)
    sv.conversation_limit.hit(session_id)
    await run_in_threadpool(sv.chat.check_conversation, session_id)  # 404 before the upload
    upload = await read_upload(
        request.headers.get("content-type", ""), request.headers.get("content-length"),
        request.stream(), sv.photos.incoming, file_field="photo", text_fields=("text",),
        max_files=MAX_PHOTOS_PER_MESSAGE, max_file_bytes=MAX_PHOTO_BYTES,
        max_total_bytes=PHOTO_BODY_BYTES,
    )
    try:
        if not upload.files:
            raise PhotoRejected("photo_empty", "attach at least one photo in the 'photo' field")
        stored = await run_in_threadpool(_clean_and_store, sv, upload)
    finally:
        upload.discard()
    try:
        result = await run_in_threadpool(
            photo_message, sv.chat, session_id, upload.fields.get("text", ""), stored)
    except BaseException:
        for item in stored:
            sv.photos.remove(item["file"])
        raise
    sv.announce(result.session_id, result.ticket_id,
                "message" if result.action == "queued" else "opened")
    return PhotoMessageOut.model_validate(result)
