"""The gateway's events room: events acted on (dedup by event id), webhook delivery log,
leases for jobs, late-payment notices (once per payment).

Revision ID: gateway_0004_events
Revises: gateway_0003_workspace
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "gateway_0004_events"
down_revision = "gateway_0003_workspace"
branch_labels = None
depends_on = None


def _has(name: str) -> bool:
    # gateways started with schema "create" may already have the tables
    return sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _has("gateway_events"):
        return
    op.create_table(
        "gateway_events",
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "gateway_webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_gateway_webhook_deliveries_event_id", "gateway_webhook_deliveries", ["event_id"])
    op.create_table(
        "gateway_leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "gateway_late_notices",
        sa.Column("payment_key", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("notified_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_late_notices")
    op.drop_table("gateway_leases")
    op.drop_index("ix_gateway_webhook_deliveries_event_id", table_name="gateway_webhook_deliveries")
    op.drop_table("gateway_webhook_deliveries")
    op.drop_table("gateway_events")
