"""Signals from scoring (督考合一): the latest state of each warning, and the score changes seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def warning_newer(
    s: AsyncSession, unit_id: str, code: str, period: str, *, raised: bool, at: datetime
) -> bool:
    """Record a warning's state if this event is newer than the one stored; False for a stale one."""
    res = await s.execute(
        text(
            "INSERT INTO warning_state AS w (unit_id, code, period, raised, event_time)"
            " VALUES (:u, :c, :p, :r, :t) ON CONFLICT (unit_id, code, period) DO UPDATE SET"
            " raised = EXCLUDED.raised, event_time = EXCLUDED.event_time"
            " WHERE w.event_time < EXCLUDED.event_time RETURNING 1"
        ),
        {"u": unit_id, "c": code, "p": period, "r": raised, "t": at},
    )
    return res.first() is not None


async def raised_elsewhere(s: AsyncSession, unit_id: str, code: str) -> bool:
    """Is any period's warning for (unit, code) still raised?"""
    res = await s.execute(
        text("SELECT 1 FROM warning_state WHERE unit_id = :u AND code = :c AND raised LIMIT 1"),
        {"u": unit_id, "c": code},
    )
    return res.first() is not None


async def record_score_signal(s: AsyncSession, row: dict[str, Any]) -> None:
    await s.execute(
        text(
            "INSERT INTO assessment_signal"
            " (event_id, unit_id, unit_path, period, total, payload, received_at)"
            " VALUES (:event_id, :unit_id, :unit_path, :period, :total, CAST(:payload AS json), :received_at)"
            " ON CONFLICT DO NOTHING"
        ),
        row,
    )


async def score_signals(s: AsyncSession, ids: list[str]) -> list[Any]:
    res = await s.execute(
        text("SELECT * FROM assessment_signal WHERE unit_id = ANY(:ids) ORDER BY received_at"), {"ids": ids}
    )
    return list(res.mappings())
