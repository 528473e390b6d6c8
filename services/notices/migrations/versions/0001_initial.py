"""notices: kernel tables, recipients, inbox rows, email deliveries and their attempts, 填报 tracking

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from kaohe.migrate import create_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
S = "notices"
TEXTS = pg.ARRAY(sa.Text)


def upgrade() -> None:
    create_kernel_tables(op, S)
    op.create_table(  # 通讯录: who hears what, filled by the users' preferences and the office's import
        "recipient",
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("unit_id", sa.String(40), nullable=False, index=True),
        sa.Column("org_path", sa.String(1000), nullable=False),
        sa.Column("roles", TEXTS, nullable=False),
        sa.Column("codes", TEXTS, nullable=False, server_default="{}"),
        sa.Column("email", sa.String(254)),
        sa.Column("channels", TEXTS, nullable=False, server_default="{inbox,email}"),
        sa.Column("quiet_start", sa.Time),
        sa.Column("quiet_end", sa.Time),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.execute(f'CREATE INDEX recipient_path ON {S}.recipient (org_path COLLATE "C")')
    op.create_table(  # 站内信: one row per (rule, source, recipient), the inbox channel itself
        "notice",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("dedup", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("unit_id", sa.String(40)),
        sa.Column("unit_path", sa.String(1000)),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.execute(f"CREATE INDEX notice_inbox ON {S}.notice (user_id, id DESC)")
    op.execute(f"CREATE INDEX notice_unread ON {S}.notice (user_id) WHERE read_at IS NULL")
    op.create_table(  # 邮件投递: one per notice and channel, claimed with SKIP LOCKED, retried
        "delivery",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("notice_id", sa.BigInteger, sa.ForeignKey(f"{S}.notice.id"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("unit_path", sa.String(1000)),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("notice_id", "channel"),
        schema=S,
    )
    op.execute(f"CREATE INDEX delivery_due ON {S}.delivery (not_before) WHERE status = 'pending'")
    op.create_table(  # every try, kept: when, and what the SMTP server said
        "delivery_attempt",
        sa.Column("delivery_id", sa.BigInteger, sa.ForeignKey(f"{S}.delivery.id"), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        schema=S,
    )
    op.create_table(  # a published scheme's roster: which leaves each unit fills (from scheme.published)
        "roster",
        sa.Column("scheme_id", sa.String(200), primary_key=True),
        sa.Column("unit_id", sa.String(40), primary_key=True),
        sa.Column("assessing_unit", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("unit_name", sa.Text, nullable=False),
        sa.Column("unit_path", sa.String(1000), nullable=False),
        sa.Column("codes", TEXTS, nullable=False),
        schema=S,
    )
    op.create_table(  # what each unit has handed in (submission.submitted|approved, submissions.imported)
        "filed",
        sa.Column("scheme_id", sa.String(200), primary_key=True),
        sa.Column("unit_id", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        schema=S,
    )


def downgrade() -> None:
    for t in ("filed", "roster", "delivery_attempt", "delivery", "notice", "recipient"):
        op.drop_table(t, schema=S)
    for t in ("dead_letter", "inbox", "outbox"):
        op.drop_table(t, schema=S)
