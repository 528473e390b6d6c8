"""What a document shows, read from the services that own it (scoring's results, indicators' names) over
RPC with the requesting caller's identity, so every read is scoped exactly as the caller's own would be."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kaohe.contracts.documents import BulletinIssue, SlipIssue
from kaohe.contracts.periods import Period
from kaohe.contracts.scoring import (
    BoardParams,
    BookPeriodParams,
    ExplainParams,
    GradesParams,
    RankingParams,
    ScoresParams,
    WarningsParams,
)
from kaohe.contracts.supervision_rpc import StatsParams
from kaohe.errors import Forbidden, KaoheError, NotFound
from kaohe.identity import Caller
from kaohe.rpc import RpcClient
from services.documents.domain.bulletin import movers
from services.documents.domain.model import (
    BoardCell,
    Category,
    GradeCounts,
    Lagging,
    Level1Score,
    PacePoint,
    RankRow,
)


@dataclass
class Reader:
    """RPC reads as one caller, with one deadline per call."""

    client: RpcClient
    caller: Caller
    timeout_s: float

    async def call(self, service: str, method: str, params: BaseModel | dict[str, Any]) -> Any:
        body = params.model_dump(mode="json", exclude_none=True) if isinstance(params, BaseModel) else params
        return await self.client.call(service, method, body, self.caller, timeout_s=self.timeout_s)

    async def pages(self, method: str, params: BaseModel, service: str = "scoring") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = None
        while True:
            page = await self.call(service, method, params.model_copy(update={"after": after, "first": 500}))
            items += page["items"]
            after = page.get("next")
            if not after:
                return items


@dataclass
class Book:
    scheme_name: str
    assessing_unit: str
    office_path: str  # the assessing unit's path
    status: str  # preliminary | objection_window | published
    snapshot_id: str | None


async def book(r: Reader, scheme_id: str, period: str) -> Book:
    scheme = await r.call("indicators", "scheme_get", {"scheme_id": scheme_id})
    unit = await r.call("indicators", "unit_get", {"unit_id": scheme["assessing_unit"]})
    state = await r.call("scoring", "results_state", BookPeriodParams(scheme_id=scheme_id, period=period))
    return Book(scheme["name"], unit["id"], unit["path"], state["status"], state.get("snapshot_id"))


async def categories(r: Reader, p: BulletinIssue, b: Book) -> tuple[Category, ...]:
    """Every category of the book: ranking (published figures once published), grades, 三色榜, movers."""
    grades = await r.call("scoring", "grades", GradesParams(scheme_id=p.scheme_id, period=p.period))
    if not grades:
        raise NotFound(
            f"no ranked results for scheme {p.scheme_id} in {p.period}", field="period", code="no_results"
        )
    published: dict[str, dict[str, Any]] = {}
    if b.status == "published":
        for row in await r.pages(
            "results_snapshot", BookPeriodParams(scheme_id=p.scheme_id, period=p.period)
        ):
            published[row["unit_id"]] = row
    previous = str(Period.parse(p.period).previous())
    return tuple(await asyncio.gather(*(_category(r, p, g, published, previous) for g in grades)))


async def _category(
    r: Reader, p: BulletinIssue, g: dict[str, Any], published: dict[str, dict[str, Any]], previous: str
) -> Category:
    name = g["category"]
    ranking, board, before = await asyncio.gather(
        r.pages("ranking", RankingParams(scheme_id=p.scheme_id, period=p.period, category=name)),
        r.pages("board", BoardParams(scheme_id=p.scheme_id, period=p.period, category=name)),
        _previous_ranks(r, p.scheme_id, previous, name),
    )
    if len(ranking) < int(g["of"]):  # list reads omit units outside the caller's subtree
        raise Forbidden(
            f"category {name}: the bulletin needs every ranked unit; you cover {len(ranking)} of {g['of']}",
            field="scheme_id",
            code="forbidden_scope",
        )
    rows = []
    for x in ranking:
        snap = published.get(x["unit_id"], {})
        rows.append(
            RankRow(
                snap.get("rank", x["rank"]),
                x["unit_id"],
                x.get("unit_name") or x["unit_id"],
                float(snap.get("total", x["total"])),
                snap.get("grade", x["grade"]),
                x.get("warning_colour"),
                tuple(Level1Score(a["name"], float(a["score"])) for a in x.get("level1") or ()),
            )
        )
    if published:
        rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.unit_id))
    cells = tuple(
        BoardCell(
            x.get("unit_name") or x["unit_id"],
            x["colour"],
            tuple(b.get("name") or b["code"] for b in x.get("behind_indicators") or ()),
        )
        for x in board
        if x.get("colour")
    )
    risers, fallers = movers(tuple(rows), before)
    return Category(
        name,
        tuple(rows),
        GradeCounts(int(g["of"]), g.get("quota"), dict(g.get("counts") or {})),
        cells,
        risers,
        fallers,
    )


async def _previous_ranks(r: Reader, scheme_id: str, period: str, category: str) -> dict[str, int]:
    try:
        rows = await r.pages("ranking", RankingParams(scheme_id=scheme_id, period=period, category=category))
    except KaoheError:  # no results for the previous period (the first month of a book, another year)
        return {}
    return {x["unit_id"]: int(x["rank"]) for x in rows if x.get("rank") is not None}


@dataclass
class UnitView:
    unit_id: str
    name: str
    path: str
    total: float | None
    rank: int | None
    of: int | None
    lagging: tuple[Lagging, ...]


async def unit_view(r: Reader, p: SlipIssue) -> UnitView:
    """One unit's standing and its indicators behind schedule, each with its pace curve by month."""
    unit = await r.call("indicators", "unit_get", {"unit_id": p.unit_id})
    scores = await r.call("scoring", "scores_by_units", ScoresParams(ids=[p.unit_id], period=p.period))
    score = scores.get(p.unit_id) or {}
    warnings = [
        w
        for w in await r.pages("warnings", WarningsParams(root_path=unit["path"], period=p.period))
        if w["unit_id"] == p.unit_id
    ]
    names = await _indicator_names(r, p, score.get("category"))
    period = Period.parse(p.period)
    months = [m for m in Period(period.year, "year").months() if m.start <= period.end]
    traces, checks = await asyncio.gather(
        asyncio.gather(*(_leaf_inputs(r, p, str(m)) for m in months)),
        asyncio.gather(*(_month_warnings(r, unit["path"], p.unit_id, str(m)) for m in months)),
    )
    lagging = []
    for w in sorted(warnings, key=lambda w: -float(w["lag"])):
        curve = []
        for m, leaves, month_warnings in zip(months, traces, checks, strict=True):
            curve.append(_point(f"{m.index}月", leaves.get(w["code"]), month_warnings.get(w["code"])))
        last = curve[-1] if curve else None
        if last is not None and (last.expected is None or last.actual is None):
            # the period ends with its last month: the period's own check is that month-end's figures
            curve[-1] = PacePoint(last.label, float(w["expected"]), float(w["actual"]))
        curve = [c for c in curve if c.expected is not None or c.actual is not None]
        if curve:  # both shares are 0 when the year begins: the curve starts there
            curve.insert(0, PacePoint("年初", 0.0, 0.0))
        lagging.append(
            Lagging(
                w["code"],
                names.get(w["code"], w["code"]),
                w["level_zh"],
                float(w["expected"]),
                float(w["actual"]),
                float(w["lag"]),
                tuple(curve),
            )
        )
    return UnitView(
        unit["id"],
        unit["name"],
        unit["path"],
        score.get("total"),
        score.get("rank"),
        score.get("of"),
        tuple(lagging),
    )


def _point(label: str, inputs: dict[str, Any] | None, warning: dict[str, Any] | None) -> PacePoint:
    """A month of the pace curve: expected and actual shares of the annual target at the month's end.

    From the month's explanation when its target is prorated (`due_fraction`, value / annual target);
    otherwise from the month's own 序时进度 check when the unit was behind then (its expected and actual);
    a share nobody computed stays None (not drawn)."""
    expected = actual = None
    if inputs is not None:
        annual = inputs.get("annual_target") or inputs.get("target")
        if inputs.get("due_fraction") is not None:
            expected = float(inputs["due_fraction"])
            if inputs.get("value") is not None and annual:
                actual = float(inputs["value"]) / float(annual)
    if warning is not None:
        expected = float(warning["expected"]) if expected is None else expected
        actual = float(warning["actual"]) if actual is None else actual
    return PacePoint(label, expected, actual)


async def _month_warnings(r: Reader, path: str, unit_id: str, month: str) -> dict[str, dict[str, Any]]:
    rows = await r.pages("warnings", WarningsParams(root_path=path, period=month))
    return {w["code"]: w for w in rows if w["unit_id"] == unit_id}


async def _indicator_names(r: Reader, p: SlipIssue, category: str | None) -> dict[str, str]:
    if not category:
        return {}
    board = await r.pages("board", BoardParams(scheme_id=p.scheme_id, period=p.period, category=category))
    return {
        b["code"]: b.get("name") or b["code"]
        for x in board
        if x["unit_id"] == p.unit_id
        for b in x.get("behind_indicators") or ()
    }


async def _leaf_inputs(r: Reader, p: SlipIssue, month: str) -> dict[str, dict[str, Any]]:
    """The leaves' inputs (value, target, due fraction) of the unit's live explanation of a month."""
    try:
        ex = await r.call(
            "scoring",
            "explanation",
            ExplainParams(unit_id=p.unit_id, period=month, scheme_id=p.scheme_id, source="live"),
        )
    except KaoheError:  # no values that month
        return {}
    out: dict[str, dict[str, Any]] = {}
    stack = [ex["trace"]]
    while stack:
        node = stack.pop()
        if node.get("kind") == "leaf":
            out[node["code"]] = (node.get("details") or {}).get("inputs") or {}
        stack.extend(node.get("children") or ())
    return out


async def supervision_lines(r: Reader, root_path: str, period: str) -> list[dict[str, Any]]:
    """supervision's `unit_stats` of every unit under `root_path` with items active in the period."""
    return await r.pages("unit_stats", StatsParams(root_path=root_path, period=period), service="supervision")
