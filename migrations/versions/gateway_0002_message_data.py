"""Gateway messages keep a structured bot message (a table) beside its text: column `data` (JSON).

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def _has_column(table: str, column: str) -> bool:
    # gateways started with schema "create" may already have it
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    if not _has_column("gateway_messages", "data"):
        with op.batch_alter_table("gateway_messages") as batch:
            batch.add_column(sa.Column("data", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_messages") as batch:
        batch.drop_column("data")
