"""The HTTP service: shopper chat, the agents' queue, the leads' tools, health and pages.

``create_app`` builds everything from the settings (or takes a ready ``FaqBot``, as tests
do). Errors from bot.errors map to HTTP in one handler; every response carries an
``X-Request-ID`` that also appears in the structured (JSON) log lines.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.chat.service import ChatRequest, ChatService, stats, unanswered
from bot.chat.tickets import TicketStore, Triage
from bot.errors import (
    AuthError,
    ConflictError,
    FaqbotError,
    InputError,
    NotFoundError,
)
from bot.matching.bot import FaqBot
from bot.runtime.limits import RateLimited, make_limit
from bot.runtime.reloader import Reloader
from bot.settings import Settings, load_settings
from bot.store.db import Database
from bot.translate import translator as translate
from bot.translate.translator import NullTranslator, Translator
from bot.web.auth import Keys

log = logging.getLogger(__name__)
access_log = logging.getLogger("bot.access")

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 64 * 1024
SSE_POLL_SECONDS = 1.0
SSE_KEEPALIVE_SECONDS = 15.0
POLLS_PER_MINUTE = 120  # a widget polling every 0.5 s at most, per conversation
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_AGENT_NAME = re.compile(r"^[\w .@-]{1,64}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


# ---- structured logs ----
class JsonFormatter(logging.Formatter):
    """Format a log record as one JSON object carrying the request id."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": request_id_var.get(),
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging() -> None:
    """Send faqbot's logs to stderr as JSON lines (once per process)."""
    root = logging.getLogger("bot")
    if any(getattr(h, "_faqbot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._faqbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)


# ---- request and response bodies ----
class ChatIn(BaseModel):
    session_id: str | None = Field(None, max_length=128)
    message: str = Field("", description="1..1000 characters after trimming (else 400/413)")
    language: str | None = Field(None, max_length=35, description="explicit switch: forces it")
    locale: str | None = Field(None, max_length=35, description="browser locale, a hint only")
    market: str | None = Field(None, max_length=8)
    suggestion_id: str | None = Field(None, max_length=200)
    human: bool = False


class SuggestionOut(BaseModel):
    faq_id: str
    question: str
    confidence: float


class ChatOut(BaseModel):
    session_id: str
    message_id: int
    action: Literal["answer", "clarify", "handoff", "queued"]
    language: str
    faq_id: str | None
    confidence: float
    answer: str | None
    answer_language: str | None
    machine_translated: bool
    suggestions: list[SuggestionOut]
    ticket_id: int | None
    notice: str | None
    cursor: int


class MessageOut(BaseModel):
    id: int
    role: Literal["shopper", "bot", "agent", "system"]
    text: str
    language: str | None
    created_at: datetime
    action: str | None
    faq_id: str | None


class MessagesOut(BaseModel):
    session_id: str
    state: Literal["bot", "handoff", "resolved"]
    ticket_id: int | None
    language: str
    messages: list[MessageOut]
    cursor: int


class FeedbackIn(BaseModel):
    session_id: str = Field(max_length=128)
    message_id: int
    helpful: bool
    comment: str | None = Field(None, description="up to 1000 characters (else 413)")


class FeedbackOut(BaseModel):
    ok: bool
    offer_handoff: bool
    notice: str | None


class TicketOut(BaseModel):
    id: int
    state: Literal["open", "claimed", "resolved"]
    priority: Literal["urgent", "normal"]
    language: str
    reason: str
    created_at: datetime
    due_at: datetime
    sla_breached: bool
    waiting_seconds: int
    claimed_by: str | None
    preview: str


class TicketsOut(BaseModel):
    tickets: list[TicketOut]


class GuessOut(BaseModel):
    faq_id: str
    score: float


class TranscriptLine(BaseModel):
    id: int
    role: Literal["shopper", "bot", "agent", "system"]
    text: str
    language: str | None
    text_for_agent: str | None
    created_at: datetime


class TicketDetailOut(TicketOut):
    session_id: str
    guesses: list[GuessOut]
    transcript: list[TranscriptLine]


class ReplyIn(BaseModel):
    text: str


class ReplyOut(BaseModel):
    message: MessageOut
    translated: bool


class StatusOut(BaseModel):
    index_version: str | None
    model: str
    entries: int
    phrasings: int
    reload_ok: bool
    reload_error: str | None
    reloaded_at: datetime | None


class DayStats(BaseModel):
    date: str
    questions: int
    answered: int
    clarified: int
    handed_off: int


class StatsOut(BaseModel):
    days: int
    since: datetime
    totals: dict[str, int]
    per_language: dict[str, dict[str, int]]
    per_day: list[DayStats]


class QuestionOut(BaseModel):
    id: int
    text: str | None
    language: str
    action: str
    reason: str | None
    faq_id: str | None
    score: float
    created_at: datetime


class UnansweredOut(BaseModel):
    questions: list[QuestionOut]


class HealthOut(BaseModel):
    status: Literal["ok"]
    reload_error: str | None


class ReadyOut(BaseModel):
    index: str | None
    database: str


class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 422, 429)
}


# ---- the app's parts ----
class Services:
    """Everything the routes use, built once per app."""

    def __init__(self, settings: Settings, bot: FaqBot, translator: Translator) -> None:
        self.settings = settings
        self.bot = bot
        self.keys = Keys(settings)
        self.db = Database(settings.database_url)
        rules_file = getattr(settings, "triage_rules_file", None)
        triage = Triage.from_file(Path(rules_file)) if rules_file else Triage.default()
        self.tickets = TicketStore(
            triage, {"urgent": settings.sla_minutes_urgent, "normal": settings.sla_minutes_normal}
        )
        self.chat = ChatService(self.db, bot, self.tickets, settings, translator)
        self.reloader = Reloader(bot, settings.reload_poll_seconds)
        per_conversation = int(getattr(settings, "conversation_rate_limit_per_minute", 20))
        shared = settings.rate_limit_file
        self.ip_limit = make_limit(shared, settings.rate_limit_per_minute, 60.0,
                                   "requests from this address")
        self.conversation_limit = make_limit(shared, per_conversation, 60.0,
                                             "messages in this conversation")
        self.poll_limit = make_limit(shared, POLLS_PER_MINUTE, 60.0, "polls of this conversation")


def make_translator(settings: Settings) -> Translator:
    """Use the configured translation backend when it is installed, else translate nothing."""
    factory = getattr(translate, "translator_from_settings", None)
    if factory is None:
        return NullTranslator()
    try:
        made: Translator = factory(settings)
        return made
    except Exception as exc:  # translation is optional: degrade, never refuse to start
        log.warning("translation unavailable, answers stay in written languages: %s", exc)
        return NullTranslator()


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
_agent_key = APIKeyHeader(name="X-Agent-Key", auto_error=False, scheme_name="AgentKey")
_lead_key = APIKeyHeader(name="X-Lead-Key", auto_error=False, scheme_name="LeadKey")


class Agent(BaseModel):
    name: str
    language: str


def require_agent(
    sv: ServicesDep,
    key: Annotated[str | None, Depends(_agent_key)],
    x_agent_name: Annotated[str | None, Header()] = None,
    x_agent_language: Annotated[str | None, Header()] = None,
) -> Agent:
    """Check the agent key; return who the agent is and the language they read."""
    sv.keys.agent.check(key)
    name = (x_agent_name or "agent").strip() or "agent"
    if not _AGENT_NAME.match(name):
        raise InputError("X-Agent-Name: use up to 64 letters, digits, spaces, '.', '@' or '-'")
    language = sv.settings.agent_language
    if x_agent_language:
        code = x_agent_language.strip().lower()[:2]
        if not re.fullmatch(r"[a-z]{2}", code):
            raise InputError("X-Agent-Language must be a two-letter code such as 'en'")
        language = code
    return Agent(name=name, language=language)


def require_lead(sv: ServicesDep, key: Annotated[str | None, Depends(_lead_key)]) -> None:
    """Check the lead key."""
    sv.keys.lead.check(key)


AgentDep = Annotated[Agent, Depends(require_agent)]


def _client_ip(request: Request) -> str:
    # Behind a proxy, run uvicorn with --forwarded-allow-ips so this is the shopper's address.
    return request.client.host if request.client else "unknown"


# ---- routes ----
public = APIRouter(prefix="/api", tags=["shopper"], responses=ERRORS)
agents = APIRouter(prefix="/api/agent", tags=["agent"], responses=ERRORS,
                   dependencies=[Depends(require_agent)])
leads = APIRouter(prefix="/api/lead", tags=["lead"], responses=ERRORS,
                  dependencies=[Depends(require_lead)])
ops = APIRouter(tags=["operations"])
pages = APIRouter(include_in_schema=False)


@public.post("/chat", response_model=ChatOut)
def post_chat(body: ChatIn, request: Request, sv: ServicesDep) -> dict[str, Any]:
    """Send one shopper message; start a conversation with ``session_id`` null."""
    sv.ip_limit.hit(_client_ip(request))
    if body.session_id:
        sv.conversation_limit.hit(body.session_id)
    result = sv.chat.chat(ChatRequest(
        session_id=body.session_id, message=body.message, language=body.language,
        locale=body.locale, market=body.market, suggestion_id=body.suggestion_id,
        human=body.human,
    ))
    return result.__dict__


@public.get("/conversations/{session_id}/messages", response_model=MessagesOut)
def get_messages(
    session_id: str, sv: ServicesDep, after: Annotated[int, Query(ge=0)] = 0
) -> dict[str, Any]:
    """Return the conversation's messages after the cursor (poll with the returned cursor)."""
    sv.poll_limit.hit(session_id)
    return sv.chat.messages(session_id, after)


@public.get(
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
    first = await run_in_threadpool(sv.chat.messages, session_id, after)  # 404 before streaming

    async def stream() -> AsyncIterator[str]:
        data, cursor = first, after
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        yield "retry: 3000\n\n"
        while True:
            for m in data["messages"]:
                cursor = m["id"]
                payload = MessageOut.model_validate(m).model_dump_json()
                yield f"id: {cursor}\nevent: message\ndata: {payload}\n\n"
                quiet_since = time.monotonic()
            if time.monotonic() >= deadline or await request.is_disconnected():
                return
            if time.monotonic() - quiet_since >= SSE_KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"  # keeps proxies from closing an idle stream
                quiet_since = time.monotonic()
            await asyncio.sleep(SSE_POLL_SECONDS)
            data = await run_in_threadpool(sv.chat.messages, session_id, cursor)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@public.post("/feedback", response_model=FeedbackOut)
def post_feedback(body: FeedbackIn, request: Request, sv: ServicesDep) -> dict[str, Any]:
    """Say whether a bot reply helped; "not helpful" offers a person."""
    sv.ip_limit.hit(_client_ip(request))
    sv.conversation_limit.hit(body.session_id)
    return sv.chat.feedback(body.session_id, body.message_id, body.helpful, body.comment)


@agents.get("/tickets", response_model=TicketsOut)
def list_tickets(
    sv: ServicesDep,
    state: Literal["open", "claimed", "resolved"] | None = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    priority: Literal["urgent", "normal"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """List tickets, oldest urgent first; without ``state``, the open and claimed ones."""
    return {"tickets": sv.chat.list_tickets(state, language or None, priority, limit)}


@agents.get("/tickets/{ticket_id}", response_model=TicketDetailOut)
def get_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> dict[str, Any]:
    """Return a ticket with its transcript (each line also in the agent's language)."""
    return sv.chat.ticket_detail(ticket_id, agent.language)


@agents.post("/tickets/{ticket_id}/claim", response_model=TicketOut)
def claim_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> dict[str, Any]:
    """Take a ticket; 409 when another agent holds it."""
    return sv.chat.claim(ticket_id, agent.name)


@agents.post("/tickets/{ticket_id}/reply", response_model=ReplyOut)
def reply_ticket(
    ticket_id: int, body: ReplyIn, sv: ServicesDep, agent: AgentDep
) -> dict[str, Any]:
    """Send a reply into the shopper's conversation (translated when a pack exists)."""
    return sv.chat.agent_reply(ticket_id, agent.name, body.text, agent.language)


@agents.post("/tickets/{ticket_id}/resolve", response_model=TicketOut)
def resolve_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> dict[str, Any]:
    """Close a ticket (open, or held by this agent)."""
    return sv.chat.resolve(ticket_id, agent.name)


@agents.post("/tickets/{ticket_id}/release", response_model=TicketOut)
def release_ticket(ticket_id: int, sv: ServicesDep, agent: AgentDep) -> dict[str, Any]:
    """Give a held ticket back to the queue."""
    return sv.chat.release(ticket_id, agent.name)


def _status(sv: Services) -> dict[str, Any]:
    bot = sv.bot
    index = bot.index if bot.ready else None
    at = bot.status.at
    return {
        "index_version": index.version if index else None,
        "model": index.model if index else sv.settings.model,
        "entries": len(index.entries) if index else 0,
        "phrasings": index.size if index else 0,
        "reload_ok": bot.status.ok,
        "reload_error": bot.status.error,
        "reloaded_at": datetime.fromtimestamp(at, UTC) if at else None,
    }


@leads.post("/reload", response_model=StatusOut)
def lead_reload(sv: ServicesDep) -> dict[str, Any]:
    """Rebuild the index from the FAQ files now; a broken file keeps the last good index."""
    sv.reloader.reload_now()
    return _status(sv)


@leads.get("/status", response_model=StatusOut)
def lead_status(sv: ServicesDep) -> dict[str, Any]:
    """Return the live index version and the last reload's outcome."""
    return _status(sv)


@leads.get("/stats", response_model=StatsOut)
def lead_stats(sv: ServicesDep, days: Annotated[int, Query(ge=1, le=366)] = 7) -> dict[str, Any]:
    """Count questions, answers, clarifications and handoffs per language and per day."""
    return stats(sv.db, days)


@leads.get("/unanswered", response_model=UnansweredOut)
def lead_unanswered(
    sv: ServicesDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """List recent questions that were clarified or handed off, newest first."""
    return {"questions": unanswered(sv.db, days, limit)}


@ops.get("/health", response_model=HealthOut)
def health(sv: ServicesDep) -> dict[str, Any]:
    """Say the process is up, with the last reload error if any."""
    return {"status": "ok", "reload_error": sv.bot.status.error}


@ops.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def ready(sv: ServicesDep) -> Any:
    """Say whether the index is loaded and the database answers (503 when not)."""
    index = sv.bot.index.version if sv.bot.ready else None
    try:
        sv.db.ping()
        database = "ok"
    except Exception as exc:  # any driver error means not ready
        database = f"error: {type(exc).__name__}"
    body = {"index": index, "database": database}
    if index is None or database != "ok":
        return JSONResponse(body, status_code=503)
    return body


def _page(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFoundError(f"{name} is not installed in {STATIC_DIR}")
    return FileResponse(path)


@pages.get("/")
def page_demo() -> FileResponse:
    return _page("demo.html")


@pages.get("/widget.js")
def page_widget() -> FileResponse:
    return _page("widget.js")


@pages.get("/agent")
def page_agent() -> FileResponse:
    return _page("agent.html")


@pages.get("/lead")
def page_lead() -> FileResponse:
    return _page("lead.html")


@pages.get("/static/{path:path}")
def page_static(path: str) -> FileResponse:
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundError(f"no static file {path!r}")
    return FileResponse(target)


# ---- errors ----
STATUS: list[tuple[type[FaqbotError], int]] = [
    (AuthError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InputError, 400),
]


def status_for(exc: FaqbotError) -> int:
    """Map an error of bot.errors to its HTTP status."""
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
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
        headers = {"WWW-Authenticate": "ApiKey"}
    if code >= 500:
        log.error("request failed: %s", exc)
    return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Report a malformed request as one readable sentence (422)."""
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)


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
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                too_big = JSONResponse(
                    {"detail": f"the request body is over {MAX_BODY_BYTES} bytes"},
                    status_code=413,
                )
                await too_big(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            access_log.exception("unhandled error", extra={"fields": {
                "method": scope.get("method"), "path": path, "status": 500}})
            raise
        finally:
            request_id_var.reset(token)
        # Paths carry ids, never message text, so the access line is safe at INFO.
        client = scope.get("client")
        access_log.info("request", extra={"fields": {
            "request_id": rid, "method": scope.get("method"), "path": path,
            "status": status[0],
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "client": client[0] if client else "unknown",
        }})


# ---- the factory ----
def create_app(settings: Settings | None = None, bot: FaqBot | None = None) -> FastAPI:
    """Build the app; ``faqbot serve`` and ``uvicorn server:app`` both come through here."""
    configure_logging()
    settings = settings or load_settings()
    translator = bot.translator if bot is not None else make_translator(settings)
    bot = bot or FaqBot(settings, translator=translator)
    sv = Services(settings, bot, translator)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(sv.db.migrate)
        sv.reloader.start()  # first index load runs in the background: /health answers now
        try:
            yield
        finally:
            sv.reloader.stop()
            sv.db.dispose()

    app = FastAPI(
        title="faqbot",
        version="1",
        summary="Multilingual FAQ chat with human handoff",
        lifespan=lifespan,
    )
    app.state.services = sv
    app.state.settings = settings
    app.include_router(public)
    app.include_router(agents)
    app.include_router(leads)
    app.include_router(ops)
    app.include_router(pages)
    app.add_exception_handler(FaqbotError, faqbot_error)
    app.add_exception_handler(RequestValidationError, validation_error)

    app.add_middleware(RequestContextMiddleware)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-Request-ID", "X-Agent-Key", "X-Agent-Name",
                           "X-Agent-Language", "X-Lead-Key", "Last-Event-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    if settings.environment != "development" and not settings.cors_origins:
        log.warning("FAQBOT_CORS_ORIGINS is empty: the widget works only on this server's origin")
    # The lead's half (clusters, FAQ edits, report), /metrics and the retention job.
    from bot.web.routes.lead import install as install_lead

    install_lead(app)
    return app
