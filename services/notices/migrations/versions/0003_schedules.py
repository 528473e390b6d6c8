"""notices: each scheme's own 报送时限 on its roster; the open 督办事项 whose due days are reminded

A scheme published before this migration keeps the defaults of `kaohe.contracts.reporting.Reporting`
(due on the 5th working day, reminded 2 working days before), which were the service's settings until now.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
S = "notices"


def upgrade() -> None:
    op.add_column("roster", sa.Column("due_workdays", sa.Integer, nullable=False, server_default="5"), schema=S)
    op.add_column(
        "roster", sa.Column("remind_workdays", sa.Integer, nullable=False, server_default="2"), schema=S
    )
    op.create_table(  # 督办事项 as notices knows them (item.opened|changed|closed): whose due day is when
        "item_watch",
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False),  # the newest event applied; older ones are skipped
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("deadline", sa.Date),  # null: only its closing was heard
        sa.Column("unit_ids", pg.ARRAY(sa.Text), nullable=False),  # lead first
        sa.Column("unit_paths", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("dues", pg.ARRAY(sa.Date), nullable=False),  # parallel to unit_ids
        sa.Column("done", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),  # parts handed in
        schema=S,
    )
    # the sweep's scan: open items whose deadline (no unit's due day is later) has not passed
    op.execute(f"CREATE INDEX item_watch_due ON {S}.item_watch (deadline) WHERE open")


def downgrade() -> None:
    op.drop_table("item_watch", schema=S)
    op.drop_column("roster", "remind_workdays", schema=S)
    op.drop_column("roster", "due_workdays", schema=S)
