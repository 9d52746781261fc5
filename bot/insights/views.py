"""What the insights return: clusters of unanswered questions and the lead's records.

The web layer maps each onto its pydantic body of the same fields (bot/web/schemas.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EntryRef:
    """An FAQ entry near a cluster, with the cosine of the cluster's leader to it."""

    faq_id: str
    score: float
    category: str
    file: str | None  # the file stem in faq_data/
    question: str  # its first phrasing in the default language


@dataclass(frozen=True)
class Nearest(EntryRef):
    """The entry nearest to a cluster, and the runners-up."""

    alternatives: list[EntryRef] = field(default_factory=list)


@dataclass(frozen=True)
class Example:
    """One question of a cluster."""

    id: int
    text: str
    language: str
    kind: str  # clarify | handoff | not_helpful
    created_at: datetime | None
    repeats: int = 1  # times asked in these same words (among the recent ones read)


@dataclass(frozen=True)
class Cluster:
    """Unanswered questions with the same need, across languages."""

    key: str  # stable, e.g. "c12"
    count: int
    languages: dict[str, int]
    kinds: dict[str, int]
    last_seen: datetime | None
    examples: list[Example]
    nearest: Nearest | None


@dataclass(frozen=True)
class ClusterReport:
    """The window's clusters, largest first."""

    days: int
    since: datetime
    model: str
    threshold: float
    total_clusters: int
    total_questions: int
    pending: int  # unanswered questions not grouped yet (the background job is on it)
    clusters: list[Cluster]
    elapsed_ms: float


@dataclass(frozen=True)
class Dismissal:
    """A cluster a lead marked "not for the FAQ"."""

    key: str
    author: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Change:
    """One FAQ change made through the lead page or API: who, when, what."""

    id: int
    created_at: datetime
    author: str
    action: str  # add_phrasings | new_entry
    file: str
    entry_id: str
    cluster: str | None
    summary: str
    detail: dict[str, Any]  # the change itself, as stored (a JSON document)
