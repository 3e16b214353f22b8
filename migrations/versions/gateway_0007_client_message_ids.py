"""Client message ids: a retried buyer message is the same message (bot/gateway/client_ids.py).

Revision ID: gateway_0007_client_message_ids
Revises: gateway_0006_analytics
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0007_client_message_ids"
down_revision = "gateway_0006_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("gateway_client_messages"):
        return  # created directly by a gateway started with schema "create"
    op.create_table(
        "gateway_client_messages",
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), nullable=False),
        sa.Column("client_message_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("reply_ids", sa.Text, nullable=True),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        # the unique constraint that makes a retry the same message, also across gateways
        sa.PrimaryKeyConstraint("conversation_id", "client_message_id", name="pk_gateway_client_messages"),
    )


def downgrade() -> None:
    op.drop_table("gateway_client_messages")
