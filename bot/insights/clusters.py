"""What the bot could not answer, grouped by need across languages, and what the lead did.

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
    cores). A background thread (ClusterWarmer, bot/runtime/clustering.py) assigns new
    questions every few seconds in small batches (so shoppers' queries never wait long on
    the model's lock), and a page load assigns at most a handful itself; the rest are
    reported as ``pending``.

Acting on a cluster
    Adding phrasings or an entry records a :class:`~bot.store.models.FaqChange` naming
    the cluster: its questions logged up to then stop showing (they are answered now), and
    later failures bring it back. Dismissing marks it "not for the FAQ" for good.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVarTuple

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select, text
from sqlalchemy.orm import Session, aliased

from bot.errors import ConfigError, InputError, NotFoundError
from bot.faq.load import normalise_phrasing
from bot.insights.views import (
    Change,
    Cluster,
    ClusterReport,
    Dismissal,
    EntryRef,
    Example,
    Nearest,
)
from bot.insights.window import MAX_DAYS, as_datetime, utc, window_start
from bot.matching.bot import FaqBot
from bot.matching.embedder import Vectors
from bot.matching.index import Hit
from bot.store.db import Database
from bot.store.models import (
    DismissedCluster,
    FaqChange,
    Feedback,
    InsightAssignment,
    InsightCluster,
    QuestionLog,
    utcnow,
)

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.60
# Handoffs that are not a gap in the FAQ: the shopper asked for a person (now or after a
# not-helpful answer, which is itself counted), or the bot had no index.
NOT_A_GAP = ("asked_for_person", "negative_feedback", "bot_unavailable")
KINDS = ("clarify", "handoff", "not_helpful")
_ASSIGN_LOCK_ID = 7_271_043
Ts = TypeVarTuple("Ts")  # PostgreSQL advisory lock: one assigner at a time


def cluster_key(cluster_id: int) -> str:
    """Return the public key of a cluster (stable: clusters are stored)."""
    return f"c{cluster_id}"


# ASCII digits only ("c²" passed str.isdigit, then int() raised: a 500), and few enough that
# the id fits the INTEGER column on PostgreSQL (2^31-1).
CLUSTER_KEY = re.compile(r"c([0-9]{1,9})")


def parse_cluster_key(key: str) -> int:
    """Return the cluster id of a key such as "c12"; InputError when it is not one."""
    found = CLUSTER_KEY.fullmatch(key)
    if found is None:
        raise InputError(f"{key!r} is not a cluster key (they look like 'c12')")
    return int(found.group(1))


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
                 "asked_at": utc(q[2]), "language": q[3], "action": q[4]}
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
                 refresh_limit: int = 64, refresh_seconds: float = 0.25) -> ClusterReport:
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
                last_at = as_datetime(last)
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
        clusters = [
            Cluster(
                key=cluster_key(cid),
                count=groups[cid]["count"],
                languages=dict(sorted(groups[cid]["languages"].items(),
                                      key=lambda x: (-x[1], x[0]))),
                kinds={k: groups[cid]["kinds"].get(k, 0) for k in KINDS},
                last_seen=groups[cid]["last"],
                examples=samples.get(cid, []),
                nearest=self._nearest(leaders.vector(cid)),
            )
            for cid in top
        ]
        return ClusterReport(
            days=days,
            since=since,
            model=self.model,
            threshold=self.threshold,
            total_clusters=len(groups),
            total_questions=sum(g["count"] for g in groups.values()),
            pending=pending,
            clusters=clusters,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _examples(self, s: Session, since: datetime, top: list[int],
                  per_cluster: int) -> dict[int, list[Example]]:
        """Return the latest distinct questions of each cluster (one indexed query each)."""
        a = InsightAssignment
        picked: dict[int, list[tuple[int, str, str, str, datetime | None]]] = {}
        repeats: dict[int, int] = {}  # question id -> times asked in its words
        for cid in top:
            rows = s.execute(self._scope(
                select(a.question_id, QuestionLog.text, a.language, a.action, a.asked_at)
                .select_from(a).join(QuestionLog, QuestionLog.id == a.question_id), since)
                .where(a.cluster_id == cid, QuestionLog.text.is_not(None))
                .order_by(a.question_id.desc())
                .limit(per_cluster * 4)
            ).all()
            seen: dict[str, int] = {}  # wording -> its place in items
            items = picked[cid] = []
            for qid, body, language, action, asked in rows:
                norm = normalise_phrasing(body or "")
                if norm in seen:
                    repeats[items[seen[norm]][0]] += 1  # asked again in these words
                elif len(items) < per_cluster:
                    seen[norm] = len(items)
                    items.append((qid, body or "", language, action, as_datetime(asked)))
                    repeats[qid] = 1
        ids = [item[0] for items in picked.values() for item in items]
        unhelpful: set[int] = set()
        if ids:
            unhelpful = set(s.scalars(
                select(QuestionLog.id).where(QuestionLog.id.in_(ids),
                                             QuestionLog.id.in_(self._not_helpful(since)))
            ).all())
        return {
            cid: [Example(id=qid, text=body, language=language,
                          kind="not_helpful" if qid in unhelpful else action, created_at=at,
                          repeats=repeats.get(qid, 1))
                  for qid, body, language, action, at in items]
            for cid, items in picked.items()
        }

    def _nearest(self, vector: Vectors | None) -> Nearest | None:
        if vector is None or not self.bot.ready:
            return None
        hits = self.bot.index.search(vector, k=3)
        if not hits:
            return None
        default = self.bot.settings.default_language

        def ref(h: Hit) -> EntryRef:
            e = h.entry
            return EntryRef(faq_id=e.id, score=round(float(h.score), 3), category=e.category,
                            file=Path(e.path).stem if e.path else None,
                            question=self.bot.question_in(e, default))

        best = ref(hits[0])
        return Nearest(**vars(best), alternatives=[ref(h) for h in hits[1:]])

    # ---- what the lead did ----
    def dismiss(self, key: str, author: str, reason: str | None = None) -> Dismissal:
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
            return Dismissal(key=key, author=found.author, reason=found.reason,
                             created_at=found.created_at)

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

    def questions_by_language(
        self, ids: Iterable[int], texts: Iterable[str], lang: str | None = None
    ) -> dict[str, list[str]]:
        """Group chosen questions by language: logged ones (``ids``, language known) and free
        texts (detected); ``lang`` puts them all in one language."""
        by_lang: dict[str, list[str]] = {}
        for _qid, body, language in self.questions(ids):
            by_lang.setdefault(lang or language, []).append(body)
        for body in texts:
            body = body.strip()
            if body:
                by_lang.setdefault(lang or self.bot.detect(body).language, []).append(body)
        return by_lang

    def record_change(self, author: str, action: str, file: str, entry_id: str,
                      cluster_id: int | None, summary: str,
                      detail: dict[str, Any]) -> Change:
        """Write one FAQ change into the history; return it."""
        with self.db.write() as s:
            change = FaqChange(author=author, action=action, file=file, entry_id=entry_id,
                               cluster_id=cluster_id, summary=summary, detail=detail,
                               created_at=utcnow())
            s.add(change)
            s.flush()
            return change_view(change)

    def history(self, limit: int = 100) -> list[Change]:
        """Return the latest FAQ changes, newest first."""
        with self.db.read() as s:
            rows = s.scalars(
                select(FaqChange).order_by(FaqChange.id.desc()).limit(limit)
            ).all()
            return [change_view(c) for c in rows]


def change_view(c: FaqChange) -> Change:
    """Return a history item as the API shows it."""
    return Change(
        id=c.id, created_at=c.created_at, author=c.author, action=c.action, file=c.file,
        entry_id=c.entry_id,
        cluster=cluster_key(c.cluster_id) if c.cluster_id is not None else None,
        summary=c.summary, detail=c.detail,
    )


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0
