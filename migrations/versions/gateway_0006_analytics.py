"""Analytics: events recorded as they happen, and the daily roll-up (issue 12, docs/ANALYTICS.md).

Revision ID: gateway_0006_analytics
Revises: gateway_0005_read_state
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0006_analytics"
down_revision = "gateway_0005_read_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    insp = sa.inspect(op.get_bind())
    if not insp.has_table("gateway_analytics_events"):  # a gateway started with schema "create" has it
        op.create_table(
            "gateway_analytics_events",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(64), nullable=False),
            sa.Column("buyer_id", sa.String(128), nullable=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("at", sa.DateTime, nullable=False),
            sa.Column("topic", sa.String(80), nullable=True),
            sa.Column("reason", sa.String(32), nullable=True),
            sa.Column("agent", sa.String(64), nullable=True),
            sa.Column("value", sa.Integer, nullable=True),
            sa.Column("text", sa.String(500), nullable=True),
        )
        op.create_index("ix_gateway_analytics_events_conversation_id", "gateway_analytics_events", ["conversation_id"])
        op.create_index("ix_gateway_analytics_events_buyer_id", "gateway_analytics_events", ["buyer_id"])
        op.create_index("ix_gateway_analytics_events_at", "gateway_analytics_events", ["at"])
    if not insp.has_table("gateway_analytics_daily"):
        op.create_table(
            "gateway_analytics_daily",
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("figures", sa.Text, nullable=False),
            sa.Column("computed_at", sa.DateTime, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("gateway_analytics_daily")
    op.drop_index("ix_gateway_analytics_events_at", table_name="gateway_analytics_events")
    op.drop_index("ix_gateway_analytics_events_buyer_id", table_name="gateway_analytics_events")
    op.drop_index("ix_gateway_analytics_events_conversation_id", table_name="gateway_analytics_events")
    op.drop_table("gateway_analytics_events")
