"""Indicators tables (schema `indicators`): versioned units, categories, schemes, submissions, evidence.

Most queries are set-based SQL in the repositories; these models document the columns and serve the few
single-row ORM reads and writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, func
from sqlmodel import Field, SQLModel

SCHEMA = "indicators"


def _now() -> datetime:
    return datetime.now(UTC)


class Unit(SQLModel, table=True):  # 被考核单位 / 组织: the current version, for fast scope checks
    __tablename__ = "unit"
    __table_args__ = (
        Index("unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        {"schema": SCHEMA},
    )
    id: str = Field(primary_key=True, max_length=40, description="administrative-division style code")
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    parent_id: str | None = Field(default=None, max_length=40, index=True)
    path: str = Field(max_length=1000, description="materialized path /root/…/id/")
    valid_from: date
    valid_to: date | None = None
    status: str = Field(default="active", max_length=10)  # active | closed
    version: int = 1
    created_at: datetime = Field(default_factory=_now)


class UnitVersion(SQLModel, table=True):  # 组织沿革: one row per validity interval of a unit
    __tablename__ = "unit_version"
    __table_args__ = {"schema": SCHEMA}
    seq: int | None = Field(default=None, primary_key=True)
    unit_id: str = Field(max_length=40)
    version: int
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)
    parent_id: str | None = Field(default=None, max_length=40)
    path: str = Field(max_length=1000)  # COLLATE "C": one btree serves prefix LIKE and ORDER BY
    valid_from: date
    valid_to: date | None = None  # exclusive; NULL = open
    change: str = Field(max_length=20)
    lineage: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now)


class SchemeRow(SQLModel, table=True):  # 考核方案 (one version)
    __tablename__ = "scheme"
    __table_args__ = {"schema": SCHEMA}
    id: str = Field(primary_key=True, max_length=64)
    assessing_unit: str = Field(max_length=40)
    year: int
    version: int
    status: str = Field(default="draft", max_length=12)  # draft | published | superseded
    name: str = ""
    second_review: bool = False  # 考核办 second review level after the responsible department
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    units: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))  # roster at publish
    revision: int = 1
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    published_at: datetime | None = None
    published_by: str | None = None


class Category(SQLModel, table=True):  # 分类
    __tablename__ = "category"
    __table_args__ = {"schema": SCHEMA}
    assessing_unit: str = Field(primary_key=True, max_length=40)
    year: int = Field(primary_key=True)
    name: str = Field(primary_key=True, max_length=60)
    description: str = ""
    position: int = 0


class CategoryMember(SQLModel, table=True):  # 分类成员
    __tablename__ = "category_member"
    __table_args__ = {"schema": SCHEMA}
    assessing_unit: str = Field(primary_key=True, max_length=40)
    year: int = Field(primary_key=True)
    unit_id: str = Field(primary_key=True, max_length=40)
    category: str = Field(max_length=60)


class Submission(SQLModel, table=True):  # 填报
    __tablename__ = "submission"
    __table_args__ = {"schema": SCHEMA}
    id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(max_length=40)  # looked up through submission_key (unit_id, assessing_unit, …)
    scheme_id: str | None = Field(default=None, max_length=64)
    scheme_version: int | None = None
    assessing_unit: str = Field(default="", max_length=40)
    code: str = Field(max_length=64)
    period: str = Field(max_length=20)
    value: float | None = None
    grade: str | None = None
    # the constants of a new submission have server defaults too (0004): the bulk COPY leaves them out
    narrative: str = Field(default="", sa_column_kwargs={"server_default": ""})
    status: str = Field(default="submitted", max_length=20, sa_column_kwargs={"server_default": "submitted"})
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    review_level: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    final: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    flags: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    submitted_by: str = Field(max_length=100)
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    reason: str | None = None
    # the bulk import whose value the row holds; cleared when the value is changed by hand (trigger, 0004)
    import_id: str | None = None
    created_at: datetime = Field(default_factory=_now, sa_column_kwargs={"server_default": func.now()})


class SubmissionLog(SQLModel, table=True):  # 填报审核记录
    __tablename__ = "submission_log"
    __table_args__ = {"schema": SCHEMA}
    seq: int | None = Field(default=None, primary_key=True)
    submission_id: str = Field(max_length=64, index=True)
    version: int
    action: str = Field(max_length=20)  # submitted | updated | approved | reviewed | rejected | reopened
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=_now)
    reason: str | None = None
    value: float | None = None
    grade: str | None = None


class Evidence(SQLModel, table=True):  # 佐证材料
    __tablename__ = "evidence"
    __table_args__ = {"schema": SCHEMA}
    id: str = Field(primary_key=True, max_length=64)
    submission_id: str = Field(max_length=64, index=True)
    unit_id: str = Field(max_length=40, index=True)
    key: str = Field(max_length=500)
    filename: str = Field(max_length=300)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=20)  # pending → verified | mismatch; tampered
    locked: bool = False
    version_id: str | None = Field(default=None, max_length=200)  # the S3 version verified at confirm
    created_at: datetime = Field(default_factory=_now)


class BulkImport(SQLModel, table=True):  # 批量导入: idempotency record per client key
    __tablename__ = "bulk_import"
    __table_args__ = {"schema": SCHEMA}
    assessing_unit: str = Field(primary_key=True, max_length=40)
    client_key: str = Field(primary_key=True, max_length=100)
    id: str = Field(max_length=64)
    digest: str = Field(max_length=64)
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_now)
    seq: int | None = Field(default=None, description="identity; bulk_import_value.import_seq")
    period: str = Field(default="", max_length=20)
    filename: str = Field(default="", max_length=200)
    rows: int = 0


class BulkImportValue(SQLModel, table=True):  # 导入明细: a value an import wrote that has since been replaced
    __tablename__ = "bulk_import_value"
    __table_args__ = {"schema": SCHEMA}
    import_seq: int = Field(primary_key=True)  # no key in the table (BRIN only); the ORM needs one
    unit_id: str = Field(primary_key=True, max_length=40)
    code: str = Field(primary_key=True, max_length=64)
    version: int
    value: float | None = None
    grade: str | None = None
