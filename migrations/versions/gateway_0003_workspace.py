"""The agent workspace: agents get a role (agent | supervisor) and an away flag, private notes and canned replies.

Revision ID: gateway_0003_workspace
Revises: gateway_0002
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0003_workspace"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def _insp():
    return sa.inspect(op.get_bind())


def upgrade() -> None:
    # gateways started with schema "create" may already have all of it
    if "role" not in {c["name"] for c in _insp().get_columns("gateway_agents")}:
        with op.batch_alter_table("gateway_agents") as batch:
            batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="agent"))
    if "away" not in {c["name"] for c in _insp().get_columns("gateway_agents")}:
        with op.batch_alter_table("gateway_agents") as batch:
            batch.add_column(sa.Column("away", sa.Boolean, nullable=False, server_default=sa.false()))
    if not _insp().has_table("gateway_notes"):
        op.create_table(
            "gateway_notes",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), nullable=False),
            sa.Column("author", sa.String(64), nullable=False),
            sa.Column("author_name", sa.String(128), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
        )
        op.create_index("ix_gateway_notes_conversation_id", "gateway_notes", ["conversation_id"])
    if not _insp().has_table("gateway_canned_replies"):
        op.create_table(
            "gateway_canned_replies",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("shortcut", sa.String(40), nullable=False, unique=True),
            sa.Column("title", sa.String(120), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("updated_by", sa.String(64), nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("gateway_canned_replies")
    op.drop_index("ix_gateway_notes_conversation_id", table_name="gateway_notes")
    op.drop_table("gateway_notes")
    with op.batch_alter_table("gateway_agents") as batch:
        batch.drop_column("away")
        batch.drop_column("role")
