"""scoring: the scorer's faults per book (retry with backoff, then quarantine) and the work they hold

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A book whose batch failed: retried after `retry_at`; after the last attempt, quarantined until an
    # operator retries it (scorer_retry). Its queued work waits in dirty_held meanwhile.
    op.execute(
        "CREATE TABLE scoring.book_fault (book int PRIMARY KEY, attempts int NOT NULL, error text NOT NULL,"
        " first_failed_at timestamptz NOT NULL DEFAULT now(), last_failed_at timestamptz NOT NULL DEFAULT"
        " now(), retry_at timestamptz, quarantined_at timestamptz)"
    )
    op.execute(
        "CREATE TABLE scoring.dirty_held (id bigserial PRIMARY KEY, book int NOT NULL, unit_no int NOT NULL,"
        " period varchar(12) NOT NULL, cause_event varchar(64), queued_at timestamptz NOT NULL)"
    )
    op.execute("CREATE INDEX dirty_held_book ON scoring.dirty_held (book, id)")


def downgrade() -> None:
    op.execute("DROP TABLE scoring.dirty_held")
    op.execute("DROP TABLE scoring.book_fault")
