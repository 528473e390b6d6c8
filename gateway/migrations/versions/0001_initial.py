"""gateway: kernel tables (webhooks and API keys come with the integration API)

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlmodel  # noqa: F401
from alembic import op

from kaohe.migrate import create_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
S = "gateway"


def upgrade() -> None:
    create_kernel_tables(op, S)


def downgrade() -> None:
    for t in ("dead_letter", "inbox", "outbox"):
        op.drop_table(t, schema=S)
