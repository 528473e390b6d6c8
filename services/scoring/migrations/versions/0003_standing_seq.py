"""scoring: standings sequence (in-memory category standings, see places.py); assessing unit's path

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE scoring.standing_seq (book int NOT NULL, period varchar(12) NOT NULL,"
        " seq bigint NOT NULL, PRIMARY KEY (book, period))"
    )
    # The assessing unit's org path: office writes to a book need a caller whose subtree covers it.
    op.execute("ALTER TABLE scoring.book ADD COLUMN assessing_path varchar(1000)")


def downgrade() -> None:
    op.execute("ALTER TABLE scoring.book DROP COLUMN assessing_path")
    op.execute("DROP TABLE scoring.standing_seq")
