"""Tables of the lead's insights: question clusters, FAQ change history, dismissed clusters.

They share ``Base`` with bot/models.py, so one Alembic history (bot/migrations/) creates
them (revision 0002). No shopper text is stored here: a cluster keeps the embedding of its
first question (its leader), and what a lead sees of its members is read from the question
log, whose text the retention job blanks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, UtcDateTime, utcnow


class InsightCluster(Base):
    """A group of unanswered questions with the same need, led by its first question.

    ``vector`` is the leader's unit embedding (float32 bytes) under ``model``; a question
    joins the most similar leader above the threshold, so leaders never move and every
    process can cache them append-only.
    """

    __tablename__ = "insight_clusters"
    __table_args__ = (Index("ix_insight_clusters_model_id", "model", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InsightAssignment(Base):
    """Which cluster a logged question belongs to, under one embedding model.

    The question's time, language and action are copied here (they never change), so a
    page load counts clusters from this table alone instead of joining 50,000 log rows.
    """

    __tablename__ = "insight_assignments"
    __table_args__ = (
        Index("ix_insight_assignments_model_asked_at", "model", "asked_at"),
        Index("ix_insight_assignments_cluster_question", "cluster_id", "question_id"),
    )

    question_id: Mapped[int] = mapped_column(
        ForeignKey("question_log.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("insight_clusters.id", ondelete="CASCADE")
    )
    # Cosine to the leader: shows how tight a cluster is, and lets a test check the threshold.
    similarity: Mapped[float] = mapped_column(Float, default=1.0)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    language: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(16))


class FaqChange(Base):
    """One change a lead made to the FAQ files from the lead page or API: who, when, what."""

    __tablename__ = "faq_changes"
    __table_args__ = (Index("ix_faq_changes_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # add_phrasings | new_entry
    file: Mapped[str] = mapped_column(String(300))
    entry_id: Mapped[str] = mapped_column(String(200))
    # The cluster the change answered: its questions logged until now stop showing.
    cluster_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DismissedCluster(Base):
    """A cluster a lead marked "not for the FAQ" (abuse, jokes ...): it stops showing."""

    __tablename__ = "dismissed_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("insight_clusters.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
