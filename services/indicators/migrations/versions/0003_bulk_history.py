"""indicators: per-import value history (BRIN), import period/seq, drop the redundant submission(unit_id) index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
S = "indicators"


def upgrade() -> None:
    # submission_key (unit_id, assessing_unit, code, period) already serves every lookup by unit_id
    op.drop_index("ix_indicators_submission_unit_id", "submission", schema=S)
    op.add_column("bulk_import", sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False), schema=S)
    op.create_unique_constraint("bulk_import_seq", "bulk_import", ["seq"], schema=S)
    op.add_column("bulk_import", sa.Column("period", sa.String(20), nullable=False, server_default=""), schema=S)
    op.add_column("bulk_import", sa.Column("filename", sa.String(200), nullable=False, server_default=""),
                  schema=S)
    op.add_column("bulk_import", sa.Column("rows", sa.Integer, nullable=False, server_default="0"), schema=S)
    op.create_index("bulk_import_period", "bulk_import", ["assessing_unit", "period"], schema=S)
    # what each import wrote (one row per value, no btree): rows of one import are contiguous, so a BRIN
    # on import_seq finds them; a submission's history reads its imports' rows from here
    op.create_table(
        "bulk_import_value",
        sa.Column("import_seq", sa.BigInteger, nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("grade", sa.String(40)),
        schema=S,
    )
    op.execute(f"CREATE INDEX bulk_import_value_seq ON {S}.bulk_import_value USING brin (import_seq)")


def downgrade() -> None:
    op.drop_table("bulk_import_value", schema=S)
    op.drop_index("bulk_import_period", "bulk_import", schema=S)
    for c in ("rows", "filename", "period", "seq"):
        op.drop_column("bulk_import", c, schema=S)
    op.create_index("ix_indicators_submission_unit_id", "submission", ["unit_id"], schema=S)
