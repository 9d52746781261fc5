"""What the routes depend on: the app's services, built once, and who is calling.

:class:`Services` holds every part of one app (built in bot/web/app.py, stored on
``app.state.services``); routes receive it with ``ServicesDep``.

Who is calling: agents and leads send their own key as ``Authorization: Bearer KEY``
(bot/store/people.py keeps them). The old headers ``X-Agent-Key`` / ``X-Lead-Key`` still carry
a key for existing scripts (any person's key, checked the same way), but a name is never
taken from a header: ``X-Agent-Name`` / ``X-Lead-Name`` naming someone other than the key's
owner is refused (403), so a script that believes it acts as alice learns it does not;
naming the owner is ignored. No key, an unknown or a disabled key: 401; a valid key without
the right role (an agent's key on a lead route): 403. A lead may use the agent routes too.
Routes get the :class:`Person` with ``AgentDep`` / ``LeadDep`` / ``PersonDep``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bot.chat.canned import CannedReplies
from bot.chat.followup import Followup
from bot.chat.inbox import Inbox
from bot.chat.photos import PhotoStore
from bot.chat.service import SESSION_ID, ChatService
from bot.chat.tickets import TicketStore, Triage
from bot.errors import ForbiddenError, NotFoundError, RemoteError
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
from bot.runtime.streams import StreamGate
from bot.settings import Settings
from bot.store.db import Database
from bot.store.people import People, Person
from bot.translate.translator import Translator
from bot.web.metrics import Metrics, StateCollector

log = logging.getLogger(__name__)
WEB_ROOT = Path(__file__).resolve().parent / "static"  # photos must never be stored under it

POLLS_PER_MINUTE = 120  # a widget polling every 0.5 s at most, per conversation
# "de", or with a region such as "de-at" / "pt_br" (the region is not used).
_LANG_TAG = re.compile(r"^[a-z]{2}(?:[-_][a-z0-9]{2,8})?$")


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
        self.db = Database(settings.database_url)
        self.people = People.from_settings(self.db, settings)
        self.inbox = Inbox(self.db)
        self.canned = CannedReplies(settings.canned_dir, settings.default_language)
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
        # Counted before the conversation's: a junk id never reaches the store (issue 14).
        self.poll_ip_limit: Limit = make_limit(shared, settings.poll_rate_limit_per_minute,
                                               60.0, "polls from this address", self.redis)
        self.streams = StreamGate(settings.sse_streams_per_address,
                                  settings.sse_streams_per_conversation,
                                  settings.sse_streams_per_worker)
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
_bearer = HTTPBearer(
    auto_error=False, scheme_name="Bearer",
    description="A person's own key (`faqbot users add NAME --role agent|lead` prints it).",
)
_agent_key = APIKeyHeader(
    name="X-Agent-Key", auto_error=False, scheme_name="AgentKey",
    description="Deprecated: the same key as Bearer, in the header older scripts send.",
)
_lead_key = APIKeyHeader(
    name="X-Lead-Key", auto_error=False, scheme_name="LeadKey",
    description="Deprecated: the same key as Bearer, in the header older scripts send.",
)


def current_person(
    sv: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    agent_key: Annotated[str | None, Depends(_agent_key)],
    lead_key: Annotated[str | None, Depends(_lead_key)],
    x_agent_name: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_lead_name: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Person:
    """Return the owner of the request's key (401 when there is none that works)."""
    key = bearer.credentials if bearer is not None else (agent_key or lead_key)
    person = sv.people.authenticate(key.strip() if key else None)
    for header, claimed in (("X-Agent-Name", x_agent_name), ("X-Lead-Name", x_lead_name)):
        if claimed is not None and claimed.strip().casefold() != person.name.casefold():
            raise ForbiddenError(
                f"{header} no longer names anyone: the name comes from the key, and this key "
                f"is {person.name}'s; drop the header or use {claimed.strip()!r}'s own key"
            )
    return person


PersonDep = Annotated[Person, Depends(current_person)]


def require_agent(person: PersonDep) -> Person:
    """Return the person if they may work tickets (agents and leads)."""
    if not person.may("agent"):
        raise ForbiddenError(f"{person.name} is a {person.role}: this needs an agent's key")
    return person


def require_lead(person: PersonDep) -> Person:
    """Return the person if they are a lead (an agent's key gets 403, not 401)."""
    if not person.may("lead"):
        raise ForbiddenError(
            f"{person.name} is an agent: this needs a lead's key (a lead can give you one)"
        )
    return person


AgentDep = Annotated[Person, Depends(require_agent)]
LeadDep = Annotated[Person, Depends(require_lead)]


def lead_name(person: LeadDep) -> str:
    """Return who is making a change: the owner of the lead's key (never a header)."""
    return person.name


LeadName = Annotated[str, Depends(lead_name)]


def reading_language(person: Person, default: str, header: str | None = None,
                     known: frozenset[str] | None = None) -> str:
    """Return the language a person reads: the X-Agent-Language header, theirs, the setting.

    The header is a code such as "de" or "de-AT" of a language in ``known`` (when given);
    anything else is refused (422) rather than cut to two letters ("null" was read as "nu").
    """
    if header and header.strip():
        value = header.strip().lower()
        code = value[:2]
        if not _LANG_TAG.match(value) or (known is not None and code not in known):
            choices = f": one of {', '.join(sorted(known))}" if known else ""
            raise RequestValidationError([{
                "loc": ("header", "X-Agent-Language"), "type": "value_error",
                "msg": f"{header.strip()[:20]!r} is not a language this desk supports; send a "
                       f"two-letter code{choices}"}])
        return code
    return person.language or default


def agent_language(
    sv: ServicesDep, person: AgentDep,
    x_agent_language: Annotated[str | None, Header()] = None,
) -> str:
    """Return the language the calling agent reads (for machine translations)."""
    s = sv.settings
    known = frozenset([*s.supported_languages, s.agent_language])
    return reading_language(person, s.agent_language, x_agent_language, known)


AgentLanguage = Annotated[str, Depends(agent_language)]


def client_ip(request: Request) -> str:
    """Return the caller's address: the peer, or X-Forwarded-For's when the peer is one of
    FAQBOT_TRUSTED_PROXIES (bot/web/app.py applies it)."""
    return request.client.host if request.client else "unknown"


def check_session_id(session_id: str) -> None:
    """Refuse (404) an id this server cannot have made, before it is used as any key.

    Ids are 32 hex digits (bot/chat/service.py accepts 8-64 of [A-Za-z0-9_-]); issue 14's
    2,000 polls with 8 KB ids grew the rate-limit store from 4 KB to 32 MB.
    """
    if not SESSION_ID.match(session_id):
        raise NotFoundError("no such conversation")

