"""Explanation (得分反查) of one unit's period: recomputed from stored inputs with the scalar engine.

Months (and directly scored periods) go total → 平时督查 / indicators → levels → leaf (rule, inputs,
evidence ids, result); quarters and years are their composition with the months (quarters) feeding a
part as its children. Same inputs → byte-identical canonical trace → same digest.
"""

from __future__ import annotations

import math
from typing import Any

import asyncpg

from kaohe.expr import Ref
from services.scoring import store
from services.scoring.compute import SUPERVISION_DEFAULT, kind_of, months_of, quarter_of
from services.scoring.engine.ranking import Candidate, Ranked, rank_category
from services.scoring.engine.rollup import RollupConfig, UnitInputs, rollup_unit
from services.scoring.engine.rules import LeafInput, LeafResult, RuleError, formula_expr, score_leaf
from services.scoring.engine.trace import TraceNode, build_trace
from services.scoring.model import BookModel, UnitInfo


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


async def _supervision(c: asyncpg.Connection, unit: UnitInfo, period: str) -> float:
    q = quarter_of(period)
    rows = await c.fetch(
        "SELECT period, score FROM supervision WHERE unit_id = $1 AND period = ANY($2)",
        unit.unit_id,
        [period, q],
    )
    got = {r["period"]: r["score"] for r in rows}
    return float(got.get(period, got.get(q, SUPERVISION_DEFAULT)))


async def explain_rollup(
    c: asyncpg.Connection, model: BookModel, unit: UnitInfo, period: str
) -> TraceNode | None:
    """A month's (or directly scored period's) trace, or None when the unit reported nothing."""
    group = model.groups.get(unit.group)
    if group is None:
        return None
    rows = await c.fetch(
        "SELECT code_no, value, grade, evidence FROM value WHERE book = $1 AND period = $2 AND unit_no ="
        " $3 AND NOT withdrawn",
        model.book,
        period,
        unit.unit_no,
    )
    if not rows:
        return None
    mine = {r["code_no"]: r for r in rows}
    rank_codes = [
        leaf.code_no for leaf in group.leaves if leaf.standard is not None and leaf.standard.type == "rank"
    ]
    peers: dict[int, list[float]] = {}
    if rank_codes:
        prow = await c.fetch(
            "SELECT v.code_no, v.value FROM value v JOIN book_unit u ON u.book = v.book AND u.unit_no ="
            " v.unit_no"
            " WHERE v.book = $1 AND v.period = $2 AND v.code_no = ANY($3) AND u.category = $4 AND u.assessed"
            " AND v.unit_no <> $5 AND NOT v.withdrawn AND v.value IS NOT NULL ORDER BY v.unit_no",
            model.book,
            period,
            rank_codes,
            unit.category,
            unit.unit_no,
        )
        for r in prow:
            peers.setdefault(r["code_no"], []).append(r["value"])
    by_name = {no: name for name, no in model.code_no.items()}
    leaves: dict[str, LeafResult] = {}
    inputs: dict[str, LeafInput] = {}
    for leaf in group.leaves:
        r = mine.get(leaf.code_no)
        target = unit.targets.get(leaf.code_no, leaf.target)
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
            evidence_ids=tuple(store.js(r["evidence"]) if r is not None and r["evidence"] else ()),
        )
        inputs[leaf.code] = inp
        if leaf.standard is None:
            leaves[leaf.code] = LeafResult(0.0, 0.0, notes=("no_standard",))
            continue
        try:
            leaves[leaf.code] = score_leaf(leaf.standard, inp)
        except RuleError as e:
            leaves[leaf.code] = LeafResult(0.0, 0.0, notes=(e.code,), role=_role(leaf.standard.type))
    del by_name
    cfg = model.config
    sup = await _supervision(c, unit, period)
    result = rollup_unit(
        group.root,
        leaves,
        UnitInputs(unit.unit_id, coefficient=unit.coefficient, supervision_score=sup),
        RollupConfig(supervision_weight=cfg.supervision_weight, bonus_cap=cfg.bonus_cap),
    )
    standards = {leaf.code: leaf.standard for leaf in group.leaves if leaf.standard is not None}
    ranking = await _ranking(c, model, period, unit)
    return build_trace(result, standards=standards, inputs=inputs, ranking=ranking, category=unit.category)


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


def _as_child(node: TraceNode, kind: str, weight: float) -> TraceNode:
    return TraceNode(
        node.code, node.name, kind, node.value, weight * node.value, weight, 1.0, node.details, node.children
    )


async def explain_quarter(
    c: asyncpg.Connection, model: BookModel, unit: UnitInfo, quarter: str
) -> TraceNode | None:
    """季度: aspects; the `indicators` aspect's children are the month traces (weight 1/n each)."""
    months = []
    for m in months_of(quarter):
        t = await explain_rollup(c, model, unit, m)
        if t is not None:
            months.append((m, t))
    if not months:
        return await explain_rollup(c, model, unit, quarter)
    direct = await store.aspect_scores(c, model.book, quarter)
    sup = await c.fetchval(
        "SELECT score FROM supervision WHERE unit_id = $1 AND period = $2", unit.unit_id, quarter
    )
    parts, score = [], 0.0
    for a in model.config.aspects():
        kids: tuple[TraceNode, ...] = ()
        if a.code == "indicators":
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
            v, source = (
                (SUPERVISION_DEFAULT, "none") if sup is None else (float(sup), "supervision.result.scored")
            )
        else:
            v, source = direct.get((unit.unit_no, a.code), 0.0), "aspect_scores_set"
        parts.append(
            TraceNode(a.code, a.name, "period_part", v, a.weight * v, a.weight, 1.0, {"source": source}, kids)
        )
        score += a.weight * v
    ranking = await _ranking(c, model, quarter, unit)
    details = {"unit_code": unit.unit_id, "category": unit.category, "ranking": _ranking_details(ranking)}
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
    direct = await store.aspect_scores(c, model.book, year)
    parts, score = [], 0.0
    for sh in model.config.shares():
        kids: tuple[TraceNode, ...] = ()
        if sh.source == "quarters_mean":
            v = math.fsum(t.value for t in quarters) / len(quarters)
            kids = tuple(_as_child(t, "quarter", 1.0 / len(quarters)) for t in quarters)
        else:
            v = direct.get((unit.unit_no, sh.code), 0.0)
        parts.append(TraceNode(sh.code, sh.name, "period_part", v, sh.weight * v, sh.weight, 1.0, {}, kids))
        score += sh.weight * v
    ranking = await _ranking(c, model, year, unit)
    details = {"unit_code": unit.unit_id, "category": unit.category, "ranking": _ranking_details(ranking)}
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
