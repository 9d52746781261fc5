"""The HTTP service, put together: ``create_app`` wires the parts and does nothing else.

    bot/web/deps.py        Services: the database, the bot, chat, insights, jobs, limits
    bot/web/routes/        shopper.py agent.py inbox.py lead.py ops.py pages.py
    bot/web/schemas.py     every request and response body
    bot/web/inputs.py      what a request may hold: id ranges, clean text, stated limits
    bot/web/errors.py      bot/errors.py's tree -> HTTP status, in one handler
    bot/web/middleware.py  request id, body-size guard, JSON access line
    bot/web/metrics.py     Prometheus: request middleware, and counters fed by the services'
                           events (ChatService.replied, FaqBot.reloaded)

``faqbot serve`` and ``uvicorn server:app`` both come through here; tests pass a ready
``FaqBot`` (the model loads once per test session).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.matching.bot import FaqBot
from bot.settings import Settings, load_settings
from bot.translate.translator import NullTranslator, Translator, translator_from_settings
from bot.web.deps import Jobs, Services
from bot.web.errors import add_error_handlers
from bot.web.headers import SecurityHeadersMiddleware
from bot.web.inputs import state_limits
from bot.web.logs import configure_logging
from bot.web.metrics import MetricsMiddleware
from bot.web.middleware import MAX_BODY_BYTES, PHOTO_BODY_BYTES, RequestContextMiddleware
from bot.web.routes import agent, inbox, lead, learned, ops, pages, shopper

log = logging.getLogger(__name__)


def make_translator(settings: Settings) -> Translator:
    """Use the installed translation packs, else translate nothing (never refuse to start)."""
    try:
        return translator_from_settings(settings)
    except Exception as exc:  # translation is optional: degrade
        log.warning("translation unavailable, answers stay in written languages: %s", exc)
        return NullTranslator()


def create_app(
    settings: Settings | None = None, bot: FaqBot | None = None, jobs: Jobs | None = None
) -> FastAPI:
    """Build the app from the settings (FAQBOT_* variables when none are given)."""
    configure_logging()
    settings = settings or load_settings()
    translator = bot.translator if bot is not None else make_translator(settings)
    bot = bot or FaqBot(settings, translator=translator)
    sv = Services(settings, bot, translator, jobs)
    sv.metrics.follow(bot, sv.chat)
    # The triage's examples are embedded once the models are loaded (in the reload's thread),
    # not by the first shopper.
    bot.reloaded.subscribe(lambda status: sv.chat.warm() if status.ok else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(sv.db.migrate)  # the jobs below need the tables
        # The first index load runs in the background (after cloning the FAQ remote, if
        # any): /health answers now.
        await run_in_threadpool(sv.start_faq)
        sv.retention.start()
        sv.cluster_warmer.start()
        if sv.outbox is not None:
            sv.outbox.start()
        try:
            yield
        finally:
            if sv.outbox is not None:
                sv.outbox.stop()
            sv.cluster_warmer.stop()
            sv.retention.stop()
            await run_in_threadpool(sv.stop_faq)
            sv.db.dispose()

    app = FastAPI(
        title="faqbot",
        version="1",
        summary="Multilingual FAQ chat with human handoff",
        lifespan=lifespan,
    )
    app.state.services = sv
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            state_limits(generate_openapi(), settings.max_message_chars, MAX_BODY_BYTES,
                         PHOTO_BODY_BYTES)
        return app.openapi_schema  # type: ignore[return-value]  # set just above

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    for module in (shopper, agent, inbox, lead, learned, ops, pages):
        app.include_router(module.router)
    add_error_handlers(app)

    # Starlette runs the middleware added last first: metrics see every request whole.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            # The shopper's headers only: the staff pages are served from this server, so
            # no shop origin needs to send a key (Authorization, X-Agent-Key, X-Lead-Key).
            allow_headers=["Content-Type", "X-Request-ID", "Last-Event-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(MetricsMiddleware, metrics=sv.metrics)
    if settings.trusted_proxies:
        # Outermost: the rate limits and the access line see the shopper's address.
        # `faqbot serve` turns uvicorn's own (which trusts 127.0.0.1) off.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if settings.environment != "development" and not settings.cors_origins:
        log.warning("FAQBOT_CORS_ORIGINS is empty: the widget works only on this server's origin")
    return app
