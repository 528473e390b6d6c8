"""scoring: kernel tables, leaf scores, unit totals

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
S = "scoring"


def upgrade() -> None:
    create_kernel_tables(op, S)
    op.create_table(
        "leaf_score",
        sa.Column("unit_id", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("indicator_code", sa.String(64), primary_key=True),
        sa.Column("unit_path", sa.String(1000), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("target", sa.Float),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("source_event", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "unit_score",
        sa.Column("unit_id", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("unit_path", sa.String(1000), nullable=False, index=True),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("leaves", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for t in ("unit_score", "leaf_score", "dead_letter", "inbox", "outbox"):
        op.drop_table(t, schema=S)
