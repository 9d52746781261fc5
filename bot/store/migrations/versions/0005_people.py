"""Add people with keys of their own, ticket history and notes, and the shopper's visitor id.

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05

The page the shopper writes from (conversations.page_url) came with 0004 (triage).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create users and ticket_events; add the visitor id to conversations, spam to tickets."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("key_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("key_hint", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("key_created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("previous", sa.String(64), nullable=True),
    )
    op.create_index("ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"])
    # Plain ADD COLUMN: both databases add a nullable or defaulted column in place.
    op.add_column("conversations", sa.Column("visitor_id", sa.String(64), nullable=True))
    op.create_index("ix_conversations_visitor_id", "conversations", ["visitor_id"])
    op.add_column(
        "tickets", sa.Column("spam", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("ticket_events")
    op.drop_table("users")
    # Plain DROP INDEX / DROP COLUMN (SQLite 3.35+ has it): batch mode would copy and drop
    # the conversations and tickets tables, and their ON DELETE CASCADE / SET NULL would
    # empty messages and unlink ratings (as in 0004).
    op.drop_index("ix_conversations_visitor_id", "conversations")
    op.drop_column("conversations", "visitor_id")
    op.drop_column("tickets", "spam")
