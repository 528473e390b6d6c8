"""documents: kernel tables, issued documents and the 文号 counters

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from kaohe.migrate import create_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
S = "documents"


def upgrade() -> None:
    create_kernel_tables(op, S)
    op.create_table(
        "document",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("number", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("scheme_id", sa.String(64)),
        sa.Column("period", sa.String(20)),
        sa.Column("unit_id", sa.String(40)),
        sa.Column("subject_path", sa.String(1000), nullable=False),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("snapshot_id", sa.String(64)),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("office_code", "year", "seq"),
        schema=S,
    )
    op.create_index("ix_document_subject_path", "document", ["subject_path"], schema=S)
    op.create_index("ix_document_issued", "document", ["issued_at", "id"], schema=S)
    op.create_table(
        "number_counter",
        sa.Column("office_code", sa.String(20), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for t in ("number_counter", "document", "dead_letter", "inbox", "outbox"):
        op.drop_table(t, schema=S)
