"""notices: leaner fan-out writes — no foreign key from delivery to notice, no separate unread index

Every delivery row is written in the same statement as its notice (or right after it, in the same
transaction), so the key check only cost a lookup per row of a warning wave; unread counts use the inbox
index (user_id, id DESC) with the read_at filter.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
S = "notices"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.delivery DROP CONSTRAINT IF EXISTS delivery_notice_id_fkey")
    op.execute(f"DROP INDEX IF EXISTS {S}.notice_unread")


def downgrade() -> None:
    op.execute(f"CREATE INDEX notice_unread ON {S}.notice (user_id) WHERE read_at IS NULL")
    op.execute(
        f"ALTER TABLE {S}.delivery ADD CONSTRAINT delivery_notice_id_fkey"
        f" FOREIGN KEY (notice_id) REFERENCES {S}.notice (id)"
    )
