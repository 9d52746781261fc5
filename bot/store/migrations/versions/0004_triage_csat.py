"""Triage and CSAT: ticket context, several tickets per conversation, ratings.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04

- tickets: kind (the triage kind that opened it), asked_about (the shopper's topic in their
  words), page_url, locale, market, resolution (agent | self_served); conversation_id is
  no longer unique (a handoff long after a resolution opens a new ticket), but indexed;
- conversations: page_url (the page the widget was on);
- question_log: kind and guesses (the bot's three best entries), so a ticket's guesses come
  from every substantive message of the conversation;
- ratings: one 1-5 rating (CSAT) per conversation, with the agent who resolved it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# SQLite keeps the column's UNIQUE unnamed; batch mode names it by this convention so it can
# be dropped. PostgreSQL named it itself.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_PG_UNIQUE = "tickets_conversation_id_key"


def upgrade() -> None:
    """Add the columns and the ratings table; let a conversation have several tickets."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("tickets", naming_convention=_NAMING) as t:
        t.drop_constraint("uq_tickets_conversation_id" if sqlite else _PG_UNIQUE, type_="unique")
        t.add_column(sa.Column("kind", sa.String(16), nullable=True))
        t.add_column(sa.Column("asked_about", sa.Text(), nullable=True))
        t.add_column(sa.Column("page_url", sa.String(500), nullable=True))
        t.add_column(sa.Column("locale", sa.String(35), nullable=True))
        t.add_column(sa.Column("market", sa.String(8), nullable=True))
        t.add_column(sa.Column("resolution", sa.String(16), nullable=True))
        t.create_index("ix_tickets_conversation_id", ["conversation_id"])
    with op.batch_alter_table("conversations") as c:
        c.add_column(sa.Column("page_url", sa.String(500), nullable=True))
    with op.batch_alter_table("question_log") as q:
        q.add_column(sa.Column("kind", sa.String(16), nullable=True))
        q.add_column(sa.Column("guesses", sa.JSON(), nullable=True))
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(64),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ratings_created_at", "ratings", ["created_at"])


def downgrade() -> None:
    """Drop the ratings and the new columns; keep each conversation's newest ticket only."""
    op.drop_index("ix_ratings_created_at", "ratings")
    op.drop_table("ratings")
    # Plain DROP COLUMN (SQLite 3.35+ has it): batch mode would copy and drop the
    # conversations table, and its ON DELETE CASCADE would empty messages and tickets.
    for table, column in (("question_log", "guesses"), ("question_log", "kind"),
                          ("conversations", "page_url")):
        op.drop_column(table, column)
    op.execute(
        "DELETE FROM tickets WHERE id NOT IN "
        "(SELECT MAX(id) FROM tickets GROUP BY conversation_id)"
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("tickets", naming_convention=_NAMING) as t:
        t.drop_index("ix_tickets_conversation_id")
        for name in ("resolution", "market", "locale", "page_url", "asked_about", "kind"):
            t.drop_column(name)
        t.create_unique_constraint(
            "uq_tickets_conversation_id" if sqlite else _PG_UNIQUE, ["conversation_id"])
