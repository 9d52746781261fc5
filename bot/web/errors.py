"""Errors to HTTP, in one handler: bot/errors.py's tree to status codes and {"detail": ...}."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

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
    ServiceBusy,
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
    headers = ({"Retry-After": str(exc.retry_after)}
               if isinstance(exc, RateLimited | ServiceBusy) else None)
    if code == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="faqbot"'}
    if code >= 500 and not isinstance(exc, ServiceBusy):
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


# How long a client is asked to wait while the database is away. A PostgreSQL restart or
# failover takes a few seconds (issue 14 measured an 8.7 s outage); SQLite's "database is
# locked" clears once the writer holding it is done.
DATABASE_RETRY_AFTER = 5
# SQLite's messages for trouble with the file, not with the statement ("no such table" is
# a bug or a missing migration and stays a 500).
_SQLITE_OUTAGE = ("database is locked", "database table is locked", "unable to open database",
                  "disk i/o error", "database or disk is full")


def database_outage(exc: BaseException) -> str | None:
    """Say why the database cannot be reached, or None when ``exc`` is not an outage.

    Connection trouble is the service's, not the request's: PostgreSQL stopped or
    restarting (psycopg's OperationalError, a connection SQLAlchemy had to invalidate), the
    pool exhausted, SQLite's file locked past its busy timeout.
    """
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return "the database is not reachable right now"
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
            return "the connection to the database was lost"
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return "the database is not reachable right now"
    if isinstance(exc, sqlite3.OperationalError) and str(exc).lower().startswith(_SQLITE_OUTAGE):
        return "the database is busy right now"
    return None


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a database outage with 503 {"detail"} and Retry-After (the widget retries).

    Before, the request fell through to Starlette's plain-text 500 (issue 14: 247 of them in
    an 8.7 s PostgreSQL stop). Other database errors are bugs: they stay 500 and are logged.
    """
    reason = database_outage(exc)
    if reason is None:
        log.exception("database error", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)
    log.error("database unavailable: %s: %s", type(exc).__name__, exc)
    return JSONResponse(
        {"detail": f"{reason}; try again in {DATABASE_RETRY_AFTER} s"},
        status_code=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


def add_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``."""
    app.add_exception_handler(FaqbotError, faqbot_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                 sa_exc.TimeoutError, psycopg.OperationalError, psycopg.InterfaceError,
                 sqlite3.OperationalError):
        app.add_exception_handler(kind, database_error)
