"""scoring: each published unit's row and explanation, frozen with the snapshot

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What a published period serves by default: the published figures and the explanation of them,
    # written once at publication (the live result rows keep moving with later inputs).
    op.execute(
        "CREATE TABLE scoring.snapshot_unit (book int NOT NULL, period varchar(12) NOT NULL,"
        " unit_id varchar(40) NOT NULL, snapshot_id varchar(40) NOT NULL, unit_path varchar(1000) NOT NULL,"
        ' category varchar(100) NOT NULL, total float8 NOT NULL, rank int, "of" int, grade varchar(10),'
        " last_place bool NOT NULL, vetoed bool NOT NULL, trace jsonb, trace_digest varchar(64),"
        " adds_up bool, PRIMARY KEY (book, period, unit_id))"
    )
    op.execute("CREATE INDEX snapshot_unit_unit ON scoring.snapshot_unit (unit_id, period)")
    op.execute(
        "CREATE TRIGGER snapshot_unit_immutable BEFORE UPDATE OR DELETE ON scoring.snapshot_unit"
        " FOR EACH ROW EXECUTE FUNCTION scoring.snapshot_immutable()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE scoring.snapshot_unit")
