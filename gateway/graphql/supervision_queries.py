"""督查督办 queries: filtered item pages, an item with its timeline, unit statistics, the board, scores.

Also the timeline's hash-chain check. Unit filters take unit ids; the gateway resolves them to the
materialised path the service filters by (a unit outside the caller's subtree is `not_found`).
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, call, connection, decode_cursor, page_size
from gateway.graphql.supervision_types import (
    CardColour,
    ItemSource,
    ItemStatus,
    SupervisionBoard,
    SupervisionItem,
    SupervisionScore,
    SupervisionTimelineVerification,
    SupervisionUnitStats,
    board,
    item,
    mk,
    score,
)
from gateway.policy import Op
from kaohe.errors import NotFound, ValidationFailed


async def unit_path(info: Info[Context, None], unit_id: str | None, field: str) -> str | None:
    """The materialised path of a unit in the caller's subtree (outside looks like missing)."""
    if unit_id is None:
        return None
    u = await info.context.l.unit_by_id.load(unit_id)
    if u is None or not info.context.caller.covers(str(u["path"])):
        raise NotFound(f"unit {unit_id} not found", field=field)
    return str(u["path"])


def _values(xs: list[Any] | None) -> list[str]:
    return [x.value if hasattr(x, "value") else str(x) for x in xs or []]


@strawberry.type
class SupervisionQuery:
    @strawberry.field(description="督办事项 with its timeline, clocks, breaches and cards")
    async def supervision_item(self, info: Info[Context, None], id: strawberry.ID) -> SupervisionItem:
        d = await call(info, Op.supervision_read, "supervision", "item_get", {"item_id": str(id)})
        return item(d, detail=True)

    @strawberry.field(description="督办事项 you may see, newest first; filters combine (AND)")
    async def supervision_items(
        self,
        info: Info[Context, None],
        status: list[ItemStatus] | None = None,  # type: ignore[valid-type]
        source: list[ItemSource] | None = None,  # type: ignore[valid-type]
        unit_id: str | None = None,
        unit_role: Annotated[
            str, strawberry.argument(description="with unitId: lead | cooperating | any (牵头或配合)")
        ] = "any",
        overdue: bool | None = None,
        card: CardColour | None = None,  # type: ignore[valid-type]
        period: str | None = None,
        office_id: str | None = None,
        indicator_code: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SupervisionItem]:
        if unit_role not in ("lead", "cooperating", "any"):
            raise ValidationFailed("unitRole must be lead, cooperating or any", field="unit_role")
        params: dict[str, Any] = {
            "status": _values(status),
            "source": _values(source),
            "unit_path": await unit_path(info, unit_id, "unit_id"),
            "unit_role": unit_role,
            "overdue": overdue,
            "card": card.value if card is not None else None,
            "period": period,
            "office_id": office_id,
            "indicator_code": indicator_code,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        params = {k: v for k, v in params.items() if v is not None and v != []}
        r = await call(info, Op.supervision_read, "supervision", "item_list", params)
        return connection(r["items"], r.get("next"), item)

    @strawberry.field(
        description="督办统计 per unit under a root (default: your subtree): on-time rate, overdue, cards,"
        " closed, average working days to close"
    )
    async def supervision_unit_stats(
        self,
        info: Info[Context, None],
        root_id: str | None = None,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SupervisionUnitStats]:
        params: dict[str, Any] = {
            "root_path": await unit_path(info, root_id, "root_id"),
            "period": period,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        params = {k: v for k, v in params.items() if v is not None}
        r = await call(info, Op.supervision_read, "supervision", "unit_stats", params)
        return connection(r["items"], r.get("next"), lambda d: mk(SupervisionUnitStats, d), key="unit_id")

    @strawberry.field(description="督办清单 as a board: a column per status with its count and first items")
    async def supervision_board(
        self,
        info: Info[Context, None],
        root_id: str | None = None,
        period: str | None = None,
        source: list[ItemSource] | None = None,  # type: ignore[valid-type]
        per_column: int = 20,
    ) -> SupervisionBoard:
        params: dict[str, Any] = {
            "root_path": await unit_path(info, root_id, "root_id"),
            "period": period,
            "source": _values(source),
            "per_column": per_column,
        }
        params = {k: v for k, v in params.items() if v is not None}
        return board(await call(info, Op.supervision_read, "supervision", "board", params))

    @strawberry.field(description="督查得分 (督查结果单独核算) of units in a period")
    async def supervision_scores(
        self, info: Info[Context, None], unit_ids: list[str], period: str
    ) -> list[SupervisionScore]:
        if len(unit_ids) > info.context.config.max_list:
            raise ValidationFailed("too many unit ids", field="unit_ids", code="too_many")
        params = {"unit_ids": unit_ids, "period": period}
        r = await call(info, Op.supervision_read, "supervision", "scores_list", params)
        return [score(d) for d in (r["items"] if isinstance(r, dict) else r)]

    @strawberry.field(description="Check an item's timeline hash chain: a modified entry is found by seq")
    async def supervision_timeline_verify(
        self, info: Info[Context, None], item_id: strawberry.ID
    ) -> SupervisionTimelineVerification:
        params = {"item_id": str(item_id)}
        d = await call(info, Op.supervision_read, "supervision", "timeline_verify", params)
        return mk(SupervisionTimelineVerification, d)
