"""Add people with keys of their own, ticket history and notes, and shopper context.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create users and ticket_events; add visitor and page to conversations, spam to tickets."""
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
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("visitor_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("page_url", sa.String(2000), nullable=True))
        batch.create_index("ix_conversations_visitor_id", ["visitor_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("spam", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("spam")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_visitor_id")
        batch.drop_column("page_url")
        batch.drop_column("visitor_id")
    op.drop_table("ticket_events")
    op.drop_table("users")
