"""Gateway tables: conversations, messages, agents, agent sessions (own branch "gateway").

Revision ID: gateway_0001
Revises:
Create Date: 2025-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0001"
down_revision = None
branch_labels = ("gateway",)
depends_on = None


def _exists(name: str) -> bool:
    # Gateways started before this migration existed created their tables directly.
    return sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if not _exists("gateway_conversations"):
        op.create_table(
            "gateway_conversations",
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("buyer_id", sa.String(128), nullable=True),
            sa.Column("access_key_hash", sa.String(64), nullable=True),
            sa.Column("client", sa.String(8), nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("assigned_agent", sa.String(64), nullable=True),
            sa.Column("handoff_reason", sa.String(32), nullable=True),
            sa.Column("handoff_reason_text", sa.String(500), nullable=True),
            sa.Column("handoff_summary", sa.Text, nullable=True),
            sa.Column("queued_at", sa.DateTime, nullable=True),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.Column("last_message_at", sa.DateTime, nullable=True),
        )
        op.create_index("ix_gateway_conversations_buyer_id", "gateway_conversations", ["buyer_id"])
        op.create_index("ix_gateway_conversations_state_queued", "gateway_conversations", ["state", "queued_at"])
    if not _exists("gateway_messages"):
        op.create_table(
            "gateway_messages",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), nullable=False),
            sa.Column("sender", sa.String(8), nullable=False),
            sa.Column("agent_name", sa.String(128), nullable=True),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("buttons", sa.Text, nullable=True),
            sa.Column("kind", sa.String(32), nullable=True),
            sa.Column("created_at", sa.DateTime, nullable=False),
        )
        op.create_index("ix_gateway_messages_conversation_id", "gateway_messages", ["conversation_id"])
    if not _exists("gateway_agents"):
        op.create_table(
            "gateway_agents",
            sa.Column("username", sa.String(64), primary_key=True),
            sa.Column("display_name", sa.String(128), nullable=False),
            sa.Column("password_hash", sa.String(512), nullable=False),
            sa.Column("active", sa.Boolean, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
        )
    if not _exists("gateway_agent_sessions"):
        op.create_table(
            "gateway_agent_sessions",
            sa.Column("id_hash", sa.String(64), primary_key=True),
            sa.Column("username", sa.String(64), sa.ForeignKey("gateway_agents.username"), nullable=False),
            sa.Column("csrf_token", sa.String(64), nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("last_seen_at", sa.DateTime, nullable=False),
            sa.Column("expires_at", sa.DateTime, nullable=False),
            sa.Column("revoked", sa.Boolean, nullable=False),
        )
        op.create_index("ix_gateway_agent_sessions_username", "gateway_agent_sessions", ["username"])


def downgrade() -> None:
    op.drop_table("gateway_agent_sessions")
    op.drop_table("gateway_agents")
    op.drop_table("gateway_messages")
    op.drop_table("gateway_conversations")
