"""SQLAlchemy Core tables of the payments backend (the migrations in migrations/versions/
create exactly these; an integration test compares them). Money is NUMERIC(12,2)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from bot.domain.money import money

metadata = sa.MetaData()



class DecimalType(sa.types.TypeDecorator):
    """NUMERIC(p,2) <-> Decimal rounded to the cent. SQLite has no decimal type (it stores a
    REAL); values up to 12 digits round-trip exactly through its repr, and Python code never
    sees a float."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 12, scale: int = 2):
        super().__init__(precision, scale)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(
            sa.Numeric(self.precision, self.scale, asdecimal=dialect.name != "sqlite"))

    def process_bind_param(self, value, dialect):
        return None if value is None else money(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return money(value if isinstance(value, Decimal) else Decimal(repr(value)))


Money = DecimalType(12, 2)

buyers = sa.Table(
    "buyers", metadata,
    sa.Column("buyer_id", sa.String(64), primary_key=True),
    sa.Column("business_name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("years_in_business", DecimalType(6, 2)),
    sa.Column("annual_revenue", Money),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("order_id", sa.String(32), primary_key=True),
    sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False, index=True),
    sa.Column("trade_assurance", sa.Boolean, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total", Money, nullable=False),
    sa.Column("initial_amount", Money, nullable=False),
    sa.Column("placed_on", sa.Date),
    sa.CheckConstraint("initial_amount > 0 AND initial_amount <= total", name="ck_orders_initial"),
)

credit_applications = sa.Table(
    "credit_applications", metadata,
    sa.Column("application_id", sa.String(40), primary_key=True),
    sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False, unique=True),
    sa.Column("business_name", sa.String(200), nullable=False),
    sa.Column("us_based", sa.Boolean, nullable=False),
    sa.Column("years_in_business", DecimalType(6, 2), nullable=False),
    sa.Column("annual_revenue", Money, nullable=False),
    sa.Column("requested_limit", Money, nullable=False),
    sa.Column("offered_limit", Money),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("lender", sa.String(40), nullable=False),
    sa.Column("updated_on", sa.Date),
)

credit_lines = sa.Table(
    "credit_lines", metadata,
    sa.Column("line_id", sa.String(40), primary_key=True),
    sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False, unique=True),
    sa.Column("lender", sa.String(40), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("credit_limit", Money, nullable=False),
    sa.Column("used", Money, nullable=False),
    sa.Column("risk_tier", sa.String(8), nullable=False),
    sa.Column("qualified_on", sa.Date, nullable=False),
    sa.CheckConstraint("credit_limit > 0 AND credit_limit <= 150000", name="ck_lines_limit"),
    sa.CheckConstraint("used >= 0 AND used <= credit_limit", name="ck_lines_used"),
)

draws = sa.Table(
    "draws", metadata,
    sa.Column("draw_id", sa.String(40), primary_key=True),
    sa.Column("line_id", sa.String(40), sa.ForeignKey("credit_lines.line_id"), nullable=False, index=True),
    sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False),
    sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False, index=True),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("risk_tier", sa.String(8), nullable=False),
    sa.Column("term_months", sa.Integer, nullable=False),
    sa.Column("taken_at", sa.DateTime, nullable=False),
    sa.Column("agreement_id", sa.String(40), nullable=False),
    sa.Column("agreement_completed_on", sa.Date),
    sa.Column("principal_outstanding", Money, nullable=False),
    sa.Column("billed_fees", Money, nullable=False),
    sa.Column("fees_reversed", Money, nullable=False),
    sa.Column("refunded", Money, nullable=False),
    sa.Column("refunded_at", sa.DateTime),  # the latest refund booked (UTC); migration backend_0002
    sa.UniqueConstraint("order_id", "stage", name="uq_draws_order_stage"),
)

payments = sa.Table(
    "payments", metadata,
    sa.Column("payment_id", sa.String(48), primary_key=True),
    sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False, index=True),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("method", sa.String(20), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("paid_on", sa.Date),
    sa.Column("arrived_on", sa.Date),
    sa.Column("draw_id", sa.String(40), sa.ForeignKey("draws.draw_id")),
)

disbursements = sa.Table(
    "disbursements", metadata,
    sa.Column("disbursement_id", sa.String(40), primary_key=True),
    sa.Column("draw_id", sa.String(40), sa.ForeignKey("draws.draw_id"), nullable=False, unique=True),
    sa.Column("amount", Money, nullable=False),
    sa.Column("arrived_on", sa.Date),
    sa.Column("failed_on", sa.Date),
    sa.Column("sent_on", sa.Date),  # the lender sent the money (migration backend_0004)
)

refunds = sa.Table(
    "refunds", metadata,
    sa.Column("refund_id", sa.String(64), primary_key=True),  # the marketplace's id: a retry books nothing twice
    sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.order_id"), nullable=False, index=True),
    sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("refunded_at", sa.DateTime, nullable=False),
    sa.Column("fees_reversed", Money, nullable=False),
)

# Events for the buyer (loan agreement completed, money sent/arrived, application decided, refund
# booked, statement issued), written in the same transaction as the change they report; the relay
# (bot.events.relay) delivers them at least once, in `seq` order. Migration backend_0004.
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(40), nullable=False, unique=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("buyer_id", sa.String(64), nullable=False, index=True),
    sa.Column("order_id", sa.String(32)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
)

# Lender/marketplace requests by Idempotency-Key: same key and body -> the stored answer.
idempotency_keys = sa.Table(
    "idempotency_keys", metadata,
    sa.Column("principal", sa.String(16), primary_key=True),  # "lender" | "marketplace"
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# children first: the order to delete in
TABLES_CHILD_FIRST = (idempotency_keys, outbox, refunds, disbursements, payments, draws, credit_lines, credit_applications, orders, buyers)
