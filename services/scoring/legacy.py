"""Standalone indicators (the walking skeleton): an approval carrying its own `indicator` block.

Scored as weight × completion ratio and summed per unit and period, as before schemes reached scoring.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.events import CloudEvent, Outbox, new_event
from services.scoring.leaf import score_leaf
from services.scoring.models import LeafScore, UnitScore


async def apply(s: AsyncSession, event: CloudEvent, outbox: Outbox, *, withdraw: bool = False) -> None:
    """Score (or, on reopen, remove) the inline leaf and re-sum the unit's period total."""
    d: dict[str, Any] = event.data
    ind = d["indicator"]
    now = datetime.now(UTC)
    key = dict(unit_id=d["unit_id"], period=d["period"], indicator_code=ind["code"])
    if withdraw:
        await s.exec(delete(LeafScore).filter_by(**key))  # type: ignore[call-overload]
        score = 0.0
    else:
        score, detail = score_leaf(
            ind.get("standard") or {},
            value=d["value"],
            target=ind.get("target"),
            weight=ind["weight"],
            direction=ind.get("direction", "higher_better"),
        )
        detail["evidence"] = [e["id"] for e in d.get("evidence", [])]
        leaf = dict(
            **key,
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
                set_={k: v for k, v in leaf.items() if k not in key},
            )
        )
    total, n = (
        await s.exec(
            select(func.coalesce(func.sum(LeafScore.score), 0.0), func.count()).where(  # type: ignore[call-overload]
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
                set_={"total": total, "leaves": n, "updated_at": now, "version": UnitScore.version + 1},
            )
            .returning(UnitScore.version)
        )
    ).one()
    await outbox.emit(
        s,
        new_event(
            "scoring",
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
