"""Event consumers: each validates its contract model and hands it to service.inputs; no SQL here.

One durable consumer, `results`, so that a scheme's assessing unit and its units are stored before the
snapshots published after them: `kaohe.scoring.results.published` (the only source of results — the
preliminary `score.updated` is never read), `kaohe.indicators.scheme.published` (scheme → 考核主体) and
`kaohe.indicators.unit.changed` (unit paths for scoping).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import SchemePublished, UnitChanged
from kaohe.contracts.scoring import ResultsPublished
from kaohe.events import CloudEvent
from kaohe.runtime import Runtime
from services.rewards.service import inputs

TYPES = [ResultsPublished.TYPE, SchemePublished.TYPE, UnitChanged.TYPE]


def subscribe(rt: Runtime, *, levels: int, apply_now: bool) -> None:
    async def one(s: AsyncSession, event: CloudEvent) -> None:
        if event.type == ResultsPublished.TYPE:
            e = ResultsPublished.from_event(event)
            await inputs.results_published(s, e, outbox=rt.outbox, levels=levels, apply_now=apply_now)
        elif event.type == SchemePublished.TYPE:
            sp = SchemePublished.from_event(event)
            await inputs.scheme_published(s, sp, outbox=rt.outbox, levels=levels, apply_now=apply_now)
        elif event.type == UnitChanged.TYPE:
            await inputs.unit_changed(s, UnitChanged.from_event(event))

    rt.subscribe("results", TYPES, one)
