"""The request middleware: request id, body-size guard and one JSON access line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

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

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        path = scope.get("path", "")
        try:
            length = headers.get(b"content-length", b"").decode("latin-1")
            limit = PHOTO_BODY_BYTES if _PHOTO_PATH.match(path) else MAX_BODY_BYTES
            if length.isdigit() and int(length) > limit:
                too_big = JSONResponse(
                    {"detail": f"the request body is over {limit} bytes"},
                    status_code=413,
                )
                await too_big(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
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
