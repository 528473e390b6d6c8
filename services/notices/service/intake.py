"""Events in (事件接收): warnings and submissions become notices; schemes and submissions feed the 填报
tracking the deadline reminders read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from kaohe.contracts.indicators import SchemePublished, SubmissionEvent, SubmissionsImported
from kaohe.contracts.notices import PushedNotice
from kaohe.contracts.scheme import effective_leaves
from services.notices.domain import rules
from services.notices.repository import filing
from services.notices.service.fanout import Timing, deliver, deliver_many


async def warning(
    c: asyncpg.Connection, event_id: str, w: rules.WarningRaised, *, now: datetime, timing: Timing
) -> list[PushedNotice]:
    return (await deliver(c, rules.warning(event_id, w), now=now, timing=timing)).pushed


async def draft(
    c: asyncpg.Connection, d: rules.Draft, *, now: datetime, timing: Timing
) -> list[PushedNotice]:
    """Any rule's draft (the supervision rules): stored, timed and pushed like the others."""
    return (await deliver(c, d, now=now, timing=timing)).pushed


async def drafts(
    c: asyncpg.Connection, ds: list[rules.Draft], *, now: datetime, timing: Timing
) -> list[PushedNotice]:
    """Many drafts of one consumer batch (a warning wave) in as few statements as their audiences allow."""
    return (await deliver_many(c, ds, now=now, timing=timing)).pushed


async def submitted(
    c: asyncpg.Connection, event_id: str, s: rules.SubmissionSubmitted, *, now: datetime, timing: Timing
) -> list[PushedNotice]:
    """待审核 to the responsible departments, and the leaf counted as handed in."""
    await filed(c, [s])
    return (await deliver(c, rules.review(event_id, s), now=now, timing=timing)).pushed


async def filed(c: asyncpg.Connection, events: Sequence[SubmissionEvent]) -> None:
    """Submitted or approved values count as handed in for the deadline."""
    by_scheme: dict[str, list[tuple[str, str, str]]] = {}
    for e in events:
        if e.scheme_id:
            by_scheme.setdefault(e.scheme_id, []).append((e.unit_id, e.period, e.code))
    for scheme_id, rows in by_scheme.items():
        await filing.file(c, scheme_id, rows)


async def imported(c: asyncpg.Connection, e: SubmissionsImported) -> None:
    """A bulk import hands in its codes for each of its units."""
    await filing.file(c, e.scheme_id, [(u, e.period, k) for u in e.unit_ids for k in e.codes])


async def scheme(c: asyncpg.Connection, s: SchemePublished) -> None:
    """The roster with the leaves each unit fills (its category's effective leaves) and the scheme's
    报送时限 (`reporting`), which the deadline sweep reminds by."""
    units = [
        {
            "unit_id": u.unit_id,
            "name": u.name,
            "path": u.path,
            "codes": sorted(
                {leaf.code for leaf in effective_leaves(s.scheme, u.unit_id, u.category) if leaf.counted}
            ),
        }
        for u in s.units
    ]
    rule = s.scheme.reporting
    await filing.store_roster(
        c,
        scheme_id=s.scheme_id,
        assessing_unit=s.assessing_unit,
        year=s.year,
        version=s.version,
        units=units,
        due_workdays=rule.due_workdays,
        remind_workdays=rule.remind_workdays,
    )
