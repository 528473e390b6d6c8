"""scoring: drop the walking skeleton's standalone scores (leaf_score, unit_score)

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
    # Every score now comes from a published scheme (a one-leaf scheme for what was a standalone indicator).
    op.execute("DROP TABLE scoring.leaf_score")
    op.execute("DROP TABLE scoring.unit_score")


def downgrade() -> None:
    op.execute(
        "CREATE TABLE scoring.leaf_score (unit_id varchar(40) NOT NULL, period varchar(20) NOT NULL,"
        " indicator_code varchar(64) NOT NULL, unit_path varchar(1000) NOT NULL, value float8 NOT NULL,"
        " target float8, weight float8 NOT NULL, score float8 NOT NULL, detail json NOT NULL,"
        " source_event varchar(64) NOT NULL, updated_at timestamptz NOT NULL,"
        " PRIMARY KEY (unit_id, period, indicator_code))"
    )
    op.execute(
        "CREATE TABLE scoring.unit_score (unit_id varchar(40) NOT NULL, period varchar(20) NOT NULL,"
        " unit_path varchar(1000) NOT NULL, total float8 NOT NULL, leaves int NOT NULL, version int NOT NULL,"
        " updated_at timestamptz NOT NULL, PRIMARY KEY (unit_id, period))"
    )
    op.execute("CREATE INDEX ix_scoring_unit_score_unit_path ON scoring.unit_score (unit_path)")
