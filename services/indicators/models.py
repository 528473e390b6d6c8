"""Indicators tables (schema `indicators`): units, indicators, submissions (填报) and evidence (佐证材料)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

SCHEMA = "indicators"


def _now() -> datetime:
    return datetime.now(UTC)


class Unit(SQLModel, table=True):  # 被考核单位 / 组织
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
    created_at: datetime = Field(default_factory=_now)


class Indicator(SQLModel, table=True):  # 指标
    __tablename__ = "indicator"
    __table_args__ = {"schema": SCHEMA}
    id: str = Field(primary_key=True, max_length=64)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    unit_of_measure: str = Field(default="", max_length=30)
    direction: str = Field(default="higher_better", max_length=20)
    weight: float
    target: float | None = None
    standard: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now)


class Submission(SQLModel, table=True):  # 填报
    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("unit_id", "indicator_id", "period"), {"schema": SCHEMA})
    id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(max_length=40, index=True)
    indicator_id: str = Field(max_length=64)
    period: str = Field(max_length=20)
    value: float
    narrative: str = ""
    status: str = Field(default="submitted", max_length=20)
    version: int = 1
    submitted_by: str = Field(max_length=100)
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    reason: str | None = None
    created_at: datetime = Field(default_factory=_now)


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
    status: str = Field(default="pending", max_length=20)  # pending → verified | mismatch
    locked: bool = False
    created_at: datetime = Field(default_factory=_now)
