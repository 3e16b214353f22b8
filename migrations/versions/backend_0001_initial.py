"""Payments backend: buyers, orders, payments, credit applications, lines, draws, disbursements.

Revision ID: backend_0001
Revises:
Create Date: 2025-01-01
"""
from alembic import op
import sqlalchemy as sa

revision = "backend_0001"
down_revision = None
branch_labels = ("backend",)
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    op.create_table(
        "buyers",
        sa.Column("buyer_id", sa.String(64), primary_key=True),
        sa.Column("business_name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("years_in_business", sa.Numeric(6, 2)),
        sa.Column("annual_revenue", MONEY),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(32), primary_key=True),
        sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False),
        sa.Column("trade_assurance", sa.Boolean, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("initial_amount", MONEY, nullable=False),
        sa.Column("placed_on", sa.Date),
        sa.CheckConstraint("initial_amount > 0 AND initial_amount <= total", name="ck_orders_initial"),
    )
    op.create_index("ix_orders_buyer_id", "orders", ["buyer_id"])
    op.create_table(
        "credit_applications",
        sa.Column("application_id", sa.String(40), primary_key=True),
        sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False, unique=True),
        sa.Column("business_name", sa.String(200), nullable=False),
        sa.Column("us_based", sa.Boolean, nullable=False),
        sa.Column("years_in_business", sa.Numeric(6, 2), nullable=False),
        sa.Column("annual_revenue", MONEY, nullable=False),
        sa.Column("requested_limit", MONEY, nullable=False),
        sa.Column("offered_limit", MONEY),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("lender", sa.String(40), nullable=False),
        sa.Column("updated_on", sa.Date),
    )
    op.create_table(
        "credit_lines",
        sa.Column("line_id", sa.String(40), primary_key=True),
        sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False, unique=True),
        sa.Column("lender", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("credit_limit", MONEY, nullable=False),
        sa.Column("used", MONEY, nullable=False),
        sa.Column("risk_tier", sa.String(8), nullable=False),
        sa.Column("qualified_on", sa.Date, nullable=False),
        sa.CheckConstraint("credit_limit > 0 AND credit_limit <= 150000", name="ck_lines_limit"),
        sa.CheckConstraint("used >= 0 AND used <= credit_limit", name="ck_lines_used"),
    )
    op.create_table(
        "draws",
        sa.Column("draw_id", sa.String(40), primary_key=True),
        sa.Column("line_id", sa.String(40), sa.ForeignKey("credit_lines.line_id"), nullable=False),
        sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("risk_tier", sa.String(8), nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("taken_at", sa.DateTime, nullable=False),
        sa.Column("agreement_id", sa.String(40), nullable=False),
        sa.Column("agreement_completed_on", sa.Date),
        sa.Column("principal_outstanding", MONEY, nullable=False),
        sa.Column("billed_fees", MONEY, nullable=False),
        sa.Column("fees_reversed", MONEY, nullable=False),
        sa.Column("refunded", MONEY, nullable=False),
        sa.UniqueConstraint("order_id", "stage", name="uq_draws_order_stage"),
    )
    op.create_index("ix_draws_line_id", "draws", ["line_id"])
    op.create_index("ix_draws_order_id", "draws", ["order_id"])
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(48), primary_key=True),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("paid_on", sa.Date),
        sa.Column("arrived_on", sa.Date),
        sa.Column("draw_id", sa.String(40), sa.ForeignKey("draws.draw_id")),
    )
    op.create_index("ix_payments_order_id", "payments", ["order_id"])
    op.create_table(
        "disbursements",
        sa.Column("disbursement_id", sa.String(40), primary_key=True),
        sa.Column("draw_id", sa.String(40), sa.ForeignKey("draws.draw_id"), nullable=False, unique=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("arrived_on", sa.Date),
        sa.Column("failed_on", sa.Date),
    )


def downgrade() -> None:
    for name in ("disbursements", "payments", "draws", "credit_lines", "credit_applications", "orders", "buyers"):
        op.drop_table(name)
