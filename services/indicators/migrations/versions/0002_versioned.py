"""indicators: unit versions, categories, schemes, submission review fields and log, bulk imports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
S = "indicators"


def upgrade() -> None:
    op.add_column("unit", sa.Column("status", sa.String(10), nullable=False, server_default="active"), schema=S)
    op.add_column("unit", sa.Column("version", sa.Integer, nullable=False, server_default="1"), schema=S)
    op.create_table(
        "unit_version",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("parent_id", sa.String(40)),
        sa.Column("path", sa.String(1000, collation="C"), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("lineage", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("unit_id", "version"),
        schema=S,
    )
    # path first: a subtree is a prefix range; the interval columns filter inside the range
    op.create_index("unit_version_path", "unit_version", ["path", "valid_from", "valid_to"], schema=S)
    op.create_index("unit_version_parent", "unit_version", ["parent_id", "unit_id"], schema=S)
    op.create_index("unit_version_open", "unit_version", ["unit_id"], schema=S,
                    postgresql_where=sa.text("valid_to IS NULL"), unique=True)
    # existing units (from 0001) become their first version
    op.execute(
        f"INSERT INTO {S}.unit_version (unit_id, version, name, kind, parent_id, path, valid_from, valid_to,"
        f" change) SELECT id, 1, name, kind, parent_id, path, valid_from, valid_to, 'created' FROM {S}.unit"
    )
    op.create_table(
        "category",
        sa.Column("assessing_unit", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        schema=S,
    )
    op.create_table(
        "category_member",
        sa.Column("assessing_unit", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("unit_id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(60), nullable=False),
        schema=S,
    )
    op.create_table(
        "scheme",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("assessing_unit", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("second_review", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("units", sa.JSON),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("published_by", sa.String(100)),
        sa.UniqueConstraint("assessing_unit", "year", "version"),
        schema=S,
    )
    op.create_index("scheme_one_draft", "scheme", ["assessing_unit", "year"], schema=S, unique=True,
                    postgresql_where=sa.text("status = 'draft'"))
    # submissions: keyed by unit × assessing unit × code × period; standalone indicators use ''
    op.add_column("submission", sa.Column("scheme_id", sa.String(64)), schema=S)
    op.add_column("submission", sa.Column("scheme_version", sa.Integer), schema=S)
    op.add_column("submission", sa.Column("assessing_unit", sa.String(40), nullable=False, server_default=""),
                  schema=S)
    op.add_column("submission", sa.Column("code", sa.String(64)), schema=S)
    op.add_column("submission", sa.Column("grade", sa.String(40)), schema=S)
    op.add_column("submission", sa.Column("review_level", sa.Integer, nullable=False, server_default="0"), schema=S)
    op.add_column("submission", sa.Column("final", sa.Boolean, nullable=False, server_default=sa.false()), schema=S)
    op.add_column("submission", sa.Column("flags", sa.JSON, nullable=False, server_default="[]"), schema=S)
    op.add_column("submission", sa.Column("import_id", sa.String(64)), schema=S)
    op.execute(f"UPDATE {S}.submission s SET code = i.code FROM {S}.indicator i WHERE i.id = s.indicator_id")
    op.alter_column("submission", "code", nullable=False, schema=S)
    op.alter_column("submission", "value", nullable=True, schema=S)
    op.alter_column("submission", "indicator_id", nullable=True, schema=S)
    op.drop_constraint("submission_unit_id_indicator_id_period_key", "submission", schema=S)
    op.create_unique_constraint("submission_key", "submission", ["unit_id", "assessing_unit", "code", "period"],
                                schema=S)
    op.create_index("submission_scope", "submission", ["assessing_unit", "period", "code"], schema=S)
    op.create_table(
        "submission_log",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("submission_id", sa.String(64), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("reason", sa.Text),
        sa.Column("value", sa.Float),
        sa.Column("grade", sa.String(40)),
        schema=S,
    )
    op.create_table(
        "bulk_import",
        sa.Column("assessing_unit", sa.String(40), primary_key=True),
        sa.Column("client_key", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )


def downgrade() -> None:
    for t in ("bulk_import", "submission_log", "scheme", "category_member", "category", "unit_version"):
        op.drop_table(t, schema=S)
    op.drop_constraint("submission_key", "submission", schema=S)
    op.drop_index("submission_scope", "submission", schema=S)
    for c in ("scheme_id", "scheme_version", "assessing_unit", "code", "grade", "review_level", "final",
              "flags", "import_id"):
        op.drop_column("submission", c, schema=S)
    op.create_unique_constraint(None, "submission", ["unit_id", "indicator_id", "period"], schema=S)
    op.drop_column("unit", "status", schema=S)
    op.drop_column("unit", "version", schema=S)
