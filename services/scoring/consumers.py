"""Event consumers: each validates its contract model and hands it to service.inputs; no SQL here."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import (
    SchemePublished,
    SubmissionApproved,
    SubmissionEvent,
    SubmissionReopened,
    UnitChanged,
)
from kaohe.contracts.supervision import SupervisionResultScored
from kaohe.events import CloudEvent
from kaohe.runtime import Runtime
from services.scoring.service import inputs

SUBMISSIONS: dict[str, type[SubmissionEvent]] = {
    SubmissionApproved.TYPE: SubmissionApproved,
    SubmissionReopened.TYPE: SubmissionReopened,
}
TYPES = [SchemePublished.TYPE, *SUBMISSIONS, UnitChanged.TYPE, SupervisionResultScored.TYPE]


def submissions(events: list[CloudEvent]) -> list[tuple[str, SubmissionEvent]]:
    """(event id, payload) of approvals and reopenings, in order."""
    return [(e.id, SUBMISSIONS[e.type].model_validate(e.data)) for e in events]


async def handle(s: AsyncSession, event: CloudEvent, ids: inputs.Interned) -> None:
    """One input event of any type."""
    if event.type == SchemePublished.TYPE:
        scheme = SchemePublished.from_event(event)
        await inputs.store_scheme(s, scheme, body=event.data["scheme"], cause=event.id)
    elif event.type in SUBMISSIONS:
        await inputs.record_values(s, submissions([event]), ids)
    elif event.type == UnitChanged.TYPE:
        await inputs.apply_unit_change(s, UnitChanged.from_event(event))
    elif event.type == SupervisionResultScored.TYPE:
        await inputs.record_supervision(s, SupervisionResultScored.from_event(event), cause=event.id)


async def handle_many(s: AsyncSession, events: list[CloudEvent], ids: inputs.Interned) -> None:
    """In stream order; each run of approvals and reopenings goes in together, and so does each run of
    平时督查 results (a sweep's cards rescore many units at once)."""
    run: list[CloudEvent] = []

    async def flush() -> None:
        if run and run[0].type in SUBMISSIONS:
            await inputs.record_values(s, submissions(run), ids)
        elif run:
            await inputs.record_supervision_many(
                s, [(e.id, SupervisionResultScored.from_event(e)) for e in run]
            )
        run.clear()

    for event in events:
        batched = event.type in SUBMISSIONS or event.type == SupervisionResultScored.TYPE
        if run and (not batched or (event.type in SUBMISSIONS) != (run[0].type in SUBMISSIONS)):
            await flush()
        if batched:
            run.append(event)
        else:
            await handle(s, event, ids)
    await flush()


def subscribe(rt: Runtime) -> None:
    """One durable consumer keeps schemes ahead of the approvals published after them."""
    ids = inputs.Interned()

    async def one(s: AsyncSession, event: CloudEvent) -> None:
        await handle(s, event, ids)

    async def many(s: AsyncSession, events: list[CloudEvent]) -> None:
        await handle_many(s, events, ids)

    rt.subscribe("inputs", TYPES, one, many)
