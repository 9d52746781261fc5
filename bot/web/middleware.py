"""The request middleware: request id, body-size guard and one JSON access line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.logs import loggable_path, request_id_var

access_log = logging.getLogger("bot.access")

MAX_BODY_BYTES = 64 * 1024
# The photo upload streams to disk and counts its own bytes (bot/web/uploads.py): three
# 10 MB photos, the multipart framing and a caption.
PHOTO_BODY_BYTES = 3 * 10 * 1024 * 1024 + 64 * 1024
_PHOTO_PATH = re.compile(r"^/api/conversations/[^/]+/photos$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLarge(HTTPException):
    """The body grew past its limit while it was read: 413 (FastAPI lets HTTPException through
    its body parsing, where any other error would become a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes", headers=CLOSE)
        self.limit = limit


# Closing stops the rest of the body at once: kept alive, uvicorn reads and drops all of it
# before the next request (a 128 MB body: 413 after 1.4 s, with close after a few ms).
CLOSE = {"Connection": "close"}


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"the request body is over {limit} bytes"}, status_code=413,
                        headers=CLOSE)


def _refusal(path: str, query: bytes, length: str, limit: int) -> JSONResponse | None:
    """Answer what no route can take, before any route runs (None: let it through)."""
    if length.isdigit() and int(length) > limit:
        return _too_large(limit)
    # A NUL names no resource, and PostgreSQL refuses it in a query (a 500 in any route).
    if "\x00" in path:
        return JSONResponse({"detail": "no such path (it holds a NUL character)"},
                            status_code=404)
    if b"%00" in query:
        return JSONResponse({"detail": "the query string holds a NUL character (%00)"},
                            status_code=422)
    return None


def _counting(receive: Receive, limit: int) -> Receive:
    """Wrap ``receive`` to count the body's bytes as they arrive and stop at ``limit``.

    Content-Length alone is no guard: a chunked body has none. A 128 MB chunked POST to
    /api/chat took a worker from 413 MB to 2.9-4 GB before this (issue 14); now the 413 comes
    after the first 64 KB and the rest is never read.
    """
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


class RequestContextMiddleware:
    """Request id, body-size guard and one JSON access line per request (pure ASGI).

    Starlette's ``@app.middleware("http")`` wraps every request in a task group and memory
    streams; as plain ASGI this costs a few microseconds instead (measured in BENCHMARKS.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = [500]
        started_response = [False]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                started_response[0] = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        path = scope.get("path", "")
        try:
            length = headers.get(b"content-length", b"").decode("latin-1")
            limit = PHOTO_BODY_BYTES if _PHOTO_PATH.match(path) else MAX_BODY_BYTES
            refused = _refusal(path, scope.get("query_string", b""), length, limit)
            if refused is not None:
                await refused(scope, receive, send_with_id)
            else:
                try:
                    await self.app(scope, _counting(receive, limit), send_with_id)
                except BodyTooLarge as exc:
                    # Read outside FastAPI's handlers (none do today): answer here if we can.
                    if started_response[0]:
                        raise
                    await _too_large(exc.limit)(scope, receive, send_with_id)
        except Exception:
            access_log.exception("unhandled error", extra={"fields": {
                "method": scope.get("method"), "path": loggable_path(path), "status": 500}})
            raise
        finally:
            request_id_var.reset(token)
        # Paths carry ids, never message text, so the access line is safe at INFO.
        client = scope.get("client")
        access_log.info("request", extra={"fields": {
            "request_id": rid, "method": scope.get("method"), "path": loggable_path(path),
            "status": status[0],
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "client": client[0] if client else "unknown",
        }})
