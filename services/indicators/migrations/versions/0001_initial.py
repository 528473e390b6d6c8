"""indicators: kernel tables, units, indicators, submissions, evidence

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
S = "indicators"


def upgrade() -> None:
    create_kernel_tables(op, S)
    op.create_table(
        "unit",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("parent_id", sa.String(40), index=True),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("unit_path", "unit", ["path"], schema=S, postgresql_ops={"path": "text_pattern_ops"})
    op.create_table(
        "indicator",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_of_measure", sa.String(30), nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("target", sa.Float),
        sa.Column("standard", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "submission",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(40), nullable=False, index=True),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("narrative", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit_id", "indicator_id", "period"),
        schema=S,
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("submission_id", sa.String(64), nullable=False, index=True),
        sa.Column("unit_id", sa.String(40), nullable=False, index=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for t in ("evidence", "submission", "indicator", "unit", "dead_letter", "inbox", "outbox"):
        op.drop_table(t, schema=S)
