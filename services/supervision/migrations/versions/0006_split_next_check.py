"""supervision: the next check split by kind, so a calendar correction can remap it (domain.recalc)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # counted from a past moment / a deadline date's first working day; rows assessed before these columns
    # existed are not recomputable (a correction queues them for a full re-evaluation) until assessed again
    op.execute(
        "ALTER TABLE supervision.item ADD COLUMN next_counted timestamptz, ADD COLUMN next_anchor date,"
        " ADD COLUMN recomputable boolean NOT NULL DEFAULT false"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE supervision.item DROP COLUMN next_counted, DROP COLUMN next_anchor, DROP COLUMN recomputable"
    )
