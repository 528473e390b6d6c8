"""documents: the offices' 提示函 templates

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
S = "documents"


def upgrade() -> None:
    op.create_table(
        "letter_template",
        sa.Column("office_code", sa.String(20), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("letter_template", schema=S)
