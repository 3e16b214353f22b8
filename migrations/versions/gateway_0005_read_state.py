"""Read state per message: how far the buyer and each agent have read a conversation.

Revision ID: gateway_0005_read_state
Revises: gateway_0004_events
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0005_read_state"
down_revision = "gateway_0004_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("gateway_read_marks"):
        return  # created directly by a gateway started with schema "create"
    op.create_table(
        "gateway_read_marks",
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), primary_key=True),
        sa.Column("reader", sa.String(80), primary_key=True),
        sa.Column("last_read_id", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_read_marks")
