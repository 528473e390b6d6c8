"""supervision: kernel tables and the walking-skeleton record table

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from kaohe.migrate import create_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
S = "supervision"


def upgrade() -> None:
    create_kernel_tables(op, S)
    op.create_table(
        "assessment_signal",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(40), nullable=False, index=True),
        sa.Column("unit_path", sa.String(1000), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for t in ("assessment_signal", "dead_letter", "inbox", "outbox"):
        op.drop_table(t, schema=S)
