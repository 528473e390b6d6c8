"""supervision: the recheck queue (items a calendar change may move), so a correction writes no item rows

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-06
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A calendar correction used to set next_due = now on every affected item: a wide row with eight
    # indexes rewritten, then rewritten again by the sweep. The sweep now also takes items from this queue
    # and writes each row once.
    op.execute("CREATE TABLE supervision.recheck (item_id varchar(64) PRIMARY KEY, since timestamptz NOT NULL)")


def downgrade() -> None:
    op.execute("DROP TABLE supervision.recheck")
