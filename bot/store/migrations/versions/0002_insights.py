"""Create the lead's insight tables: clusters, assignments, FAQ changes, dismissed clusters.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables of the insight tables of bot/store/models.py."""
    op.create_table(
        "insight_clusters",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_insight_clusters_model_id", "insight_clusters", ["model", "id"])
    op.create_table(
        "insight_assignments",
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("question_log.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column(
            "cluster_id",
            sa.Integer(),
            sa.ForeignKey("insight_clusters.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
    )
    op.create_index(
        "ix_insight_assignments_model_asked_at", "insight_assignments", ["model", "asked_at"]
    )
    op.create_index(
        "ix_insight_assignments_cluster_question", "insight_assignments",
        ["cluster_id", "question_id"],
    )
    op.create_table(
        "faq_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("file", sa.String(300), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_faq_changes_created_at", "faq_changes", ["created_at"])
    op.create_index("ix_faq_changes_cluster_id", "faq_changes", ["cluster_id"])
    op.create_table(
        "dismissed_clusters",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "cluster_id",
            sa.Integer(),
            sa.ForeignKey("insight_clusters.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop the insight tables."""
    op.drop_table("dismissed_clusters")
    op.drop_table("faq_changes")
    op.drop_table("insight_assignments")
    op.drop_table("insight_clusters")
