"""Refunds booked, one row each, keyed by the marketplace's refund id: a retried request books
nothing twice (PRODUCT.md rule 9).

Revision ID: backend_0003
Revises: backend_0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "backend_0003"
down_revision = "backend_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("refunded_at", sa.DateTime, nullable=False),
        sa.Column("fees_reversed", sa.Numeric(12, 2), nullable=False),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_refunds_order_id", table_name="refunds")
    op.drop_table("refunds")
