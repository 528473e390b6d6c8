"""indicators: the walking skeleton's standalone indicators are gone (indicator table, submission.indicator_id)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
S = "indicators"


def upgrade() -> None:
    # Every value now belongs to a published scheme's leaf or data element (indicator_create was removed).
    op.drop_column("submission", "indicator_id", schema=S)
    op.drop_table("indicator", schema=S)


def downgrade() -> None:
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
    op.add_column("submission", sa.Column("indicator_id", sa.String(64), nullable=True), schema=S)
