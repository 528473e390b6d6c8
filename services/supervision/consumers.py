"""Event consumers: each validates its contract model and hands it to service.signals; no SQL here.

One durable consumer, `score-signals` (its name from the walking skeleton, kept so the NATS permissions in
`infra/` stay valid), takes in stream order: scoring's `warning.raised|cleared` and `results.published`
(督考合一: items from assessment), the indicators service's `unit.changed` (the tree supervision scopes by)
and every `score.updated`, kept as an assessment signal (the gateway's `assessmentSignals`).
Duplicates are dropped by the inbox; reordered warnings by their event time (service.signals).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import UnitChanged
from kaohe.contracts.scoring import ResultsPublished, ScoreUpdated, WarningCleared, WarningRaised
from kaohe.events import CloudEvent
from kaohe.runtime import Runtime
from services.supervision.repository import signals as sig_repo
from services.supervision.service import signals
from services.supervision.service.context import Ctx


def subscribe(rt: Runtime, ctx: Ctx) -> None:
    async def on_event(s: AsyncSession, event: CloudEvent) -> None:
        if event.type == ScoreUpdated.TYPE:
            await on_score(s, event)
        elif event.type == UnitChanged.TYPE:
            await signals.unit_changed(s, UnitChanged.from_event(event))
        elif event.type == WarningRaised.TYPE:
            await signals.warning_raised(
                s, ctx, WarningRaised.from_event(event), at=event.time, event_id=event.id
            )
        elif event.type == WarningCleared.TYPE:
            await signals.warning_cleared(s, ctx, WarningCleared.from_event(event), at=event.time)
        elif event.type == ResultsPublished.TYPE:
            await signals.results_published(s, ctx, ResultsPublished.from_event(event))

    async def on_score(s: AsyncSession, event: CloudEvent) -> None:
        d = ScoreUpdated.from_event(event)
        await sig_repo.record_score_signal(
            s,
            {
                "event_id": event.id,
                "unit_id": d.unit_id,
                "unit_path": d.unit_path,
                "period": d.period,
                "total": d.total,
                "payload": event.to_bytes().decode(),
                "received_at": datetime.now(UTC),
            },
        )

    types = [ScoreUpdated.TYPE, UnitChanged.TYPE, WarningRaised.TYPE, WarningCleared.TYPE]
    types.append(ResultsPublished.TYPE)
    rt.subscribe("score-signals", types, on_event)
