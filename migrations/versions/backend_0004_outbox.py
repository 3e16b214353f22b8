"""Outbox of buyer events and idempotency keys of the lender/marketplace API; disbursements.sent_on.

Revision ID: backend_0004_outbox
Revises: backend_0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "backend_0004_outbox"
down_revision = "backend_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disbursements") as batch:
        batch.add_column(sa.Column("sent_on", sa.Date))
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(32)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_outbox_buyer_id", "outbox", ["buyer_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_outbox_buyer_id", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("disbursements") as batch:
        batch.drop_column("sent_on")
