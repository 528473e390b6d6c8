"""督查督办 subscriptions: items opened, changed or closed and cards issued in the caller's subtree (live)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import mk
from gateway.graphql.subscriptions import _start
from gateway.graphql.supervision_types import CardColour, ItemStatus, SupervisionCard, enums
from gateway.policy import Op
from kaohe.contracts import supervision as c

ITEM_TYPES = {c.ItemOpened.TYPE, c.ItemChanged.TYPE, c.ItemClosed.TYPE}
CARD_TYPES = {c.CardIssued.TYPE}


@strawberry.type(description="A 督办事项 was opened, changed (a transition) or closed/withdrawn")
class SupervisionItemEvent:
    change: str = strawberry.field(description="opened | changed | closed")
    event_id: str
    item_id: str
    number: str
    status: ItemStatus  # type: ignore[valid-type]
    version: int
    action: str | None = strawberry.field(description="the transition (changed), or closed | withdrawn")
    unit_id: str | None = strawberry.field(description="the acting unit (changed)")
    unit_ids: list[str] = strawberry.field(description="the item's units in your subtree, lead first")
    deadline: date | None
    at: datetime


def visible_paths(data: dict[str, Any], path: str, info: Info[Context, None]) -> list[int]:
    """Indexes of the item's units that lie under `path` and in the caller's subtree."""
    caller = info.context.caller
    paths = [str(p) for p in data.get("unit_paths") or []]
    return [i for i, p in enumerate(paths) if p.startswith(path) and caller.covers(p)]


def item_event(ev: Any, seen: list[int]) -> SupervisionItemEvent:
    d = ev.data
    ids = [str(u) for u in d.get("unit_ids") or []]
    kind = ev.type.rsplit(".", 1)[-1]
    return SupervisionItemEvent(
        change=kind,
        event_id=ev.id,
        item_id=d["item_id"],
        number=d["number"],
        status=c.ItemStatus(d["status"]),
        version=d["version"],
        action=d.get("action") or d.get("outcome"),
        unit_id=d.get("unit_id") if d.get("unit_id") in {ids[i] for i in seen} else None,
        unit_ids=[ids[i] for i in seen if i < len(ids)],
        deadline=date.fromisoformat(d["deadline"]) if d.get("deadline") else None,
        at=datetime.fromisoformat(d["at"]),
    )


@strawberry.type
class SupervisionSubscription:
    @strawberry.subscription(
        description="督办动态: items of units under a root (default: your subtree) opened, changed, closed"
    )
    async def supervision_item_changed(
        self, info: Info[Context, None], root_id: strawberry.ID | None = None
    ) -> AsyncGenerator[SupervisionItemEvent, None]:
        path = await _start(info, Op.supervision_read, str(root_id) if root_id else None)
        ctx = info.context
        ctx.active_subscriptions += 1
        try:
            async for ev in ctx.services.live.stream(ITEM_TYPES):
                seen = visible_paths(ev.data, path, info)
                if seen:
                    yield item_event(ev, seen)
        finally:
            ctx.active_subscriptions -= 1

    @strawberry.subscription(
        description="红黄牌: cards charged to units under a root (default: your subtree), as issued"
    )
    async def supervision_card_issued(
        self,
        info: Info[Context, None],
        root_id: strawberry.ID | None = None,
        colour: CardColour | None = None,  # type: ignore[valid-type]
    ) -> AsyncGenerator[SupervisionCard, None]:
        path = await _start(info, Op.supervision_read, str(root_id) if root_id else None)
        ctx = info.context
        ctx.active_subscriptions += 1
        try:
            async for ev in ctx.services.live.stream(CARD_TYPES):
                d = ev.data
                p = str(d.get("unit_path") or "")
                if not (p.startswith(path) and ctx.caller.covers(p)):
                    continue
                if colour is not None and d.get("colour") != colour.value:
                    continue
                yield mk(SupervisionCard, enums({**d, "item_number": d.get("number")}, c.CardPublic))
        finally:
            ctx.active_subscriptions -= 1
