"""Supervision service (督查督办). Walking skeleton: it records each score change as an assessment
signal (督考合一: findings from assessment feed supervision); opening and closing items comes later."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column
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


class AssessmentSignal(SQLModel, table=True):  # 考核发现的线索
    __tablename__ = "assessment_signal"
    __table_args__ = {"schema": "supervision"}
    event_id: str = SField(primary_key=True, max_length=64)
    unit_id: str = SField(max_length=40, index=True)
    unit_path: str = SField(max_length=1000)
    period: str = SField(max_length=20)
    total: float
    payload: dict = SField(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    received_at: datetime


class SignalPublic(BaseModel):
    event_id: str
    unit_id: str
    period: str
    total: float
    received_at: datetime


class UnitIds(BaseModel):
    ids: list[str] = Field(max_length=1000)


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    rt = Runtime(settings, infra)

    async def on_score(s: AsyncSession, event: CloudEvent) -> None:
        d = ScoreUpdated.from_event(event)
        await s.exec(
            pg_insert(AssessmentSignal).values(  # type: ignore[call-overload]
                event_id=event.id,
                unit_id=d.unit_id,
                unit_path=d.unit_path,
                period=d.period,
                total=d.total,
                payload=event.data,
                received_at=datetime.now(UTC),
            )
        )

    rt.subscribe("score-signals", [SCORE_UPDATED], on_score)

    @rt.rpc_server().method("signals_by_units", UnitIds)
    async def signals_by_units(caller: Caller, p: UnitIds) -> dict[str, list[SignalPublic]]:
        assert rt.db is not None
        async with rt.db.uow() as s:
            rows = (
                await s.exec(
                    select(AssessmentSignal)
                    .where(col(AssessmentSignal.unit_id).in_(p.ids))
                    .order_by(col(AssessmentSignal.received_at))
                )
            ).all()
        out: dict[str, list[SignalPublic]] = {i: [] for i in p.ids}
        for r in rows:
            if caller.covers(r.unit_path):
                out[r.unit_id].append(SignalPublic.model_validate(r, from_attributes=True))
        return out

    return rt
