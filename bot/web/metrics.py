"""Prometheus metrics for operators, on a registry of the app's own (served at GET /metrics).

    faqbot_http_requests_total{method,route,status}        counter
    faqbot_http_request_duration_seconds{method,route}     histogram
    faqbot_answers_total{action,language}                  counter (answer|clarify|handoff|queued|
                                                           smalltalk|noise|vague|withdrawn)
    faqbot_triage_total{kind}                              counter (greeting|thanks|goodbye|person|
                                                           complaint|order|faq|noise)
    faqbot_csat_ratings{language,agent}                    gauge, from the database: ratings 1-5
    faqbot_csat_score_sum{language,agent}                  gauge: their sum (average = sum / count);
                                                           agent "bot" = never reached a person
    faqbot_index_reloads_total{outcome}                    counter (success|failure)
    faqbot_tickets{state}                                  gauge, read from the database
    faqbot_index_phrasings, faqbot_index_entries           gauges of the live index
    faqbot_index_reload_ok, faqbot_index_reloaded_timestamp_seconds
    process_*                                              resident memory, CPU, open files

``route`` is the route's template (``/api/agent/tickets/{ticket_id}``), never the raw path,
and no label ever carries message text, so label sets stay small and free of personal data.

The worker processes of one `faqbot serve` share a port, so a scrape reaches any one of
them: serve sets PROMETHEUS_MULTIPROC_DIR and the counters and histograms are summed over
its workers (prometheus_client's multiprocess mode), so every scrape sees the whole server.
The state gauges (tickets, the index) are read by the worker that answers; process_*
metrics are then absent (prometheus_client cannot add them up). Separate servers (machines)
are scraped one by one as usual; the ticket gauge reads the shared database, so take
``max`` of it across servers rather than ``sum``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.chat.service import ChatService
from bot.matching.bot import FaqBot
from bot.store.db import Database
from bot.store.models import Rating, Ticket

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "unmatched"  # any path no route matched (404s): one label value, not one per path
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TICKET_STATES = ("open", "claimed", "resolved")


class Metrics:
    """Every faqbot metric, on one registry that belongs to one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "faqbot_http_requests", "HTTP requests by method, route template and status code.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "faqbot_http_request_duration_seconds",
            "Time to serve an HTTP request (to the first byte for event streams).",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.answers = Counter(
            "faqbot_answers", "Replies to shopper messages by action and language.",
            ["action", "language"], registry=self.registry,
        )
        self.triage = Counter(
            "faqbot_triage", "Shopper messages by triage kind.", ["kind"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "faqbot_index_reloads", "Index reloads by outcome (success or failure).",
            ["outcome"], registry=self.registry,
        )
        for outcome in ("success", "failure"):
            self.reloads.labels(outcome=outcome)  # both series exist from the start at 0
        self.shared_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self._state: list[Collector] = []
        if not self.shared_dir:
            ProcessCollector(registry=self.registry)

    def add_state(self, collector: Collector) -> None:
        """Add a collector read at scrape time in the answering process (not summed)."""
        self._state.append(collector)
        self.registry.register(collector)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route).observe(seconds)

    def observe_reply(self, action: str, language: str) -> None:
        """Count one reply to a shopper."""
        self.answers.labels(action=action, language=language).inc()

    def observe_reload(self, ok: bool) -> None:
        """Count one reload."""
        self.reloads.labels(outcome="success" if ok else "failure").inc()

    def follow(self, bot: FaqBot, chat: ChatService) -> None:
        """Count every reload of ``bot`` and every reply of ``chat`` (their events)."""
        bot.reloaded.subscribe(lambda status: self.observe_reload(status.ok))
        chat.replied.subscribe(lambda result: self.observe_reply(result.action, result.language))
        chat.replied.subscribe(
            lambda result: self.triage.labels(kind=result.kind).inc() if result.kind else None)

    def render(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        if not self.shared_dir:
            return generate_latest(self.registry)
        # Several workers: every worker's counters and histograms, added up from their files.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]  # untyped upstream
            registry, path=self.shared_dir
        )
        for collector in self._state:
            registry.register(collector)
        return generate_latest(registry)


class StateCollector(Collector):
    """Gauges read when Prometheus scrapes: tickets by state and the live index."""

    def __init__(self, db: Database, bot: FaqBot) -> None:
        self.db = db
        self.bot = bot

    def describe(self) -> Iterable[Metric]:
        return []  # read at scrape time only: the database may not exist at registration

    def collect(self) -> Iterator[Metric]:
        tickets = GaugeMetricFamily("faqbot_tickets", "Handoff tickets by state.",
                                    labels=["state"])
        try:
            with self.db.read() as s:
                counts = dict(s.execute(
                    select(Ticket.state, func.count()).group_by(Ticket.state)
                ).all())
        except Exception as exc:  # a scrape must still answer when the database does not
            log.warning("metrics: cannot count tickets: %s", exc)
        else:
            for state in sorted(set(TICKET_STATES) | set(counts)):
                tickets.add_metric([state], float(counts.get(state, 0)))
            yield tickets
        yield from self._csat()
        bot = self.bot
        phrasings = GaugeMetricFamily("faqbot_index_phrasings",
                                      "Phrasings (vectors) in the live index.")
        entries = GaugeMetricFamily("faqbot_index_entries", "FAQ entries in the live index.")
        if bot.ready:
            index = bot.index
            phrasings.add_metric([], float(index.size))
            entries.add_metric([], float(len(index.entries)))
        else:
            phrasings.add_metric([], 0.0)
            entries.add_metric([], 0.0)
        yield phrasings
        yield entries
        ok = GaugeMetricFamily(
            "faqbot_index_reload_ok",
            "1 if the last reload succeeded, else 0 (the last good index keeps serving).",
        )
        ok.add_metric([], 1.0 if bot.status.ok else 0.0)
        yield ok
        at = GaugeMetricFamily("faqbot_index_reloaded_timestamp_seconds",
                               "Unix time of the last reload attempt.")
        at.add_metric([], float(bot.status.at))
        yield at


    def _csat(self) -> Iterator[Metric]:
        """Ratings and their sum per language and agent ("bot": no person involved)."""
        labels = ["language", "agent"]
        count = GaugeMetricFamily("faqbot_csat_ratings",
                                  "Conversations rated 1-5 by shoppers (CSAT).", labels=labels)
        total = GaugeMetricFamily("faqbot_csat_score_sum",
                                  "Sum of the 1-5 ratings (average = sum / ratings).",
                                  labels=labels)
        try:
            with self.db.read() as s:
                rows = s.execute(
                    select(Rating.language, Rating.agent, Rating.ticket_id.is_(None),
                           func.count(), func.sum(Rating.score))
                    .group_by(Rating.language, Rating.agent, Rating.ticket_id.is_(None))
                ).all()
        except Exception as exc:  # a scrape must still answer when the database does not
            log.warning("metrics: cannot read ratings: %s", exc)
            return
        merged: dict[tuple[str, str], list[float]] = {}
        for language, agent, bot_only, n, score_sum in rows:
            who = "bot" if bot_only else (agent or "none")
            pair = merged.setdefault((language, who), [0.0, 0.0])
            pair[0] += float(n)
            pair[1] += float(score_sum or 0)
        for (language, who), (ratings, scores) in sorted(merged.items()):
            count.add_metric([language, who], ratings)
            total.add_metric([language, who], scores)
        yield count
        yield total


class MetricsMiddleware:
    """Time and count every HTTP request by its route template (pure ASGI: streams pass)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "done": False}

        def record() -> None:
            if not state["done"]:
                state["done"] = True
                self.metrics.observe_request(
                    scope.get("method", "GET"), route_of(scope), int(state["status"]),
                    time.perf_counter() - started,
                )

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = dict(message.get("headers") or [])
                # An event stream stays open for minutes: its latency is time to first byte.
                if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                    record()
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                record()

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            record()


def route_of(scope: Scope) -> str:
    """Return the template of the route that served ``scope``, or "unmatched"."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
