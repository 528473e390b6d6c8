"""Tables of the documents service (schema `documents`): issued documents and the 文号 counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Document(SQLModel, table=True):  # 公文: one issued document, immutable once written
    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("office_code", "year", "seq"),)

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=20)
    office_code: str = Field(max_length=20)
    year: int
    seq: int  # gap-free per office_code and year
    number: str = Field(max_length=60)  # 文号
    title: str = Field(max_length=200)
    scheme_id: str | None = Field(default=None, max_length=64)
    period: str | None = Field(default=None, max_length=20)
    unit_id: str | None = Field(default=None, max_length=40)
    subject_path: str = Field(max_length=1000, index=True)
    audience: str = Field(max_length=10)  # subtree: the subject's ancestors and descendants; unit: ancestors
    status: str = Field(max_length=20)  # preliminary | published
    snapshot_id: str | None = Field(default=None, max_length=64)
    pages: int
    files: list[dict[str, object]] = Field(
        sa_column=Column(JSON, nullable=False)
    )  # format, key, sha256, size
    issued_by: str = Field(max_length=100)
    issued_at: datetime


class NumberCounter(SQLModel, table=True):  # 文号计数: the last number issued per office and year
    __tablename__ = "number_counter"

    office_code: str = Field(primary_key=True, max_length=20)
    year: int = Field(primary_key=True)
    last: int


class LetterTemplate(SQLModel, table=True):  # 提示函模板: the office's editable letter text
    __tablename__ = "letter_template"

    office_code: str = Field(primary_key=True, max_length=20)
    body: str
    updated_by: str = Field(max_length=100)
    updated_at: datetime
