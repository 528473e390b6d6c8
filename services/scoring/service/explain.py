"""Explanation (得分反查) of one unit's period: recomputed from stored inputs with the scalar engine.

Months (and directly scored periods) go total → 平时督查 / indicators → levels → leaf (rule, inputs,
evidence ids, result); quarters and years are their composition with the months (quarters) feeding a
part as its children. Same inputs → byte-identical canonical trace → same digest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import asyncpg

from kaohe.expr import Ref
from services.scoring.domain.batch import due_fraction
from services.scoring.domain.book import BookModel, NodeWeight, UnitInfo
from services.scoring.domain.calendar import kind_of, months_of
from services.scoring.domain.ranking import Candidate, Ranked, rank_category
from services.scoring.domain.rollup import RollupConfig, UnitInputs, rollup_unit
from services.scoring.domain.rules import LeafInput, LeafResult, RuleError, formula_expr, score_leaf
from services.scoring.domain.trace import TraceNode, build_trace
from services.scoring.repository import connection, values
from services.scoring.service import supervision_source


async def _ranking(c: asyncpg.Connection, model: BookModel, period: str, unit: UnitInfo) -> Ranked | None:
    """The unit's place and grade with reasons, re-derived from the category's stored totals."""
    rows = await c.fetch(
        "SELECT r.unit_no, r.total, r.veto_grade, e.unit_no IS NOT NULL AS exempt FROM result r"
        " LEFT JOIN exemption e ON e.book = r.book AND e.period = r.period AND e.unit_no = r.unit_no"
        " WHERE r.book = $1 AND r.period = $2 AND r.category = $3",
        model.book,
        period,
        unit.category,
    )
    ids = {r["unit_no"]: model.units[r["unit_no"]].unit_id for r in rows if r["unit_no"] in model.units}
    cands = [
        Candidate(ids[r["unit_no"]], r["total"], r["exempt"], r["veto_grade"])
        for r in rows
        if r["unit_no"] in ids
    ]
    for ranked in rank_category(cands, model.config.grades.rules()) if cands else []:
        if ranked.unit_code == unit.unit_id:
            return ranked
    return None


def _weights(node: TraceNode, weights: Mapping[str, NodeWeight], depth: int = 0) -> TraceNode:
    """Every indicator node names its 分值 and share beside its category's (差异化赋分): `points`,
    `category_points`, `category_weight` and `overridden_weight` (the 分值 differ)."""
    kids = tuple(_weights(k, weights, depth + 1) for k in node.children)
    details = node.details
    w = weights.get(node.code) if depth > 0 else None
    if w is not None:
        details = {
            **details,
            "points": round(w.points, 6),
            "category_points": None if w.category_points is None else round(w.category_points, 6),
            "category_weight": None if w.category_share is None else round(w.category_share, 6),
            "overridden_weight": w.overridden,
        }
    return replace(node, details=details, children=kids)


def _sourced(trace: TraceNode, source: str) -> TraceNode:
    """The total and its 平时督查 part name where the 平时督查 score came from (service, manual, default)."""
    kids = tuple(
        replace(k, details={**k.details, "source": source}) if k.kind == "supervision" else k
        for k in trace.children
    )
    return replace(trace, details={**trace.details, "supervision_source": source}, children=kids)


def _order(period: str, quarter_end: bool) -> list[str]:
    """The periods a leaf's value is read from, first choice first (季末累计: quarter, then month 3…1)."""
    return [period, *reversed(months_of(period))] if quarter_end else [period]


def _pick(rows: list[asyncpg.Record], order: list[str], key: str) -> dict[Any, asyncpg.Record]:
    """Per key, the row of the earliest period in `order` (the same choice as quarter_end_values)."""
    out: dict[Any, asyncpg.Record] = {}
    for r in sorted(rows, key=lambda r: order.index(r["period"])):
        out.setdefault(r[key], r)
    return out


async def explain_rollup(
    c: asyncpg.Connection, model: BookModel, unit: UnitInfo, period: str, *, quarter_end: bool = False
) -> TraceNode | None:
    """A month's (or directly scored period's) trace, or None when the unit reported nothing.

    quarter_end: a quarter on its 季末累计 values (each leaf's quarter value, else its latest month's);
    every leaf with a value names the period it came from (`details.value_period`).
    """
    group = model.groups.get(unit.group)
    if group is None:
        return None
    order = _order(period, quarter_end)
    rows = await c.fetch(
        "SELECT code_no, period, value, grade, evidence FROM value WHERE book = $1 AND period = ANY($2)"
        " AND unit_no = $3 AND NOT withdrawn",
        model.book,
        order,
        unit.unit_no,
    )
    if not rows:
        return None
    mine = _pick(list(rows), order, "code_no")
    rank_codes = [
        leaf.code_no for leaf in group.leaves if leaf.standard is not None and leaf.standard.type == "rank"
    ]
    peers: dict[int, list[float]] = {}
    if rank_codes:
        prow = await c.fetch(
            "SELECT v.unit_no, v.code_no, v.period, v.value FROM value v JOIN book_unit u ON u.book ="
            " v.book AND u.unit_no = v.unit_no"
            " WHERE v.book = $1 AND v.period = ANY($2) AND v.code_no = ANY($3) AND u.category = $4"
            " AND u.assessed AND v.unit_no <> $5 AND NOT v.withdrawn",
            model.book,
            order,
            rank_codes,
            unit.category,
            unit.unit_no,
        )
        chosen: dict[tuple[int, int], asyncpg.Record] = {}
        for r in sorted(prow, key=lambda r: order.index(r["period"])):
            chosen.setdefault((r["unit_no"], r["code_no"]), r)
        for (_no, code_no), r in sorted(chosen.items()):
            if r["value"] is not None:
                peers.setdefault(code_no, []).append(r["value"])
    by_code = {leaf.code_no: leaf.code for leaf in group.leaves}
    leaves: dict[str, LeafResult] = {}
    inputs: dict[str, LeafInput] = {}
    for leaf in group.leaves:
        r = mine.get(leaf.code_no)
        annual = unit.targets.get(leaf.code_no, leaf.target)
        due = None if annual is None else due_fraction(model, leaf, period)
        target = annual if due is None or annual is None else annual * due
        elements: dict[Ref, float] = {}
        if leaf.standard is not None and leaf.standard.type == "formula":
            for ref in formula_expr(leaf.standard.expression).references():  # type: ignore[union-attr]
                no = model.code_no.get(ref.name)
                if ref.lag == 0 and no in mine and mine[no]["value"] is not None:
                    elements[ref] = float(mine[no]["value"])
        value = None if r is None or r["value"] is None else float(r["value"])
        inp = LeafInput(
            full=leaf.full,
            value=value if leaf.standard is None or leaf.standard.type != "formula" else None,
            target=target,
            direction=leaf.direction,  # type: ignore[arg-type]
            peers=tuple(peers.get(leaf.code_no, ())),
            grade=None if r is None else r["grade"],
            elements=elements,
            evidence_ids=tuple(connection.js(r["evidence"]) if r is not None and r["evidence"] else ()),
            annual_target=annual if due is not None else None,
            due_fraction=due,
        )
        inputs[leaf.code] = inp
        if leaf.standard is None:
            leaves[leaf.code] = LeafResult(0.0, 0.0, notes=("no_standard",))
            continue
        try:
            leaves[leaf.code] = score_leaf(leaf.standard, inp)
        except RuleError as e:
            leaves[leaf.code] = LeafResult(0.0, 0.0, notes=(e.code,), role=_role(leaf.standard.type))
    cfg = model.config
    sup, sup_source = await supervision_source.of_unit(c, model.book, unit.unit_no, period)
    result = rollup_unit(
        group.root,
        leaves,
        UnitInputs(unit.unit_id, coefficient=unit.coefficient, supervision_score=sup),
        RollupConfig(supervision_weight=cfg.supervision_weight, bonus_cap=cfg.bonus_cap),
    )
    standards = {leaf.code: leaf.standard for leaf in group.leaves if leaf.standard is not None}
    ranking = None if quarter_end else await _ranking(c, model, period, unit)
    trace = build_trace(result, standards=standards, inputs=inputs, ranking=ranking, category=unit.category)
    trace = _sourced(_weights(trace, group.weights), sup_source)
    if not quarter_end:
        return trace
    sources = {by_code[no]: r["period"] for no, r in mine.items() if no in by_code}
    return _tag_sources(trace, sources)


def _tag_sources(node: TraceNode, sources: dict[str, str]) -> TraceNode:
    """Name on every leaf the period its value came from."""
    kids = tuple(_tag_sources(k, sources) for k in node.children)
    details = node.details
    if node.kind == "leaf" and node.code in sources:
        details = {**node.details, "value_period": sources[node.code]}
    return replace(node, details=details, children=kids)


def _role(kind: str) -> Any:
    return {"bonus": "bonus", "veto": "veto"}.get(kind, "scored")


def _ranking_details(r: Ranked | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "rank": r.rank,
        "grade": r.grade,
        "threshold_grade": r.threshold_grade,
        "in_quota": r.in_quota,
        "last_place": r.last_place,
        "reasons": [{"code": x.code, "text": x.text} for x in r.reasons],
    }


def _leaf_periods(node: TraceNode) -> dict[str, str]:
    """Leaf code → the period its value came from, over a tagged quarter_end trace."""
    out: dict[str, str] = {}
    if node.kind == "leaf" and "value_period" in node.details:
        out[node.code] = node.details["value_period"]
    for k in node.children:
        out.update(_leaf_periods(k))
    return out


def _as_child(node: TraceNode, kind: str, weight: float) -> TraceNode:
    return TraceNode(
        node.code, node.name, kind, node.value, weight * node.value, weight, 1.0, node.details, node.children
    )


async def explain_quarter(
    c: asyncpg.Connection, model: BookModel, unit: UnitInfo, quarter: str
) -> TraceNode | None:
    """季度: aspects. The `indicators` aspect's child is the quarter's own roll-up on its 季末累计 values
    (quarter_end; kind `quarter_end`, each leaf naming its `value_period`), or the month traces (mean:
    weight 1/n each; last: the latest month)."""
    rule = next(a.from_months for a in model.config.aspects() if a.code == "indicators")
    months: list[tuple[str, TraceNode]] = []
    end: TraceNode | None = None
    if rule == "quarter_end":
        end = await explain_rollup(c, model, unit, quarter, quarter_end=True)
        if end is None:
            return None
    else:
        for m in months_of(quarter):
            t = await explain_rollup(c, model, unit, m)
            if t is not None:
                months.append((m, t))
        if not months:
            return await explain_rollup(c, model, unit, quarter)
    direct = await values.aspect_scores(c, model.book, quarter)
    sup, sup_source = await supervision_source.of_unit(c, model.book, unit.unit_no, quarter)
    parts, score = [], 0.0
    for a in model.config.aspects():
        kids: tuple[TraceNode, ...] = ()
        if a.code == "indicators" and end is not None:
            v = end.value
            from_q = sorted(k for k, p in _leaf_periods(end).items() if p == quarter)
            from_m = {k: p for k, p in sorted(_leaf_periods(end).items()) if p != quarter}
            details = {**end.details, "from_quarter": from_q, "from_months": from_m}
            kids = (
                TraceNode(
                    quarter, f"{quarter} 季末累计得分", "quarter_end", v, v, 1.0, 1.0, details, end.children
                ),
            )
            source = "quarter_end"
        elif a.code == "indicators":
            use = months if a.from_months in ("mean", "direct") else months[-1:]
            v = math.fsum(t.value for _, t in use) / len(use)
            kids = tuple(
                _as_child(
                    TraceNode(
                        m, f"{m} 月度得分", "month", t.value, t.value, None, 1.0, t.details, t.children
                    ),
                    "month",
                    1.0 / len(use),
                )
                for m, t in use
            )
            source = "months"
        elif a.code == "supervision":
            v, source = sup, sup_source
        else:
            v, source = direct.get((unit.unit_no, a.code), 0.0), "aspect_scores_set"
        parts.append(
            TraceNode(a.code, a.name, "period_part", v, a.weight * v, a.weight, 1.0, {"source": source}, kids)
        )
        score += a.weight * v
    ranking = await _ranking(c, model, quarter, unit)
    details = {
        "unit_code": unit.unit_id,
        "category": unit.category,
        "ranking": _ranking_details(ranking),
        "supervision_source": sup_source,
    }
    return TraceNode(
        unit.unit_id, f"{quarter} 季度得分", "period", score, score, None, 1.0, details, tuple(parts)
    )


async def explain_year(
    c: asyncpg.Connection, model: BookModel, unit: UnitInfo, year: str
) -> TraceNode | None:
    """年度: shares; the `quarters_mean` share's children are the quarter traces."""
    quarters = []
    for q in range(1, 5):
        t = await explain_quarter(c, model, unit, f"{year}-Q{q}")
        if t is not None:
            quarters.append(t)
    if not quarters:
        return None
    direct = await values.aspect_scores(c, model.book, year)
    sup_source = quarters[-1].details.get("supervision_source", "default")  # the row shows the latest's
    parts, score = [], 0.0
    for sh in model.config.shares():
        kids: tuple[TraceNode, ...] = ()
        info: dict[str, Any] = {}
        if sh.source == "quarters_mean":
            v = math.fsum(t.value for t in quarters) / len(quarters)
            kids = tuple(_as_child(t, "quarter", 1.0 / len(quarters)) for t in quarters)
        elif sh.code == supervision_source.MANUAL_CODE:
            v, sup_source = await supervision_source.of_unit(c, model.book, unit.unit_no, year)
            info = {"source": sup_source}
        else:
            v = direct.get((unit.unit_no, sh.code), 0.0)
        parts.append(TraceNode(sh.code, sh.name, "period_part", v, sh.weight * v, sh.weight, 1.0, info, kids))
        score += sh.weight * v
    ranking = await _ranking(c, model, year, unit)
    details = {
        "unit_code": unit.unit_id,
        "category": unit.category,
        "ranking": _ranking_details(ranking),
        "supervision_source": sup_source,
    }
    return TraceNode(
        unit.unit_id, f"{year} 年度得分", "period", score, score, None, 1.0, details, tuple(parts)
    )


async def explain(c: asyncpg.Connection, model: BookModel, unit: UnitInfo, period: str) -> TraceNode | None:
    k = kind_of(period)
    if k == "quarter":
        return await explain_quarter(c, model, unit, period)
    if k == "year":
        return await explain_year(c, model, unit, period)
    return await explain_rollup(c, model, unit, period)
