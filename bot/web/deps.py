"""What the routes depend on: the app's services, built once, and who is calling.

:class:`Services` holds every part of one app (built in bot/web/app.py, stored on
``app.state.services``); routes receive it with ``ServicesDep``. Agents and leads identify
themselves by key (X-Agent-Key / X-Lead-Key, checked in constant time by bot/web/auth.py)
and name (X-Agent-Name / X-Lead-Name).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader

from bot.chat.followup import Followup
from bot.chat.photos import PhotoStore
from bot.chat.service import ChatService
from bot.chat.tickets import TicketStore, Triage
from bot.errors import InputError, RemoteError
from bot.faq.remote import FaqRemote
from bot.insights.clusters import Insights
from bot.matching.bot import FaqBot
from bot.runtime.clustering import ClusterWarmer
from bot.runtime.events import EventBus
from bot.runtime.limits import Limit, make_limit
from bot.runtime.outbox import Outbox, OutboxJob
from bot.runtime.redis_link import RedisLink
from bot.runtime.reloader import FaqSync, Reloader
from bot.runtime.retention import RetentionJob
from bot.runtime.smtp import SmtpMailer
from bot.settings import Settings
from bot.store.db import Database
from bot.translate.translator import Translator
from bot.web.auth import Keys
from bot.web.metrics import Metrics, StateCollector

log = logging.getLogger(__name__)
WEB_ROOT = Path(__file__).resolve().parent / "static"  # photos must never be stored under it

POLLS_PER_MINUTE = 120  # a widget polling every 0.5 s at most, per conversation
_NAME = re.compile(r"^[\w .@-]{1,64}$")


@dataclass(frozen=True)
class Jobs:
    """How often the app's background jobs run (tests shorten them)."""

    retention_interval_seconds: float = 24 * 3600.0
    cluster_interval_seconds: float = 10.0


class Services:
    """Everything the routes use, built once per app."""

    def __init__(
        self, settings: Settings, bot: FaqBot, translator: Translator, jobs: Jobs | None = None
    ) -> None:
        jobs = jobs or Jobs()
        self.settings = settings
        self.bot = bot
        self.keys = Keys(settings)
        self.db = Database(settings.database_url)
        rules = settings.triage_rules_file
        triage = Triage.from_file(rules) if rules else Triage.default()
        self.tickets = TicketStore(
            triage, {"urgent": settings.sla_minutes_urgent, "normal": settings.sla_minutes_normal}
        )
        self.followup = Followup(self.db, settings)
        self.photos = PhotoStore(settings.photos_dir, web_root=WEB_ROOT)
        self.chat = ChatService(self.db, bot, self.tickets, settings, translator, self.followup)
        smtp = settings.smtp
        # Each process sends the mails that are due; claims keep one row to one sender.
        self.outbox = OutboxJob(Outbox(self.db, self.followup, SmtpMailer(smtp))) if smtp else None
        self.insights = Insights(self.db, bot)
        self.reloader = Reloader(bot, settings.reload_poll_seconds)
        self.retention = RetentionJob(self.db, settings.retention_days,
                                      jobs.retention_interval_seconds, photos=self.photos)
        self.cluster_warmer = ClusterWarmer(self.insights, jobs.cluster_interval_seconds,
                                            lock_file=settings.index_dir / ".clusters.lock")
        # Several machines (issue 19): the FAQ in a git remote, limits and events in Redis.
        self.remote: FaqRemote | None = None
        self.faq_sync: FaqSync | None = None
        if settings.faq_remote is not None:
            self.remote = FaqRemote(settings.faq_remote.get_secret_value(), settings.faq_dir,
                                    settings.faq_remote_path)
            self.faq_sync = FaqSync(self.remote, self.reloader, settings.faq_fetch_seconds)
        self.redis = (RedisLink(settings.redis_url.get_secret_value(), settings.redis_prefix)
                      if settings.redis_url is not None else None)
        self.events = EventBus(self.redis)
        shared = settings.rate_limit_file
        self.ip_limit: Limit = make_limit(shared, settings.rate_limit_per_minute, 60.0,
                                          "requests from this address", self.redis)
        self.conversation_limit: Limit = make_limit(
            shared, settings.conversation_rate_limit_per_minute, 60.0,
            "messages in this conversation", self.redis,
        )
        self.poll_limit: Limit = make_limit(shared, POLLS_PER_MINUTE, 60.0,
                                            "polls of this conversation", self.redis)
        self.metrics = Metrics()
        self.metrics.add_state(StateCollector(self.db, bot))

    def announce(self, session_id: str | None = None, ticket_id: int | None = None,
                 what: str | None = None) -> None:
        """Tell the open streams (here and on every server) what changed."""
        if session_id:
            self.events.publish(f"conversation:{session_id}")
        if ticket_id is not None and what:
            self.events.publish("queue", ticket_id=ticket_id, what=what)

    def start_faq(self) -> None:
        """Start keeping the FAQ current: fetched from the git remote, else the local poll."""
        if self.remote is not None:
            try:
                # At start, so a folder that cannot be a clone stops the server with a reason.
                self.remote.ensure_clone()
            except RemoteError as exc:  # unreachable: serve what is there, clone later
                log.warning("%s; trying again every %g s", exc, self.settings.faq_fetch_seconds)
        if self.faq_sync is not None:
            self.faq_sync.start()
        else:
            self.reloader.start()  # first index load runs in the background: /health answers
        self.events.start()

    def stop_faq(self) -> None:
        """Stop the FAQ sync or poll and the event listener; close Redis."""
        self.events.stop()
        if self.faq_sync is not None:
            self.faq_sync.stop()
        self.reloader.stop()
        if self.redis is not None:
            self.redis.close()


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
_agent_key = APIKeyHeader(name="X-Agent-Key", auto_error=False, scheme_name="AgentKey")
_lead_key = APIKeyHeader(name="X-Lead-Key", auto_error=False, scheme_name="LeadKey")


@dataclass(frozen=True)
class Agent:
    """Who is calling the agent API, and the language they read."""

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
    if not _NAME.match(name):
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


def lead_name(x_lead_name: Annotated[str | None, Header()] = None) -> str:
    """Return who is making a change (header X-Lead-Name, default "lead")."""
    name = (x_lead_name or "lead").strip() or "lead"
    if not _NAME.match(name):
        raise InputError("X-Lead-Name: use up to 64 letters, digits, spaces, '.', '@' or '-'")
    return name


AgentDep = Annotated[Agent, Depends(require_agent)]
LeadName = Annotated[str, Depends(lead_name)]


def client_ip(request: Request) -> str:
    """Return the caller's address (behind a proxy, run uvicorn with --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"

