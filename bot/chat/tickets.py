"""The handoff queue: tickets, their states, priority triage and SLA times.

States::

    open --claim--> claimed --resolve--> resolved --reopen--> open
      ^                |
      +----release-----+          (an open ticket may also be resolved directly)

Every state change is one conditional ``UPDATE ... WHERE state = ...`` whose row count says
whether it won, so of many agents claiming at once exactly one gets the ticket, on SQLite
and on PostgreSQL alike. Methods that change state take the caller's session, so a change
and the messages that go with it commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import CursorResult, case, select, update
from sqlalchemy.orm import Session

from bot.chat.triage_data import load_triage_data
from bot.chat.views import TicketView
from bot.chat.words import KeywordSet, fold
from bot.errors import ConfigError, ConflictError, NotFoundError
from bot.matching.bot import Guess
from bot.store.models import Ticket, utcnow

STATES = ("open", "claimed", "resolved")
PRIORITIES = ("urgent", "normal")
REASONS = (
    "low_confidence", "asked_for_person", "entry_handoff", "negative_feedback", "bot_unavailable",
    "photo",
    "complaint",
)
RESOLUTIONS = ("agent", "self_served")



@dataclass(frozen=True)
class TriageRule:
    """Text with any of the keywords (in any language) gets ``priority``."""

    name: str
    priority: str
    keywords: KeywordSet

    def matches(self, text: str) -> bool:
        """Tell whether ``text`` holds one of the keywords."""
        return self.keywords.search(fold(text)) is not None


class Triage:
    """Priority rules; the first matching urgent rule wins, else the ticket is normal."""

    def __init__(self, rules: Iterable[Mapping[str, Any]]) -> None:
        self.rules: list[TriageRule] = []
        for i, raw in enumerate(rules):
            name = str(raw.get("name") or f"rule {i + 1}")
            priority = raw.get("priority")
            if priority not in PRIORITIES:
                raise ConfigError(f"triage rule {name!r}: priority must be one of {PRIORITIES}")
            keywords = raw.get("keywords")
            if not isinstance(keywords, Mapping) or not keywords:
                raise ConfigError(
                    f"triage rule {name!r}: keywords must map language codes to lists"
                )
            words: list[str] = []
            for lang, items in keywords.items():
                if not isinstance(items, list) or not all(isinstance(w, str) for w in items):
                    raise ConfigError(f"triage rule {name!r}: keywords.{lang} must be a list")
                words += items
            try:
                found = KeywordSet(words)
            except ValueError as exc:
                raise ConfigError(f"triage rule {name!r}: {exc}") from None
            self.rules.append(TriageRule(name, str(priority), found))

    @classmethod
    def from_file(cls, path: Path) -> Triage:
        """Load rules from a YAML file: ``rules: [{name, priority, keywords: {lang: [...]}}]``."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"FAQBOT_TRIAGE_RULES_FILE {path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise ConfigError(f"FAQBOT_TRIAGE_RULES_FILE {path}: expected a 'rules:' list")
        return cls(data["rules"])

    @classmethod
    def default(cls) -> Triage:
        """Return the shipped complaint rules (bot/chat/data/triage.yaml: damaged item ...)."""
        return cls(load_triage_data().rules)

    def classify(self, text: str) -> tuple[str, str | None]:
        """Return (priority, name of the matching rule or None) for a shopper's text."""
        for rule in self.rules:
            if rule.priority == "urgent" and rule.matches(text):
                return "urgent", rule.name
        return "normal", None

    def urgent(self) -> list[tuple[str, KeywordSet]]:
        """Return the urgent rules as (name, keywords): the triage's complaint evidence."""
        return [(r.name, r.keywords) for r in self.rules if r.priority == "urgent"]


def ticket_view(ticket: Ticket, now: datetime | None = None) -> TicketView:
    """Return a ticket as the agent console lists it."""
    now = now or utcnow()
    end = ticket.resolved_at if ticket.state == "resolved" and ticket.resolved_at else now
    return TicketView(
        id=ticket.id,
        state=ticket.state,
        priority=ticket.priority,
        language=ticket.language,
        reason=ticket.reason,
        created_at=ticket.created_at,
        due_at=ticket.due_at,
        sla_breached=ticket.state != "resolved" and now > ticket.due_at,
        waiting_seconds=max(0, int((end - ticket.queued_at).total_seconds())),
        claimed_by=ticket.claimed_by,
        preview=ticket.preview,
        session_id=ticket.conversation_id,
        spam=bool(ticket.spam),
        kind=ticket.kind,
        asked_about=ticket.asked_about or "",
        page_url=ticket.page_url,
        locale=ticket.locale,
        market=ticket.market,
        resolution=ticket.resolution,
    )


@dataclass(frozen=True)
class TicketContext:
    """What a ticket carries beyond its reason: the triage's verdict, topic and whereabouts."""

    priority: str | None = None  # from the triage; None = the rules read the text
    kind: str | None = None
    asked_about: str = ""
    page_url: str | None = None
    locale: str | None = None
    market: str | None = None


def ticket_guesses(ticket: Ticket) -> list[Guess]:
    """Return the bot's guesses stored on a ticket."""
    return [Guess(str(g["faq_id"]), float(g["score"])) for g in ticket.guesses or []]


class TicketStore:
    """Creates tickets and moves them between states with conditional updates."""

    def __init__(
        self,
        triage: Triage,
        sla_minutes: Mapping[str, int],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        missing = [p for p in PRIORITIES if p not in sla_minutes]
        if missing:
            raise ConfigError(f"SLA minutes missing for priorities {missing}")
        if any(int(m) < 1 for m in sla_minutes.values()):
            raise ConfigError("FAQBOT_SLA_MINUTES_* must be at least 1")
        self.triage = triage
        self.sla_minutes = dict(sla_minutes)
        self.clock = clock

    def due(self, priority: str, start: datetime) -> datetime:
        """Return when a ticket of ``priority`` queued at ``start`` should be answered."""
        return start + timedelta(minutes=self.sla_minutes[priority])

    # ---- inside the caller's transaction ----
    def create(
        self,
        s: Session,
        conversation_id: str,
        language: str,
        reason: str,
        guesses: Sequence[Guess],
        preview: str,
        text: str,
        context: TicketContext | None = None,
    ) -> Ticket:
        """Open a ticket for a conversation.

        ``text`` (what the shopper wrote) sets the priority by the rules, unless ``context``
        brings the triage's own; ``context`` also carries the topic and where the shopper was.
        """
        if reason not in REASONS:
            raise ValueError(f"unknown handoff reason {reason!r}")
        ctx = context or TicketContext()
        priority = ctx.priority or self.triage.classify(text)[0]
        now = self.clock()
        ticket = Ticket(
            conversation_id=conversation_id, state="open", priority=priority, language=language,
            reason=reason, guesses=[{"faq_id": g.faq_id, "score": g.score} for g in guesses],
            preview=preview[:300], created_at=now,
            queued_at=now, due_at=self.due(priority, now), reopened=0, kind=ctx.kind,
            asked_about=ctx.asked_about or None, page_url=ctx.page_url, locale=ctx.locale,
            market=ctx.market,
        )
        s.add(ticket)
        s.flush()
        return ticket

    def refresh_context(self, s: Session, ticket: Ticket, context: TicketContext,
                        guesses: Sequence[Guess]) -> None:
        """Bring a ticket's topic, guesses and page up to date (reopened, or asked more)."""
        ticket.kind = context.kind or ticket.kind
        ticket.asked_about = context.asked_about or ticket.asked_about
        ticket.page_url = context.page_url or ticket.page_url
        ticket.locale = context.locale or ticket.locale
        ticket.market = context.market or ticket.market
        if guesses:
            ticket.guesses = [{"faq_id": g.faq_id, "score": g.score} for g in guesses]
        ticket.resolution = None
        if context.priority == "urgent":
            self._raise(ticket)
        s.flush()

    def retriage(self, s: Session, ticket: Ticket, text: str, urgent: bool = False) -> None:
        """Raise a ticket to urgent when new shopper text is urgent (never lower).

        ``urgent`` is the triage's verdict; without it the rules read ``text``.
        """
        if ticket.priority == "urgent":
            return
        priority = "urgent" if urgent else self.triage.classify(text)[0]
        if priority == "urgent":
            self._raise(ticket)
            s.flush()

    def reopen(self, s: Session, ticket_id: int) -> Ticket:
        """Put a resolved ticket back in the queue with a fresh SLA."""
        now = self.clock()
        t = self._get(s, ticket_id)
        res = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "resolved")
            .values(state="open", claimed_by=None, claimed_at=None, resolved_at=None,
                    queued_at=now, due_at=self.due(t.priority, now),
                    reopened=Ticket.reopened + 1),
        )
        if res != 1:
            raise ConflictError(f"ticket {ticket_id} is {t.state}, not resolved: nothing to reopen")
        return self._get(s, ticket_id, refresh=True)

    def claim(self, s: Session, ticket_id: int, agent: str) -> Ticket:
        """Give an open ticket to ``agent``; exactly one of several concurrent claims wins."""
        won = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "open")
            .values(state="claimed", claimed_by=agent, claimed_at=self.clock()),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won == 1 or (t.state == "claimed" and t.claimed_by == agent):
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is already claimed by {t.claimed_by}")
        raise ConflictError(f"ticket {ticket_id} is {t.state}; only open tickets can be claimed")

    def release(self, s: Session, ticket_id: int, agent: str) -> Ticket:
        """Return a ticket ``agent`` holds to the queue, keeping its place."""
        won = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state == "claimed", Ticket.claimed_by == agent)
            .values(state="open", claimed_by=None, claimed_at=None),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won == 1:
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by {agent}")
        raise ConflictError(f"ticket {ticket_id} is {t.state}; only a claimed ticket is released")

    def _raise(self, ticket: Ticket) -> None:
        ticket.priority = "urgent"
        ticket.due_at = min(ticket.due_at, self.due("urgent", ticket.queued_at))

    def withdraw(self, s: Session, ticket_id: int) -> Ticket:
        """Close an open or claimed ticket because the shopper says it is answered."""
        won = self._update(
            s,
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state.in_(("open", "claimed")))
            .values(state="resolved", resolved_at=self.clock(), resolution="self_served"),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won != 1:
            raise ConflictError(f"ticket {ticket_id} is already resolved")
        return t

    def resolve(self, s: Session, ticket_id: int, agent: str) -> Ticket:
        """Close a ticket that is open or held by ``agent``."""
        won = self._update(
            s,
            update(Ticket)
            .where(
                Ticket.id == ticket_id,
                (Ticket.state == "open")
                | ((Ticket.state == "claimed") & (Ticket.claimed_by == agent)),
            )
            .values(state="resolved", resolved_at=self.clock(), resolution="agent",
                    claimed_by=case((Ticket.claimed_by.is_(None), agent),
                                    else_=Ticket.claimed_by)),
        )
        t = self._get(s, ticket_id, refresh=True)
        if won == 1:
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by {agent}")
        raise ConflictError(f"ticket {ticket_id} is already resolved")

    def check_holder(self, s: Session, ticket_id: int, agent: str, lock: bool = False) -> Ticket:
        """Return the ticket if ``agent`` holds it; else say why not (409)."""
        t = self._get(s, ticket_id, lock=lock)
        if t.state == "claimed" and t.claimed_by == agent:
            return t
        if t.state == "claimed":
            raise ConflictError(f"ticket {ticket_id} is held by {t.claimed_by}, not by {agent}")
        raise ConflictError(f"ticket {ticket_id} is {t.state}: claim it before replying")

    # ---- queries ----
    def list(
        self,
        s: Session,
        state: str | None = None,
        language: str | None = None,
        priority: str | None = None,
        limit: int = 200,
        claimed_by: str | None = None,
    ) -> list[Ticket]:
        """List tickets, oldest urgent first, then oldest normal; no state = open and claimed."""
        q = select(Ticket)
        q = q.where(Ticket.state == state) if state else q.where(Ticket.state != "resolved")
        if claimed_by:
            q = q.where(Ticket.claimed_by == claimed_by)
        if language:
            q = q.where(Ticket.language == language)
        if priority:
            q = q.where(Ticket.priority == priority)
        rank = case((Ticket.priority == "urgent", 0), else_=1)
        q = q.order_by(rank, Ticket.queued_at, Ticket.id).limit(limit)
        return list(s.scalars(q))

    def get(self, s: Session, ticket_id: int) -> Ticket:
        """Return one ticket or raise NotFoundError."""
        return self._get(s, ticket_id)

    def for_conversation(
        self, s: Session, conversation_id: str, lock: bool = False
    ) -> Ticket | None:
        """Return the conversation's newest ticket, if it has one."""
        q = (select(Ticket).where(Ticket.conversation_id == conversation_id)
             .order_by(Ticket.id.desc()).limit(1))
        if lock:
            q = q.with_for_update()
        return s.scalars(q).first()

    # ---- helpers ----
    @staticmethod
    def _update(s: Session, stmt: Any) -> int:
        result = cast(CursorResult[Any], s.execute(stmt, execution_options={
            "synchronize_session": False}))
        return int(result.rowcount)

    @staticmethod
    def _get(s: Session, ticket_id: int, refresh: bool = False, lock: bool = False) -> Ticket:
        q = select(Ticket).where(Ticket.id == ticket_id)
        if lock:
            q = q.with_for_update()
        if refresh or lock:
            q = q.execution_options(populate_existing=True)
        t = s.scalars(q).first()
        if t is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        return t
