"""What the bot could not answer, grouped by need across languages, and the lead's period report.

Clustering
    The candidates are logged questions that were clarified or handed off because the bot
    was unsure, and answered questions the shopper marked not helpful. (Handoffs because the
    shopper asked for a person, or the bot had no index, say nothing about missing entries
    and are left out.) Each candidate is embedded once with the bot's own multilingual model,
    so "Verkaufen Sie Geschenkgutscheine?", "¿Venden tarjetas regalo?" and "Do you sell gift
    cards?" land together, and is assigned once, for good, to a cluster:

    - leader clustering on unit vectors: a question joins the most similar cluster leader
      with cosine >= ``threshold`` (0.60 by default, chosen on the shipped model: same-need
      pairs across languages score 0.62-0.88, different needs mostly below 0.55), else it
      leads a new cluster;
    - leaders never move, so every process caches them append-only and a new question
      costs one matrix-vector product; assignments live in the database
      (bot/store/models.py), so a page load only aggregates them in SQL.

    Embedding is the only slow step (about 5 ms a question for the default model on 2
    cores). A background thread (:class:`ClusterWarmer`) assigns new questions every few
    seconds in small batches (so shoppers' queries never wait long on the model's lock), and
    a page load assigns at most a handful itself; the rest are reported as ``pending``.

Acting on a cluster
    Adding phrasings or an entry records a :class:`~bot.store.models.FaqChange` naming
    the cluster: its questions logged up to then stop showing (they are answered now), and
    later failures bring it back. Dismissing marks it "not for the FAQ" for good.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVarTuple

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select, text
from sqlalchemy.orm import Session, aliased

from bot.errors import ConfigError, InputError, NotFoundError
from bot.faq.load import normalise_phrasing
from bot.matching.bot import FaqBot
from bot.matching.embedder import Vectors
from bot.runtime.jobs import PeriodicJob
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    DismissedCluster,
    FaqChange,
    Feedback,
    InsightAssignment,
    InsightCluster,
    Message,
    QuestionLog,
    Ticket,
    utcnow,
)

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.60
MAX_DAYS = 366
# Handoffs that are not a gap in the FAQ: the shopper asked for a person (now or after a
# not-helpful answer, which is itself counted), or the bot had no index.
NOT_A_GAP = ("asked_for_person", "negative_feedback", "bot_unavailable")
KINDS = ("clarify", "handoff", "not_helpful")
_ASSIGN_LOCK_ID = 7_271_043
Ts = TypeVarTuple("Ts")  # PostgreSQL advisory lock: one assigner at a time


def window_start(days: int, now: datetime | None = None) -> datetime:
    """Return the start of a ``days``-day window ending today (UTC), as the stats count it."""
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    today = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def cluster_key(cluster_id: int) -> str:
    """Return the public key of a cluster (stable: clusters are stored)."""
    return f"c{cluster_id}"


def parse_cluster_key(key: str) -> int:
    """Return the cluster id of a key such as "c12"; InputError when it is not one."""
    if len(key) < 2 or key[0] != "c" or not key[1:].isdigit():
        raise InputError(f"{key!r} is not a cluster key (they look like 'c12')")
    return int(key[1:])


def not_helpful_question_ids() -> Select[int]:
    """Select the logged question each not-helpful feedback was about.

    Feedback names the bot's reply; its question is the conversation's last logged question
    before that reply.
    """
    q = aliased(QuestionLog)
    return (
        select(func.max(q.id))
        .select_from(Feedback)
        .join(q, and_(q.conversation_id == Feedback.conversation_id,
                      q.message_id < Feedback.message_id))
        .where(Feedback.helpful.is_(False))
        .group_by(Feedback.id)
    )


def is_candidate() -> ColumnElement[bool]:
    """Return the condition for a logged question to count as unanswered."""
    unsure = and_(
        QuestionLog.action.in_(("clarify", "handoff")),
        or_(QuestionLog.reason.is_(None), QuestionLog.reason.not_in(NOT_A_GAP)),
    )
    return or_(unsure, QuestionLog.id.in_(not_helpful_question_ids()))


@dataclass(frozen=True)
class RefreshReport:
    """What one clustering pass did."""

    assigned: int
    new_clusters: int
    embedded: int
    pending: int
    seconds: float


class _Leaders:
    """The cluster leaders of one model, cached append-only (ids ascending)."""

    def __init__(self, dim: int) -> None:
        self.ids: list[int] = []
        self.pos: dict[int, int] = {}
        self.matrix: Vectors = np.zeros((0, dim), dtype=np.float32)

    @property
    def last_id(self) -> int:
        return self.ids[-1] if self.ids else 0

    def extend(self, ids: Sequence[int], vectors: Vectors) -> None:
        if not ids:
            return
        start = len(self.ids)
        self.ids.extend(ids)
        self.pos.update({cid: start + i for i, cid in enumerate(ids)})
        self.matrix = np.ascontiguousarray(np.vstack([self.matrix, vectors]), dtype=np.float32)

    def vector(self, cluster_id: int) -> Vectors | None:
        at = self.pos.get(cluster_id)
        return None if at is None else self.matrix[at]


class Insights:
    """Clusters of unanswered questions and the lead's records, for one database and bot."""

    def __init__(
        self,
        db: Database,
        bot: FaqBot,
        threshold: float = DEFAULT_THRESHOLD,
        text_cache_size: int = 5000,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"cluster threshold must be in (0, 1), got {threshold}")
        self.db = db
        self.bot = bot
        self.threshold = threshold
        self.text_cache_size = text_cache_size
        self._leaders: dict[str, _Leaders] = {}
        # Shoppers repeat themselves ("refund?"): the same text is embedded once.
        self._texts: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self.bot.embedder.name

    # ---- clustering ----
    def _pending_query(self, since: datetime) -> Select[int, str | None, datetime, str, str]:
        a = InsightAssignment
        return (
            select(QuestionLog.id, QuestionLog.text, QuestionLog.created_at,
                   QuestionLog.language, QuestionLog.action)
            .outerjoin(a, and_(a.question_id == QuestionLog.id, a.model == self.model))
            .where(a.question_id.is_(None), QuestionLog.text.is_not(None),
                   QuestionLog.created_at >= since, is_candidate())
            .order_by(QuestionLog.id)
        )

    def pending(self, days: int = MAX_DAYS) -> int:
        """Count unanswered questions in the window not yet in a cluster."""
        sub = self._pending_query(window_start(days)).subquery()
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(sub)) or 0)

    def _embed(self, texts: list[str]) -> tuple[Vectors, int]:
        """Embed texts, each distinct text once; return the vectors and how many were new."""
        keys = [normalise_phrasing(t) or t for t in texts]
        missing = sorted({k for k in keys if k not in self._texts})
        if missing:
            first = {k: t for k, t in zip(keys, texts, strict=True)}
            vectors = self.bot.embedder.embed([first[k] for k in missing])
            for k, v in zip(missing, vectors, strict=True):
                self._texts[k] = v
        out = np.stack([self._texts[k] for k in keys]).astype(np.float32, copy=False)
        for k in keys:
            self._texts.move_to_end(k)
        while len(self._texts) > self.text_cache_size:
            self._texts.popitem(last=False)
        return out, len(missing)

    def _sync_leaders(self, s: Session) -> _Leaders:
        leaders = self._leaders.get(self.model)
        if leaders is None:
            leaders = self._leaders[self.model] = _Leaders(int(self.bot.embedder.dim))
        rows = s.execute(
            select(InsightCluster.id, InsightCluster.vector)
            .where(InsightCluster.model == self.model, InsightCluster.id > leaders.last_id)
            .order_by(InsightCluster.id)
        ).all()
        if rows:
            vectors = np.stack([np.frombuffer(v, dtype=np.float32) for _i, v in rows])
            leaders.extend([i for i, _v in rows], vectors)
        return leaders

    def refresh(self, limit: int | None = None, batch: int = 64, days: int = MAX_DAYS,
                budget_seconds: float | None = None, count_pending: bool = True) -> RefreshReport:
        """Embed and assign unclustered questions in batches.

        Stops after ``limit`` questions or once ``budget_seconds`` have passed (a page load
        spends a bounded time here; the background job does the rest).
        """
        started = time.perf_counter()
        assigned = created = embedded = 0
        since = window_start(days)
        drained = False
        with self._lock:
            while limit is None or assigned < limit:
                if budget_seconds is not None and time.perf_counter() - started > budget_seconds:
                    break
                size = batch if limit is None else min(batch, limit - assigned)
                with self.db.read() as s:
                    rows = list(s.execute(self._pending_query(since).limit(size)).all())
                if not rows:
                    drained = True
                    break
                vectors, new_texts = self._embed([r[1] or "" for r in rows])
                embedded += new_texts
                done, new = self._assign(rows, vectors)
                assigned += done
                created += new
                if len(rows) < size:
                    drained = True
                    break
        left = 0 if drained or limit is None or not count_pending else self.pending(days)
        return RefreshReport(assigned, created, embedded, left,
                             round(time.perf_counter() - started, 3))

    def _assign(self, rows: list[Any], vectors: Vectors) -> tuple[int, int]:
        """Assign questions to clusters in one write transaction; return (assigned, created)."""
        new_vectors: list[Vectors] = []
        new_ids: list[int] = []
        with self.db.write() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ASSIGN_LOCK_ID})
            leaders = self._sync_leaders(s)
            taken = set(s.scalars(
                select(InsightAssignment.question_id)
                .where(InsightAssignment.model == self.model,
                       InsightAssignment.question_id.in_([r[0] for r in rows]))
            ).all())
            keep = [i for i, r in enumerate(rows) if r[0] not in taken]
            if not keep:
                return 0, 0
            vecs = vectors[keep]
            if leaders.ids:
                sims = vecs @ leaders.matrix.T
                best = np.argmax(sims, axis=1)
                best_sim = sims[np.arange(len(keep)), best]
            fresh = np.zeros((len(keep), vecs.shape[1]), dtype=np.float32)
            picks: list[tuple[Any, int, float]] = []  # (question row, leader ref, cosine)
            for row, at in enumerate(keep):
                ref, sim = -1, -2.0
                if leaders.ids:
                    ref, sim = leaders.ids[int(best[row])], float(best_sim[row])
                if new_vectors:
                    local = fresh[: len(new_vectors)] @ vecs[row]
                    j = int(np.argmax(local))
                    if float(local[j]) > sim:
                        ref, sim = -(j + 1), float(local[j])  # a leader made in this batch
                if sim < self.threshold:
                    fresh[len(new_vectors)] = vecs[row]
                    new_vectors.append(vecs[row])
                    ref, sim = -len(new_vectors), 1.0
                picks.append((rows[at], ref, sim))
            if new_vectors:
                now = utcnow()
                clusters = [InsightCluster(model=self.model, vector=v.tobytes(), created_at=now)
                            for v in new_vectors]
                s.add_all(clusters)
                s.flush()
                new_ids = [c.id for c in clusters]
            s.execute(insert(InsightAssignment), [
                {"question_id": q[0], "model": self.model, "similarity": round(sim, 4),
                 "cluster_id": ref if ref > 0 else new_ids[-ref - 1],
                 "asked_at": _utc(q[2]), "language": q[3], "action": q[4]}
                for q, ref, sim in picks
            ])
        if new_ids:
            leaders.extend(new_ids, np.stack(new_vectors))
        return len(picks), len(new_ids)

    # ---- reading clusters ----
    def _scope(self, stmt: Select[*Ts], since: datetime) -> Select[*Ts]:
        """Restrict ``stmt`` (over assignments) to this model's visible questions."""
        a = InsightAssignment
        handled = (
            select(FaqChange.cluster_id.label("cluster_id"),
                   func.max(FaqChange.created_at).label("at"))
            .where(FaqChange.cluster_id.is_not(None))
            .group_by(FaqChange.cluster_id)
            .subquery()
        )
        return (
            stmt.outerjoin(handled, handled.c.cluster_id == a.cluster_id)
            .where(
                a.model == self.model,
                a.asked_at >= since,
                a.cluster_id.not_in(select(DismissedCluster.cluster_id)),
                # Questions up to the lead's last change for this cluster are dealt with.
                or_(handled.c.at.is_(None), a.asked_at > handled.c.at),
            )
        )

    @staticmethod
    def _not_helpful(since: datetime) -> Select[int]:
        # Only feedback given in the window can be about a question asked in it.
        return not_helpful_question_ids().where(Feedback.created_at >= since)

    def clusters(self, days: int = 30, limit: int = 50, examples: int = 6,
                 refresh_limit: int = 64, refresh_seconds: float = 0.25) -> dict[str, Any]:
        """Return the window's clusters, largest first, with examples and the nearest entry.

        New questions are grouped first for at most ``refresh_seconds`` (the background job
        keeps up between page loads); what is left is reported as ``pending``.
        """
        started = time.perf_counter()
        if limit < 1 or examples < 1:
            raise InputError("limit and examples must be at least 1")
        since = window_start(days)
        pending = 0
        if refresh_limit > 0 and self.bot.ready:
            pending = self.refresh(limit=refresh_limit, batch=8, days=days,
                                   budget_seconds=refresh_seconds).pending
        a = InsightAssignment
        with self.db.read() as s:
            rows = s.execute(self._scope(
                select(a.cluster_id, a.language, a.action, func.count(), func.max(a.asked_at))
                .select_from(a), since)
                .group_by(a.cluster_id, a.language, a.action)
            ).all()
            unhelpful = s.execute(self._scope(
                select(a.cluster_id, a.language, a.action, func.count()).select_from(a), since)
                .where(a.question_id.in_(self._not_helpful(since)))
                .group_by(a.cluster_id, a.language, a.action)
            ).all()
            groups: dict[int, dict[str, Any]] = {}
            for cid, language, action, count, last in rows:
                g = groups.setdefault(cid, {"count": 0, "languages": defaultdict(int),
                                            "kinds": defaultdict(int), "last": None})
                g["count"] += count
                g["languages"][language] += count
                g["kinds"][action] += count
                last_at = _as_datetime(last)
                if g["last"] is None or (last_at is not None and last_at > g["last"]):
                    g["last"] = last_at
            for cid, _language, action, count in unhelpful:
                kinds = groups[cid]["kinds"]
                kinds[action] -= count
                kinds["not_helpful"] += count
            order = sorted(groups, key=lambda c: (-groups[c]["count"],
                                                  -_timestamp(groups[c]["last"]), c))
            top = order[:limit]
            samples = self._examples(s, since, top, examples)
            leaders = self._sync_leaders(s)
        out = []
        for cid in top:
            g = groups[cid]
            out.append({
                "key": cluster_key(cid),
                "count": g["count"],
                "languages": dict(sorted(g["languages"].items(), key=lambda x: (-x[1], x[0]))),
                "kinds": {k: g["kinds"].get(k, 0) for k in KINDS},
                "last_seen": g["last"],
                "examples": samples.get(cid, []),
                "nearest": self._nearest(leaders.vector(cid)),
            })
        return {
            "days": days,
            "since": since,
            "model": self.model,
            "threshold": self.threshold,
            "total_clusters": len(groups),
            "total_questions": sum(g["count"] for g in groups.values()),
            "pending": pending,
            "clusters": out,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    def _examples(self, s: Session, since: datetime, top: list[int],
                  per_cluster: int) -> dict[int, list[dict[str, Any]]]:
        """Return the latest distinct questions of each cluster (one indexed query each)."""
        a = InsightAssignment
        out: dict[int, list[dict[str, Any]]] = {}
        for cid in top:
            rows = s.execute(self._scope(
                select(a.question_id, QuestionLog.text, a.language, a.action, a.asked_at)
                .select_from(a).join(QuestionLog, QuestionLog.id == a.question_id), since)
                .where(a.cluster_id == cid, QuestionLog.text.is_not(None))
                .order_by(a.question_id.desc())
                .limit(per_cluster * 4)
            ).all()
            seen: set[str] = set()
            picked = []
            for qid, body, language, action, asked in rows:
                norm = normalise_phrasing(body or "")
                if norm not in seen:
                    seen.add(norm)
                    picked.append({"id": qid, "text": body, "language": language,
                                   "kind": action, "created_at": _as_datetime(asked)})
                if len(picked) >= per_cluster:
                    break
            out[cid] = picked
        ids = [e["id"] for items in out.values() for e in items]
        if ids:
            unhelpful = set(s.scalars(
                select(QuestionLog.id).where(QuestionLog.id.in_(ids),
                                             QuestionLog.id.in_(self._not_helpful(since)))
            ).all())
            for items in out.values():
                for e in items:
                    if e["id"] in unhelpful:
                        e["kind"] = "not_helpful"
        return out

    def _nearest(self, vector: Vectors | None) -> dict[str, Any] | None:
        if vector is None or not self.bot.ready:
            return None
        hits = self.bot.index.search(vector, k=3)
        if not hits:
            return None
        default = self.bot.settings.default_language

        def one(h: Any) -> dict[str, Any]:
            e = h.entry
            return {"faq_id": e.id, "score": round(float(h.score), 3), "category": e.category,
                    "file": Path(e.path).stem if e.path else None,
                    "question": self.bot.question_in(e, default)}

        best = one(hits[0])
        best["alternatives"] = [one(h) for h in hits[1:]]
        return best

    # ---- what the lead did ----
    def dismiss(self, key: str, author: str, reason: str | None = None) -> dict[str, Any]:
        """Mark a cluster "not for the FAQ"; doing it twice is harmless."""
        cid = parse_cluster_key(key)
        with self.db.write() as s:
            if s.get(InsightCluster, cid) is None:
                raise NotFoundError(f"no cluster {key!r}")
            found = s.scalars(
                select(DismissedCluster).where(DismissedCluster.cluster_id == cid)
            ).first()
            if found is None:
                found = DismissedCluster(cluster_id=cid, author=author, reason=reason,
                                         created_at=utcnow())
                s.add(found)
                s.flush()
            return {"key": key, "author": found.author, "reason": found.reason,
                    "created_at": found.created_at}

    def check_cluster(self, key: str | None) -> int | None:
        """Return the id of a cluster key (None for none); NotFoundError if unknown."""
        if not key:
            return None
        cid = parse_cluster_key(key)
        with self.db.read() as s:
            if s.get(InsightCluster, cid) is None:
                raise NotFoundError(f"no cluster {key!r}")
        return cid

    def questions(self, ids: Iterable[int]) -> list[tuple[int, str, str]]:
        """Return (id, text, language) of logged questions, in the order asked for."""
        wanted = list(dict.fromkeys(ids))
        with self.db.read() as s:
            rows = {
                r[0]: r for r in s.execute(
                    select(QuestionLog.id, QuestionLog.text, QuestionLog.language)
                    .where(QuestionLog.id.in_(wanted))
                ).all()
            }
        out = []
        for qid in wanted:
            row = rows.get(qid)
            if row is None:
                raise NotFoundError(f"no logged question {qid}")
            if not row[1]:
                raise InputError(f"question {qid} has no text any more (retention removed it)")
            out.append((qid, row[1], row[2]))
        return out

    def record_change(self, author: str, action: str, file: str, entry_id: str,
                      cluster_id: int | None, summary: str,
                      detail: dict[str, Any]) -> dict[str, Any]:
        """Write one FAQ change into the history; return it."""
        with self.db.write() as s:
            change = FaqChange(author=author, action=action, file=file, entry_id=entry_id,
                               cluster_id=cluster_id, summary=summary, detail=detail,
                               created_at=utcnow())
            s.add(change)
            s.flush()
            return change_dict(change)

    def history(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return the latest FAQ changes, newest first."""
        with self.db.read() as s:
            rows = s.scalars(
                select(FaqChange).order_by(FaqChange.id.desc()).limit(limit)
            ).all()
            return [change_dict(c) for c in rows]


def change_dict(c: FaqChange) -> dict[str, Any]:
    """Return a history item as the API shows it."""
    return {
        "id": c.id, "created_at": c.created_at, "author": c.author, "action": c.action,
        "file": c.file, "entry_id": c.entry_id,
        "cluster": cluster_key(c.cluster_id) if c.cluster_id is not None else None,
        "summary": c.summary, "detail": c.detail,
    }


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return _aware(value)
    return _aware(datetime.fromisoformat(str(value)))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


class ClusterWarmer(PeriodicJob):
    """Assign new unanswered questions to clusters in the background, a little at a time."""

    thread_name = "faq-clusters"

    def __init__(self, insights: Insights, interval_seconds: float = 10.0, batch: int = 8,
                 pause_seconds: float = 0.05, lock_file: Path | None = None) -> None:
        if interval_seconds <= 0 or batch < 1 or pause_seconds < 0:
            raise ConfigError("ClusterWarmer needs interval > 0, batch >= 1, pause >= 0")
        # lock_file: the worker processes of one server take turns instead of embedding
        # the same new questions at the same time (~4 % of a loaded server's CPU).
        super().__init__(interval_seconds, lock_file)
        self.insights = insights
        self.batch = batch
        self.pause_seconds = pause_seconds

    def run_once(self) -> int:
        """Assign everything pending, a batch at a time; return how many were assigned."""
        total = 0
        while not self._stop.is_set() and self.insights.bot.ready:
            # Small batches: the embedder is shared with shoppers' questions and holds a lock
            # while it runs, so a big batch would stall their answers.
            done = self.insights.refresh(limit=self.batch, batch=self.batch,
                                         count_pending=False).assigned
            total += done
            if done < self.batch:
                break
            self._stop.wait(self.pause_seconds)
        return total


# ---- the period report ----
def _blank() -> dict[str, Any]:
    return {"questions": 0, "answered": 0, "clarified": 0, "handed_off": 0,
            "helpful": 0, "not_helpful": 0, "tickets": 0, "sla_breaches": 0}


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p90 = np.percentile(np.asarray(values, dtype=np.float64), [50, 90])
    return round(float(p50), 1), round(float(p90), 1)


def period_report(db: Database, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Count questions, outcomes, feedback and tickets per language and per day.

    Ticket times are in seconds: first agent response (the first agent message after the
    ticket opened) and resolution (opened to resolved). A ticket breaches its SLA when
    neither a response nor a resolution came before ``due_at``.
    """
    now = now or utcnow()
    since = window_start(days, now)
    kinds = {"answer": "answered", "clarify": "clarified", "handoff": "handed_off"}
    dates = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
    totals = _blank()
    per_language: dict[str, dict[str, Any]] = defaultdict(_blank)
    per_day: dict[str, dict[str, Any]] = {d: _blank() for d in dates}
    per_day_lang: dict[str, dict[str, dict[str, Any]]] = defaultdict(
        lambda: {d: _blank() for d in dates})

    def add(day: str, language: str, field: str, n: int) -> None:
        for bucket in (totals, per_language[language], per_day.setdefault(day, _blank()),
                       per_day_lang[language].setdefault(day, _blank())):
            bucket[field] += n

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
            if action in kinds:
                add(str(day)[:10], language, kinds[action], n)
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
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"first": [], "resolve": []})
    for language, created_at, due_at, state, resolved_at, first_at in tickets:
        created, due = _utc(created_at), _utc(due_at)
        first, resolved = _as_datetime(first_at), _aware(resolved_at)
        day = created.date().isoformat()
        add(day, language, "tickets", 1)
        for key in ("", language):
            if first is not None:
                times[key]["first"].append((first - created).total_seconds())
            if state == "resolved" and resolved is not None:
                times[key]["resolve"].append((resolved - created).total_seconds())
        done = [t for t in (first, resolved if state == "resolved" else None) if t is not None]
        met = min(done) if done else None
        if (met is not None and met > due) or (met is None and now > due):
            add(day, language, "sla_breaches", 1)

    def finish(block: dict[str, Any], key: str) -> dict[str, Any]:
        rated = block["helpful"] + block["not_helpful"]
        block["helpful_share"] = round(block["helpful"] / rated, 3) if rated else None
        fr = _percentiles(times[key]["first"]) if key in times else (None, None)
        rs = _percentiles(times[key]["resolve"]) if key in times else (None, None)
        block["first_response_median_s"], block["first_response_p90_s"] = fr
        block["resolution_median_s"], block["resolution_p90_s"] = rs
        return block

    languages = sorted(per_language)
    return {
        "days": days,
        "since": since,
        "languages": languages,
        "totals": finish(totals, ""),
        "per_language": {lang: finish(per_language[lang], lang) for lang in languages},
        "per_day": [{"date": d, **per_day[d]} for d in sorted(per_day)],
        "per_day_by_language": {
            lang: [{"date": d, **per_day_lang[lang][d]} for d in sorted(per_day_lang[lang])]
            for lang in languages
        },
    }
