"""What the lead reads: the period report, its short form (stats) and the unanswered list.

The period report counts questions, outcomes, feedback, tickets and response times per
language and per day; ``GET /api/lead/report``, ``faqbot report`` and the lead page show it.
:func:`stats` is the short form ``GET /api/lead/stats`` keeps answering, taken from the same
report so the two can never disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from bot.insights.window import as_datetime, aware, utc, window_start
from bot.store.db import Database
from bot.store.models import Conversation, Feedback, Message, QuestionLog, Rating, Ticket, utcnow


@dataclass(frozen=True)
class Block:
    """Counts and ticket times of one language (or all) over the period."""

    questions: int
    answered: int
    clarified: int
    handed_off: int
    helpful: int
    not_helpful: int
    tickets: int
    sla_breaches: int
    helpful_share: float | None  # helpful / rated, None when none was rated
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolution_median_s: float | None
    resolution_p90_s: float | None


@dataclass(frozen=True)
class DayRow:
    """Counts of one day."""

    date: str
    questions: int
    answered: int
    clarified: int
    handed_off: int
    helpful: int
    not_helpful: int
    tickets: int
    sla_breaches: int


@dataclass(frozen=True)
class CsatBlock:
    """Shoppers' 1-5 ratings of conversations (CSAT) for one group."""

    ratings: int
    average: float | None  # mean score, None when nobody rated
    satisfied_share: float | None  # share of 4 and 5: the usual CSAT percentage
    scores: dict[str, int]  # "1" .. "5" -> how many


@dataclass(frozen=True)
class Csat:
    """CSAT over the period: all, per language, per agent and for the bot alone."""

    totals: CsatBlock
    per_language: dict[str, CsatBlock]
    per_agent: dict[str, CsatBlock]  # who resolved (or held) the conversation's ticket
    bot_only: CsatBlock  # conversations that never reached a person


@dataclass(frozen=True)
class PeriodReport:
    """The period per language and per day: outcomes, feedback, tickets, SLA and CSAT."""

    days: int
    since: datetime
    languages: list[str]
    totals: Block
    per_language: dict[str, Block]
    per_day: list[DayRow]
    per_day_by_language: dict[str, list[DayRow]]
    csat: Csat


@dataclass(frozen=True)
class DayCounts:
    """The outcomes of one day's questions."""

    date: str
    questions: int
    answered: int
    clarified: int
    handed_off: int


@dataclass(frozen=True)
class Stats:
    """The period's outcomes in short: totals (with tickets and feedback) and per language."""

    days: int
    since: datetime
    totals: dict[str, int]
    per_language: dict[str, dict[str, int]]
    per_day: list[DayCounts]


@dataclass(frozen=True)
class UnansweredQuestion:
    """A logged question the bot did not answer outright."""

    id: int
    text: str | None  # None once retention removed it
    language: str
    action: str  # clarify | handoff
    reason: str | None
    faq_id: str | None
    score: float
    created_at: datetime


_KINDS = {"answer": "answered", "clarify": "clarified", "handoff": "handed_off"}


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p90 = np.percentile(np.asarray(values, dtype=np.float64), [50, 90])
    return round(float(p50), 1), round(float(p90), 1)


def _day_row(date: str, c: Counter[str]) -> DayRow:
    return DayRow(date=date, questions=c["questions"], answered=c["answered"],
                  clarified=c["clarified"], handed_off=c["handed_off"], helpful=c["helpful"],
                  not_helpful=c["not_helpful"], tickets=c["tickets"],
                  sla_breaches=c["sla_breaches"])


def period_report(db: Database, days: int, now: datetime | None = None) -> PeriodReport:
    """Count questions, outcomes, feedback and tickets per language and per day.

    Ticket times are in seconds: first agent response (the first agent message after the
    ticket opened) and resolution (opened to resolved). A ticket breaches its SLA when
    neither a response nor a resolution came before ``due_at``.
    """
    now = now or utcnow()
    since = window_start(days, now)
    dates = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
    totals: Counter[str] = Counter()
    per_language: dict[str, Counter[str]] = defaultdict(Counter)
    per_day: dict[str, Counter[str]] = {d: Counter() for d in dates}
    per_day_lang: dict[str, dict[str, Counter[str]]] = defaultdict(
        lambda: {d: Counter() for d in dates})

    def add(day: str, language: str, name: str, n: int) -> None:
        for bucket in (totals, per_language[language], per_day.setdefault(day, Counter()),
                       per_day_lang[language].setdefault(day, Counter())):
            bucket[name] += n

    first_agent = (
        select(func.min(Message.created_at))
        .where(Message.conversation_id == Ticket.conversation_id, Message.role == "agent",
               Message.created_at >= Ticket.created_at)
        .correlate(Ticket).scalar_subquery()
    )
    with db.read() as s:
        qday = func.date(QuestionLog.created_at)
        for day, language, action, n in s.execute(
            select(qday, QuestionLog.language, QuestionLog.action, func.count())
            .where(QuestionLog.created_at >= since)
            .group_by(qday, QuestionLog.language, QuestionLog.action)
        ).all():
            add(str(day)[:10], language, "questions", n)
            if action in _KINDS:
                add(str(day)[:10], language, _KINDS[action], n)
        fday = func.date(Feedback.created_at)
        for day, language, helpful, n in s.execute(
            select(fday, Conversation.language, Feedback.helpful, func.count())
            .join(Conversation, Conversation.id == Feedback.conversation_id)
            .where(Feedback.created_at >= since)
            .group_by(fday, Conversation.language, Feedback.helpful)
        ).all():
            add(str(day)[:10], language, "helpful" if helpful else "not_helpful", n)
        tickets = s.execute(
            select(Ticket.language, Ticket.created_at, Ticket.due_at, Ticket.state,
                   Ticket.resolved_at, first_agent)
            .where(Ticket.created_at >= since)
        ).all()
        ratings = s.execute(
            select(Rating.language, Rating.agent, Rating.ticket_id, Rating.score)
            .where(Rating.created_at >= since)
        ).all()
    first_times: dict[str, list[float]] = defaultdict(list)
    resolve_times: dict[str, list[float]] = defaultdict(list)
    for language, created_at, due_at, state, resolved_at, first_at in tickets:
        created, due = utc(created_at), utc(due_at)
        first, resolved = as_datetime(first_at), aware(resolved_at)
        day = created.date().isoformat()
        add(day, language, "tickets", 1)
        for key in ("", language):
            if first is not None:
                first_times[key].append((first - created).total_seconds())
            if state == "resolved" and resolved is not None:
                resolve_times[key].append((resolved - created).total_seconds())
        done = [t for t in (first, resolved if state == "resolved" else None) if t is not None]
        met = min(done) if done else None
        if (met is not None and met > due) or (met is None and now > due):
            add(day, language, "sla_breaches", 1)

    def block(c: Counter[str], key: str) -> Block:
        rated = c["helpful"] + c["not_helpful"]
        first_p50, first_p90 = _percentiles(first_times.get(key, []))
        resolve_p50, resolve_p90 = _percentiles(resolve_times.get(key, []))
        return Block(
            questions=c["questions"], answered=c["answered"], clarified=c["clarified"],
            handed_off=c["handed_off"], helpful=c["helpful"], not_helpful=c["not_helpful"],
            tickets=c["tickets"], sla_breaches=c["sla_breaches"],
            helpful_share=round(c["helpful"] / rated, 3) if rated else None,
            first_response_median_s=first_p50, first_response_p90_s=first_p90,
            resolution_median_s=resolve_p50, resolution_p90_s=resolve_p90,
        )

    languages = sorted(per_language)
    return PeriodReport(
        csat=csat(ratings),
        days=days,
        since=since,
        languages=languages,
        totals=block(totals, ""),
        per_language={lang: block(per_language[lang], lang) for lang in languages},
        per_day=[_day_row(d, per_day[d]) for d in sorted(per_day)],
        per_day_by_language={
            lang: [_day_row(d, per_day_lang[lang][d]) for d in sorted(per_day_lang[lang])]
            for lang in languages
        },
    )


def _csat_block(scores: list[int]) -> CsatBlock:
    n = len(scores)
    return CsatBlock(
        ratings=n,
        average=round(sum(scores) / n, 2) if n else None,
        satisfied_share=round(sum(1 for x in scores if x >= 4) / n, 3) if n else None,
        scores={str(k): scores.count(k) for k in range(1, 6)},
    )


def csat(rows: Sequence[Any]) -> Csat:
    """Group (language, agent, ticket_id, score) rows into CSAT per language, agent, bot."""
    every: list[int] = []
    by_language: dict[str, list[int]] = defaultdict(list)
    by_agent: dict[str, list[int]] = defaultdict(list)
    bot: list[int] = []
    for language, agent, ticket_id, score in rows:
        every.append(score)
        by_language[language].append(score)
        if ticket_id is None:
            bot.append(score)
        elif agent:
            by_agent[agent].append(score)
    return Csat(
        totals=_csat_block(every),
        per_language={k: _csat_block(v) for k, v in sorted(by_language.items())},
        per_agent={k: _csat_block(v) for k, v in sorted(by_agent.items())},
        bot_only=_csat_block(bot),
    )


def stats(report: PeriodReport) -> Stats:
    """Return the short form of a period report (``GET /api/lead/stats``).

    Per language it lists the languages questions were asked in (a ticket or feedback alone
    does not add one), with their outcomes; the totals add tickets and feedback.
    """
    def outcomes(b: Block | DayRow) -> dict[str, int]:
        return {"questions": b.questions, "answered": b.answered, "clarified": b.clarified,
                "handed_off": b.handed_off}

    t = report.totals
    return Stats(
        days=report.days,
        since=report.since,
        totals={**outcomes(t), "tickets": t.tickets, "feedback_helpful": t.helpful,
                "feedback_not_helpful": t.not_helpful, "ratings": report.csat.totals.ratings},
        per_language={lang: outcomes(b) for lang, b in report.per_language.items()
                      if b.questions},
        per_day=[DayCounts(date=d.date, questions=d.questions, answered=d.answered,
                           clarified=d.clarified, handed_off=d.handed_off)
                 for d in report.per_day],
    )


def unanswered(db: Database, days: int, limit: int) -> list[UnansweredQuestion]:
    """List recent questions the bot did not answer outright (clarified or handed off)."""
    since = window_start(days)
    with db.read() as s:
        rows = s.scalars(
            select(QuestionLog)
            .where(QuestionLog.created_at >= since, QuestionLog.action.in_(("clarify", "handoff")))
            .order_by(QuestionLog.id.desc()).limit(limit)
        ).all()
        return [
            UnansweredQuestion(id=q.id, text=q.text, language=q.language, action=q.action,
                               reason=q.reason, faq_id=q.faq_id, score=q.score,
                               created_at=q.created_at)
            for q in rows
        ]
