"""Rewards service (结果运用). Walking skeleton: it keeps the durable results record (实绩档案) of each
unit's score changes; pay, honours and cadre decisions come later."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Field as SField
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.scoring import ScoreUpdated
from kaohe.events import CloudEvent
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings

SCORE_UPDATED = ScoreUpdated.TYPE


class ResultRecord(SQLModel, table=True):  # 实绩档案条目
    __tablename__ = "result_record"
    __table_args__ = {"schema": "rewards"}
    id: int | None = SField(default=None, primary_key=True)
    source_event: str = SField(max_length=64, unique=True)
    unit_id: str = SField(max_length=40, index=True)
    unit_path: str = SField(max_length=1000)
    period: str = SField(max_length=20)
    total: float
    score_version: int
    recorded_at: datetime


class RecordPublic(BaseModel):
    unit_id: str
    period: str
    total: float
    score_version: int
    recorded_at: datetime


class RecordQuery(BaseModel):
    ids: list[str] = Field(max_length=1000)


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    rt = Runtime(settings, infra)

    async def on_score(s: AsyncSession, event: CloudEvent) -> None:
        d = ScoreUpdated.from_event(event)
        await s.exec(
            pg_insert(ResultRecord).values(  # type: ignore[call-overload]
                source_event=event.id,
                unit_id=d.unit_id,
                unit_path=d.unit_path,
                period=d.period,
                total=d.total,
                score_version=d.version,
                recorded_at=datetime.now(UTC),
            )
        )

    rt.subscribe("results-record", [SCORE_UPDATED], on_score)

    @rt.rpc_server().method("records_by_units", RecordQuery)
    async def records_by_units(caller: Caller, p: RecordQuery) -> dict[str, list[RecordPublic]]:
        assert rt.db is not None
        async with rt.db.uow() as s:
            q = (
                select(ResultRecord)
                .where(col(ResultRecord.unit_id).in_(p.ids))
                .order_by(col(ResultRecord.id))
            )
            rows = (await s.exec(q)).all()
        out: dict[str, list[RecordPublic]] = {i: [] for i in p.ids}
        for r in rows:
            if caller.covers(r.unit_path):
                out[r.unit_id].append(RecordPublic.model_validate(r, from_attributes=True))
        return out

    return rt
