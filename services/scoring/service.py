"""Scoring service: consumes approvals, scores the leaf, rolls up the unit total, publishes the change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.events import CloudEvent, event_type, new_event
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from services.scoring.leaf import score_leaf
from services.scoring.models import LeafScore, UnitScore

SERVICE = "scoring"
APPROVED = event_type("indicators", "submission", "approved")


class ScoresQuery(BaseModel):
    ids: list[str] = Field(max_length=1000)
    period: str | None = None


class ScorePublic(BaseModel):
    unit_id: str
    period: str
    total: float
    leaves: int
    version: int
    updated_at: datetime


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    rt = Runtime(settings, infra)
    rpc = rt.rpc_server()

    async def on_approved(s: AsyncSession, event: CloudEvent) -> None:
        d: dict[str, Any] = event.data
        ind = d["indicator"]
        score, detail = score_leaf(
            ind["standard"],
            value=d["value"],
            target=ind.get("target"),
            weight=ind["weight"],
            direction=ind.get("direction", "higher_better"),
        )
        detail["evidence"] = [e["id"] for e in d.get("evidence", [])]
        now = datetime.now(UTC)
        leaf = dict(
            unit_id=d["unit_id"],
            period=d["period"],
            indicator_code=ind["code"],
            unit_path=d["unit_path"],
            value=d["value"],
            target=ind.get("target"),
            weight=ind["weight"],
            score=score,
            detail=detail,
            source_event=event.id,
            updated_at=now,
        )
        await s.exec(
            pg_insert(LeafScore)
            .values(**leaf)
            .on_conflict_do_update(  # type: ignore[call-overload]
                index_elements=["unit_id", "period", "indicator_code"],
                set_={k: v for k, v in leaf.items() if k not in ("unit_id", "period", "indicator_code")},
            )
        )
        total, n = (
            await s.exec(
                select(func.sum(LeafScore.score), func.count()).where(  # type: ignore[call-overload]
                    LeafScore.unit_id == d["unit_id"], LeafScore.period == d["period"]
                )
            )
        ).one()
        row = (
            await s.exec(
                pg_insert(UnitScore)
                .values(  # type: ignore[call-overload]
                    unit_id=d["unit_id"],
                    period=d["period"],
                    unit_path=d["unit_path"],
                    total=total,
                    leaves=n,
                    version=1,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["unit_id", "period"],
                    set_={
                        "total": total,
                        "leaves": n,
                        "updated_at": now,
                        "version": UnitScore.version + 1,
                    },
                )
                .returning(UnitScore.version)
            )
        ).one()
        await rt.outbox.emit(
            s,
            new_event(
                SERVICE,
                "score",
                "updated",
                subject=f"{d['unit_id']}:{d['period']}",
                trace_id=event.traceid,
                data={
                    "unit_id": d["unit_id"],
                    "unit_path": d["unit_path"],
                    "unit_name": d.get("unit_name"),
                    "period": d["period"],
                    "total": round(total, 6),
                    "leaves": n,
                    "version": row[0],
                    "changed_indicator": ind["code"],
                    "leaf_score": score,
                    "cause_event": event.id,
                },
            ),
        )

    rt.subscribe("approvals", [APPROVED], on_approved)

    @rpc.method("scores_by_units", ScoresQuery)
    async def scores_by_units(caller: Caller, p: ScoresQuery) -> dict[str, ScorePublic | None]:
        assert rt.db is not None
        async with rt.db.uow() as s:
            q = select(UnitScore).where(col(UnitScore.unit_id).in_(p.ids))
            if p.period:
                q = q.where(UnitScore.period == p.period)
            rows = (await s.exec(q.order_by(col(UnitScore.period)))).all()
        out: dict[str, ScorePublic | None] = {i: None for i in p.ids}
        for r in rows:  # latest period wins when none is asked for
            if caller.covers(r.unit_path):
                out[r.unit_id] = ScorePublic.model_validate(r, from_attributes=True)
        return out

    return rt
