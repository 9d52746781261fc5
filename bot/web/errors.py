"""Errors to HTTP, in one handler: bot/errors.py's tree to status codes and {"detail": ...}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bot.chat.images import PhotoRejected
from bot.errors import (
    AuthError,
    ConflictError,
    EditRefused,
    FaqbotError,
    ForbiddenError,
    InputError,
    MessageTooLong,
    NotFoundError,
    RateLimited,
)
from bot.web.uploads import NotMultipart

log = logging.getLogger(__name__)

# The most specific class first: the first match wins.
STATUS: list[tuple[type[FaqbotError], int]] = [
    (NotMultipart, 415),
    (MessageTooLong, 413),
    (RateLimited, 429),
    (EditRefused, 422),
    (AuthError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InputError, 400),
]


# A refused photo's status follows its code (the widget words it by code, in its language).
PHOTO_STATUS = {"photo_type": 415, "photo_too_large": 413, "photo_too_many": 400,
                "photo_unreadable": 422, "photo_empty": 400}


def status_for(exc: FaqbotError) -> int:
    """Map an error of bot.errors to its HTTP status."""
    if isinstance(exc, PhotoRejected):
        return PHOTO_STATUS.get(exc.code, 400)
    for kind, code in STATUS:
        if isinstance(exc, kind):
            return code
    return 503  # config, index or model trouble: the service, not the request, is at fault


async def faqbot_error(request: Request, exc: Exception) -> JSONResponse:
    """Turn any bot.errors exception into {"detail": ...} with its status code."""
    assert isinstance(exc, FaqbotError)
    code = status_for(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if code == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="faqbot"'}
    if code >= 500:
        log.error("request failed: %s", exc)
    body: dict[str, str | None] = {"detail": str(exc)}
    if isinstance(exc, PhotoRejected):
        body.update(code=exc.code, filename=exc.filename)
    return JSONResponse(body, status_code=code, headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Report a malformed request as one readable sentence (422)."""
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)


def add_error_handlers(app: FastAPI) -> None:
    """Install the two handlers on ``app``."""
    app.add_exception_handler(FaqbotError, faqbot_error)
    app.add_exception_handler(RequestValidationError, validation_error)
