"""Event consumers: each validates its contract model and hands it to service.intake or .items; no SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import (
    SchemePublished,
    SubmissionApproved,
    SubmissionsImported,
    SubmissionSubmitted,
)
from kaohe.contracts.scoring import ObjectionAnswered, ObjectionFiled, WarningRaised
from kaohe.contracts.supervision import BreachRecorded, CardIssued, ItemChanged, ItemClosed, ItemOpened
from kaohe.events import CloudEvent
from kaohe.runtime import Runtime
from services.notices.domain import rules, supervision
from services.notices.repository.connection import raw
from services.notices.service import intake, items
from services.notices.service.fanout import Timing
from services.notices.service.push import Pusher

TYPES = [
    WarningRaised.TYPE,
    SubmissionSubmitted.TYPE,
    SubmissionApproved.TYPE,
    SubmissionsImported.TYPE,
    SchemePublished.TYPE,
    ItemOpened.TYPE,
    ItemChanged.TYPE,
    ItemClosed.TYPE,
    CardIssued.TYPE,
    BreachRecorded.TYPE,
    ObjectionFiled.TYPE,
    ObjectionAnswered.TYPE,
]
ITEMS = {  # item events: tracked (each unit's due day) whatever their age, notices only when fresh
    ItemOpened.TYPE: (ItemOpened, items.opened),
    ItemChanged.TYPE: (ItemChanged, items.changed),
    ItemClosed.TYPE: (ItemClosed, items.closed),
}
DRAFTED = {  # events whose rule makes one draft, stored and pushed alike
    CardIssued.TYPE: (CardIssued, supervision.card_issued),
    BreachRecorded.TYPE: (BreachRecorded, supervision.breach_recorded),
    ObjectionFiled.TYPE: (ObjectionFiled, rules.objection_filed),
    ObjectionAnswered.TYPE: (ObjectionAnswered, rules.objection_answered),
}


def subscribe(
    rt: Runtime, timing: Timing, pusher: Pusher, clock: Callable[[], datetime], max_age: timedelta
) -> None:
    """One durable consumer, `rules`: schemes arrive before the submissions published after them. An
    event older than `max_age` (a first start replaying the stream, a long outage) notifies nobody."""

    def fresh(event: CloudEvent) -> bool:
        return clock() - event.time <= max_age

    async def one(s: AsyncSession, event: CloudEvent) -> None:
        c = await raw(s)
        if event.type == WarningRaised.TYPE:
            if not fresh(event):
                return
            pushed = await intake.warning(
                c, event.id, WarningRaised.from_event(event), now=clock(), timing=timing
            )
            await pusher.announce(s, pushed)
        elif event.type == SubmissionSubmitted.TYPE:
            sub = SubmissionSubmitted.from_event(event)
            if not fresh(event):
                await intake.filed(c, [sub])
                return
            await pusher.announce(s, await intake.submitted(c, event.id, sub, now=clock(), timing=timing))
        elif event.type == SubmissionApproved.TYPE:
            await intake.filed(c, [SubmissionApproved.from_event(event)])
        elif event.type == SubmissionsImported.TYPE:
            await intake.imported(c, SubmissionsImported.from_event(event))
        elif event.type == SchemePublished.TYPE:
            await intake.scheme(c, SchemePublished.from_event(event))
        elif event.type in ITEMS:
            model, step = ITEMS[event.type]
            pushed = await step(
                c,
                event.id,
                model.from_event(event),
                now=clock(),
                timing=timing,
                notify=fresh(event),  # type: ignore[arg-type]
            )
            await pusher.announce(s, pushed)
        elif event.type in DRAFTED and fresh(event):
            model, rule = DRAFTED[event.type]
            draft = rule(event.id, model.from_event(event))  # type: ignore[arg-type]
            await pusher.announce(s, await intake.draft(c, draft, now=clock(), timing=timing))

    async def many(s: AsyncSession, events: list[CloudEvent]) -> None:
        """A batch: its warnings, cards, breaches and objections fan out together (a warning wave, a
        sweep's burst of breaches) in as few statements as their audiences allow; the rest one by one."""
        drafts: list[rules.Draft] = []
        for e in events:
            if e.type == WarningRaised.TYPE:
                if fresh(e):
                    drafts.append(rules.warning(e.id, WarningRaised.from_event(e)))
            elif e.type in DRAFTED:
                if fresh(e):
                    model, rule = DRAFTED[e.type]
                    drafts.append(rule(e.id, model.from_event(e)))  # type: ignore[arg-type]
            else:
                await one(s, e)
        if drafts:
            pushed = await intake.drafts(await raw(s), drafts, now=clock(), timing=timing)
            await pusher.announce(s, pushed)

    rt.subscribe("rules", TYPES, one, many)
