"""Scoring tables (schema `scoring`): leaf scores and unit totals per period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

SCHEMA = "scoring"


def _now() -> datetime:
    return datetime.now(UTC)


class LeafScore(SQLModel, table=True):  # 指标得分
    __tablename__ = "leaf_score"
    __table_args__ = {"schema": SCHEMA}
    unit_id: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=20)
    indicator_code: str = Field(primary_key=True, max_length=64)
    unit_path: str = Field(max_length=1000)
    value: float
    target: float | None = None
    weight: float
    score: float
    detail: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source_event: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=_now)


class UnitScore(SQLModel, table=True):  # 单位总分
    __tablename__ = "unit_score"
    __table_args__ = {"schema": SCHEMA}
    unit_id: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=20)
    unit_path: str = Field(max_length=1000, index=True)
    total: float
    leaves: int
    version: int = 1
    updated_at: datetime = Field(default_factory=_now)
