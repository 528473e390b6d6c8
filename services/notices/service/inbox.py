"""Inbox (站内信) and preferences (通知设置) use cases: every read and write is the caller's own, and an
office's recipient import and delivery log stay in its org subtree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from kaohe.contracts import pages
from kaohe.contracts.notices import (
    DeliveriesQuery,
    MarkRead,
    NotificationsQuery,
    PreferencesSet,
    RecipientsImport,
)
from kaohe.errors import NotFound, ValidationFailed
from kaohe.identity import Caller, Role
from services.notices.repository import deliveries, notices, recipients

OFFICES = (Role.assessment_office, Role.supervisor)


def _ids(raw: list[str], field: str) -> list[int]:
    out = []
    for i, x in enumerate(raw):
        if not x.isdigit() or len(x) > 18:
            raise ValidationFailed(f"{field}.{i}: not a notice id", field=f"{field}.{i}")
        out.append(int(x))
    return out


async def page(c: asyncpg.Connection, *, caller: Caller, p: NotificationsQuery) -> dict[str, Any]:
    before = _after(p.after)
    rows = await notices.page(c, caller.user_id, before=before, first=p.first, unread_only=p.unread_only)
    result = pages.page(rows, p.first, lambda r: (r["id"],))
    result["items"] = [notices.public(r) for r in result["items"]]
    return result


async def unread(c: asyncpg.Connection, *, caller: Caller) -> dict[str, Any]:
    return {"unread": await notices.unread(c, caller.user_id)}


async def mark_read(c: asyncpg.Connection, *, caller: Caller, p: MarkRead, now: datetime) -> dict[str, Any]:
    """Mark the caller's own notices read; another user's id is not found (its existence is not told)."""
    ids = None if p.all else _ids(p.notice_ids, "notice_ids")
    if ids is not None:
        mine = await notices.owned(c, caller.user_id, ids)
        foreign = [i for i in ids if i not in mine]
        if foreign:
            raise NotFound(f"notice_ids: no notice {foreign[0]} in your inbox", field="notice_ids")
    changed = await notices.mark_read(c, caller.user_id, ids, now)
    return {"marked": [str(i) for i in changed], "unread": await notices.unread(c, caller.user_id)}


def _after(cursor: str | None) -> int | None:
    """The id a page continues below: a page's cursor, or an edge's `@<id>` (the gateway's Relay edges)."""
    if cursor is not None and cursor.startswith("@") and cursor[1:].isdigit() and len(cursor) < 20:
        return int(cursor[1:])
    key = pages.decode_cursor(cursor, 1)
    if key is None:
        return None
    if not isinstance(key[0], int):
        raise ValidationFailed("after: not a cursor from this list", field="after", code="bad_cursor")
    return key[0]


def unit_of(caller: Caller) -> str:
    """The caller's own unit: the last segment of its org path (`/14/1405/` → `1405`)."""
    parts = [x for x in caller.org_path.split("/") if x]
    return parts[-1] if parts else "root"


async def set_preferences(
    c: asyncpg.Connection, *, caller: Caller, p: PreferencesSet, now: datetime
) -> dict[str, Any]:
    """The caller's channels, email and quiet hours; who they are (unit, roles) comes from their token."""
    row = await recipients.set_preferences(
        c,
        user_id=caller.user_id,
        unit_id=unit_of(caller),
        org_path=caller.org_path,
        roles=sorted(caller.roles),
        codes=sorted(caller.indicator_codes),
        email=p.email,
        channels=sorted(set(p.channels) | {"inbox"}),
        quiet=(p.quiet_hours.start, p.quiet_hours.end) if p.quiet_hours else None,
        at=now,
    )
    return preferences_public(row)


async def get_preferences(c: asyncpg.Connection, *, caller: Caller) -> dict[str, Any]:
    row = await recipients.preferences(c, caller.user_id)
    if row is None:
        return {"channels": ["inbox"], "email": None, "quiet_hours": None}
    return preferences_public(row)


def preferences_public(row: dict[str, Any]) -> dict[str, Any]:
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = {
            "start": row["quiet_start"].isoformat("minutes"),
            "end": row["quiet_end"].isoformat("minutes"),
        }
    return {"channels": list(row["channels"]), "email": row["email"], "quiet_hours": quiet}


async def import_recipients(
    c: asyncpg.Connection, *, caller: Caller, p: RecipientsImport, now: datetime
) -> dict[str, Any]:
    """An office's 通讯录 import: every recipient must lie in the office's subtree, with known roles."""
    caller.require(*OFFICES, Role.system)
    known = {r.value for r in Role}
    for i, r in enumerate(p.recipients):
        caller.require_covers(r.org_path, field=f"recipients.{i}.org_path")
        bad = [x for x in r.roles if x not in known]
        if bad:
            raise ValidationFailed(
                f"recipients.{i}.roles: unknown role {bad[0]!r}", field=f"recipients.{i}.roles"
            )
    rows = [
        {
            "user_id": r.user_id,
            "unit_id": r.unit_id,
            "org_path": r.org_path,
            "roles": sorted(set(r.roles)),
            "codes": sorted(set(r.indicator_codes)),
            "email": r.email,
            "channels": sorted(set(r.channels) | {"inbox"}),
        }
        for r in p.recipients
    ]
    return {"imported": await recipients.upsert_many(c, rows, now)}


async def delivery_log(c: asyncpg.Connection, *, caller: Caller, p: DeliveriesQuery) -> dict[str, Any]:
    """投递记录 of notices about units in the office's subtree, newest first."""
    caller.require(*OFFICES)
    key = pages.decode_cursor(p.after, 1)
    rows = await deliveries.page(
        c, caller.org_path, status=p.status, before=int(key[0]) if key else None, first=p.first
    )
    result = pages.page(rows, p.first, lambda r: (r["id"],))
    result["items"] = [deliveries.public(r) for r in result["items"]]
    return result
