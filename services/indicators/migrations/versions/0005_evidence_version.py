"""indicators: evidence pinned to the object version verified at confirm; a byte-order index on unit.path

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
S = "indicators"


def upgrade() -> None:
    # The S3 version id whose bytes matched the declared SHA-256 at confirm: downloads and re-checks read
    # only that version, so a later PUT to the same key never changes what is served. NULL: confirmed
    # before 0005 (pinned at its next verified download) or not confirmed yet.
    op.add_column("evidence", sa.Column("version_id", sa.String(200), nullable=True), schema=S)
    # kaohe.contracts.paths selects a subtree as a COLLATE "C" range; text_pattern_ops serves only LIKE prefixes
    op.execute(f'CREATE INDEX unit_path_c ON {S}.unit ((path COLLATE "C"))')


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.unit_path_c")
    op.drop_column("evidence", "version_id", schema=S)
