"""得分反查 (score explanation) and 期间合成 (how months make a quarter and quarters a year)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import call
from gateway.policy import Op


@strawberry.type(description="One step of the explanation trace, in pre-order (depth 0 = the total)")
class TraceStep:
    depth: int
    code: str | None
    name: str | None
    kind: str = strawberry.field(
        description="total | indicators | level1 | level2 | level3 | leaf | supervision | bonus | bonus_item"
        " | bonus_cap | penalty | penalty_item | period | period_part | month"
    )
    value: float | None
    contribution: float | None
    weight: float | None
    multiplier: float | None
    details: JSON | None = strawberry.field(
        description="leaves: rule, inputs (value, target, evidence ids), notes. Indicator nodes: points"
        " (分值),"
        " category_points, category_weight (the category's share, 0..1; `weight` is the unit's) and"
        " overridden_weight (差异化赋分: the unit's 分值 differs). The total and the 平时督查 part:"
        " supervision_source / source (service | manual | default)"
    )


@strawberry.enum(description="Which figures a read serves")
class ResultSource(Enum):
    PUBLISHED = strawberry.enum_value("published", description="the published snapshot (immutable)")
    LIVE = strawberry.enum_value("live", description="current figures: preliminary, moving after publication")


@strawberry.type(description="得分反查: a unit's score traced from the total down to each indicator's inputs")
class ScoreExplanation:
    unit_id: str
    period: str
    scheme_id: str | None
    status: str | None = strawberry.field(description="preliminary | objection_window | published")
    source: str | None = strawberry.field(
        description="published: the explanation frozen with the published snapshot; live: recomputed from"
        " the current inputs"
    )
    snapshot_id: str | None = strawberry.field(
        description="the published snapshot explained (source published)"
    )
    total: float | None = strawberry.field(
        description="the total explained (the published one when published)"
    )
    digest: str = strawberry.field(description="sha256 of the canonical trace (recomputing gives the same)")
    adds_up: bool = strawberry.field(description="every parent equals the sum of its children")
    trace: JSON = strawberry.field(description="the whole tree: {code, name, kind, value, …, children}")

    @strawberry.field(description="The trace flattened in pre-order, for tables")
    def steps(self) -> list[TraceStep]:
        out: list[TraceStep] = []

        def walk(node: dict[str, Any], depth: int) -> None:
            out.append(
                TraceStep(
                    depth=depth,
                    code=node.get("code"),
                    name=node.get("name"),
                    kind=node.get("kind", ""),
                    value=node.get("value"),
                    contribution=node.get("contribution"),
                    weight=node.get("weight"),
                    multiplier=node.get("multiplier"),
                    details=node.get("details"),
                )
            )
            for child in node.get("children") or ():
                walk(child, depth + 1)

        walk(self.trace, 0)
        return out


@strawberry.type(description="A part (考核方面) of a quarter or year: its weight, value and contribution")
class PeriodPart:
    code: str
    name: str
    weight: float
    value: float | None
    contribution: float | None
    inputs: JSON | None


@strawberry.type(description="期间得分: a month, quarter or year and how it is composed")
class PeriodScore:
    period: str
    kind: str = strawberry.field(description="month | quarter | year")
    total: float | None
    parts: list[PeriodPart]


@strawberry.type
class ExplainQuery:
    @strawberry.field(description="得分反查: the trace from a unit's total down to each indicator's inputs")
    async def score_explanation(
        self,
        info: Info[Context, None],
        unit_id: str,
        period: str,
        scheme_id: strawberry.ID | None = None,
        source: Annotated[
            ResultSource | None,
            strawberry.argument(
                description="default: the published explanation once the period is published, else live"
            ),
        ] = None,
    ) -> ScoreExplanation:
        params: dict[str, Any] = {"unit_id": unit_id, "period": period}
        if scheme_id is not None:
            params["scheme_id"] = str(scheme_id)
        if source is not None:
            params["source"] = source.value
        d = await call(info, Op.score_read, "scoring", "explanation", params)
        return ScoreExplanation(
            unit_id=d["unit_id"],
            period=d["period"],
            scheme_id=d.get("scheme_id"),
            status=d.get("status"),
            source=d.get("source"),
            snapshot_id=d.get("snapshot_id"),
            total=d.get("total"),
            digest=d["digest"],
            adds_up=bool(d.get("adds_up")),
            trace=d["trace"],
        )

    @strawberry.field(description="期间合成: month → quarter → year scores of a unit with their parts")
    async def period_scores(
        self, info: Info[Context, None], unit_id: str, scheme_id: strawberry.ID, year: int
    ) -> list[PeriodScore]:
        params = {"unit_id": unit_id, "scheme_id": str(scheme_id), "year": year}
        rows = await call(info, Op.score_read, "scoring", "periods", params)
        return [
            PeriodScore(
                period=r["period"],
                kind=r["kind"],
                total=r.get("total"),
                parts=[
                    PeriodPart(
                        code=p["code"],
                        name=p["name"],
                        weight=p["weight"],
                        value=p.get("value"),
                        contribution=p.get("contribution"),
                        inputs=p.get("inputs"),
                    )
                    for p in r.get("parts") or ()
                ],
            )
            for r in rows
        ]
