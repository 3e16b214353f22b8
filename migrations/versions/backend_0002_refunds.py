"""Refunds on Pay Later draws: the time of the latest refund booked (PRODUCT.md rule 9).

Revision ID: backend_0002
Revises: backend_0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "backend_0002"
down_revision = "backend_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.add_column(sa.Column("refunded_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draws") as batch:
        batch.drop_column("refunded_at")
