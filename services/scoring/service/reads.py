"""Reads (查询): scores, rankings with level-1 breakdown, grades, 三色榜, warnings, explanations, periods."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg
import orjson

from kaohe.contracts import paths
from kaohe.contracts.pages import decode_cursor, decode_offset, encode_cursor
from kaohe.contracts.standards import GRADES, WARNING_LEVEL_ZH
from kaohe.errors import NotFound
from kaohe.identity import Caller
from services.scoring.domain.ranking import excellent_quota
from services.scoring.domain.trace import canonical_bytes, check_trace
from services.scoring.repository.scope import book_of, status_of, unit_row
from services.scoring.schemas import (
    BoardQuery,
    ExplainQuery,
    GradesQuery,
    PeriodsQuery,
    RankingQuery,
    ScoresQuery,
    WarningsQuery,
)
from services.scoring.service import snapshot, supervision_source
from services.scoring.service.explain import explain
from services.scoring.service.standings import Models, Standings

LEVEL_ORDER = {"yellow": 1, "orange": 2, "red": 3}


def r6(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


async def scores_by_units(
    c: asyncpg.Connection, *, caller: Caller, p: ScoresQuery, models: Models, places: Standings
) -> dict[str, Any]:
    """Each unit's latest (or this period's) score in the caller's subtree; `published`: the snapshot's."""
    out: dict[str, Any] = {i: None for i in p.ids}
    published = await snapshot.scores(c, p.ids, p.period) if p.source == "published" else None
    rows = await c.fetch(
        # from the few units to their rows by key: a period that started after the last ANALYZE
        # looks empty to the planner, which would otherwise scan it joining every unit per row
        "WITH u AS MATERIALIZED (SELECT book, unit_no, unit_id, path FROM book_unit"
        " WHERE unit_id = ANY($1))"
        " SELECT r.*, u.unit_id, u.path, b.scheme_id, rs.snapshot_id, rs.window_until FROM u"
        " JOIN result r ON r.book = u.book AND r.unit_no = u.unit_no JOIN book b ON b.id = r.book"
        " LEFT JOIN results_state rs ON rs.book = r.book AND rs.period = r.period"
        " WHERE $2::text IS NULL OR r.period = $2 ORDER BY r.period, r.book",
        p.ids,
        p.period,
    )
    placed = await places.of_rows(c, models, [(r["book"], r["period"], r["unit_no"]) for r in rows])
    for r in rows:
        if caller.covers(r["path"]):
            status = (
                "published"
                if r["snapshot_id"]
                else "objection_window"
                if r["window_until"]
                else "preliminary"
            )
            out[r["unit_id"]] = {
                "unit_id": r["unit_id"],
                "period": r["period"],
                "total": r6(r["total"]),
                "leaves": r["leaves"],
                "version": r["version"],
                "updated_at": r["updated_at"].isoformat(),
                "scheme_id": r["scheme_id"],
                "category": r["category"],
                "rank": pl.rank if (pl := placed.get((r["book"], r["period"], r["unit_no"]))) else None,
                "of": pl.of if pl else None,
                "grade": pl.grade if pl else None,
                "status": status,
                "source": "live",
                "digest": None,
            }
    return out if published is None else snapshot.published_view(out, published, caller)


async def ranking(
    c: asyncpg.Connection, *, caller: Caller, p: RankingQuery, models: Models, places: Standings
) -> dict[str, Any]:
    """One page of a category's ranking (排名) with the level-1 breakdown, keyset by rank."""
    after = decode_offset(p.after)  # the last rank shown
    book = await book_of(c, p.scheme_id)
    model = await models.get(c, book)
    rows, pls = [], []
    sources: dict[int, str] = {}
    if model is not None:
        st = await places.get(c, model, p.period)
        pls = st.page(model, p.category, caller.org_path, int(after), p.first + 1)
        got = await c.fetch(
            "SELECT r.*, u.unit_id, u.name, u.path FROM result r JOIN book_unit u ON u.book = r.book"
            " AND u.unit_no = r.unit_no WHERE r.book = $1 AND r.period = $2 AND r.unit_no = ANY($3)",
            book,
            p.period,
            [no for no, _ in pls],
        )
        by_no = {r["unit_no"]: r for r in got}
        rows = [(by_no[no], pl) for no, pl in pls if no in by_no]
        sources = await supervision_source.sources(
            c, book, p.period, [r["unit_no"] for r, _ in rows[: p.first]]
        )
    items = []
    for r, pl in rows[: p.first]:
        group = model.groups.get(r["grp"]) if model else None
        l1 = []
        if group is not None and len(group.level1) == len(r["l1"]):
            for node, score in zip(group.level1, r["l1"], strict=True):
                l1.append(
                    {
                        "code": node.code,
                        "name": node.name,
                        "weight": r6(node.weight),
                        "points": r6(node.points),
                        "category_weight": r6(node.category_weight),
                        "category_points": r6(node.category_points),
                        "overridden": node.overridden,
                        "score": r6(score),
                        "contribution": r6(node.weight * score),
                    }
                )
        items.append(
            {
                "unit_id": r["unit_id"],
                "unit_name": r["name"],
                "unit_path": r["path"],
                "category": r["category"],
                "rank": pl.rank,
                "of": pl.of,
                "total": r6(r["total"]),
                "indicators": r6(r["indicators"]),
                "supervision": r6(r["supervision"]),
                "supervision_source": sources.get(r["unit_no"], "default"),
                "bonus": r6(r["bonus"]),
                "penalty": r6(r["penalty"]),
                "coefficient": r6(r["coefficient"]),
                "grade": pl.grade,
                "threshold_grade": pl.threshold_grade,
                "in_quota": pl.in_quota,
                "exempt": pl.exempt,
                "vetoed": r["veto_grade"] is not None,
                "last_place": pl.last_place,
                "warning_colour": r["colour"],
                "level1": l1,
                "version": r["version"],
                "digest": None,
            }
        )
    more = len(rows) > p.first
    return {"items": items, "next": encode_cursor(items[-1]["rank"]) if more and items else None}


async def grades(
    c: asyncpg.Connection, *, caller: Caller, p: GradesQuery, models: Models, places: Standings
) -> list[dict[str, Any]]:
    """Per category: units per grade (等次), the 优秀 quota, exemptions, vetoes and last places."""
    book = await book_of(c, p.scheme_id)
    model = await models.get(c, book)
    if model is None:
        return []
    st = await places.get(c, model, p.period)
    rules = model.config.grades.rules()
    out = []
    for name in sorted(st.cats) if p.category is None else [p.category]:
        placed = st.category(name)
        if not placed:
            continue
        counts = dict.fromkeys(GRADES, 0)
        for pl in placed.values():
            counts[pl.grade] += 1
        vetoes = st.cats[name].veto
        out.append(
            {
                "category": name,
                "of": len(placed),
                "quota": excellent_quota(len(placed), rules),
                "counts": counts,
                "exempt": sum(pl.exempt for pl in placed.values()),
                "vetoed": sum(v is not None for v in vetoes.values()),
                "last_place": [
                    model.units[no].unit_id
                    for no in st.ordered(name)
                    if placed[no].last_place and no in model.units and caller.covers(model.units[no].path)
                ],
            }
        )
    return out


async def board(c: asyncpg.Connection, *, caller: Caller, p: BoardQuery, models: Models) -> dict[str, Any]:
    """One page of the 三色榜 (red, yellow, green by worst 序时进度 lag) in the caller's subtree."""
    offset = decode_offset(p.after)
    book = await book_of(c, p.scheme_id)
    model = await models.get(c, book)
    names = model.leaf_names if model is not None else {}
    month = p.period  # a quarter's board is its own: checked at the quarter's end
    rows = await c.fetch(
        "SELECT r.unit_no, r.category, r.colour, r.checks, u.unit_id, u.name, u.path FROM result r"
        " JOIN book_unit u ON u.book = r.book AND u.unit_no = r.unit_no WHERE r.book = $1 AND"
        " r.period = $2"
        " AND r.colour IS NOT NULL AND ($3::text IS NULL OR r.category = $3) AND "
        + paths.sql("u.path", "$4", "$5"),
        book,
        month,
        p.category,
        *paths.bounds(caller.org_path),
    )
    warns = await c.fetch(
        "SELECT w.unit_no, w.level, w.lag, k.code FROM warning w JOIN book_code k ON k.book = w.book"
        " AND k.code_no = w.code_no WHERE w.book = $1 AND w.period = $2",
        book,
        month,
    )
    per: dict[int, list[Any]] = {}
    for w in warns:
        per.setdefault(w["unit_no"], []).append(w)
    items = []
    for r in rows:
        ws = sorted(per.get(r["unit_no"], []), key=lambda w: (-w["lag"], w["code"]))
        red = sum(1 for w in ws if w["level"] in ("red", "orange"))
        yellow = sum(1 for w in ws if w["level"] == "yellow")
        items.append(
            {
                "unit_id": r["unit_id"],
                "unit_name": r["name"],
                "unit_path": r["path"],
                "category": r["category"],
                "colour": r["colour"],
                "red": red,
                "yellow": yellow,
                "green": r["checks"] - red - yellow,
                "worst_lag": r6(ws[0]["lag"]) if ws else None,
                "on_schedule": not ws,
                "behind": [w["code"] for w in ws],
                "behind_indicators": [
                    {
                        "code": w["code"],
                        "name": names.get(w["code"], w["code"]),
                        "level": w["level"],
                        "level_zh": WARNING_LEVEL_ZH[w["level"]],
                        "lag": r6(w["lag"]),
                    }
                    for w in ws
                ],
            }
        )
    order = {"red": 0, "yellow": 1, "green": 2}
    items.sort(
        key=lambda b: (order[b["colour"]], -b["red"], -b["yellow"], -(b["worst_lag"] or 0), b["unit_id"])
    )
    page = items[offset : offset + p.first]
    more = offset + p.first < len(items)
    return {"items": page, "next": encode_cursor(offset + p.first) if more else None}


async def warnings(c: asyncpg.Connection, *, caller: Caller, p: WarningsQuery) -> dict[str, Any]:
    """One page of 序时进度 warnings under a subtree, at or above a level, keyset by (path, code, period)."""
    root = p.root_path or caller.org_path
    if not root.endswith("/") or not caller.covers(root):  # a subtree is a materialised path
        return {"items": [], "next": None}
    after = decode_cursor(p.after, 4) or ["", "", "", 0]
    levels = [lv for lv, n in LEVEL_ORDER.items() if n >= LEVEL_ORDER[p.min_level]]
    rows = await c.fetch(
        "SELECT u.unit_id, u.path, k.code, w.period, w.level, w.expected, w.actual, w.lag,"
        " w.raised_at, w.book"
        " FROM warning w JOIN book_unit u ON u.book = w.book AND u.unit_no = w.unit_no"
        " JOIN book_code k ON k.book = w.book AND k.code_no = w.code_no WHERE "
        + paths.sql("u.path", "$1", "$9")
        + " AND ($2::text IS NULL OR w.period = $2) AND w.level = ANY($3)"
        " AND (u.path, k.code, w.period, w.book) > ($4, $5, $6, $7)"
        " ORDER BY u.path, k.code, w.period, w.book LIMIT $8",
        root,
        p.period,
        levels,
        after[0],
        after[1],
        after[2],
        int(after[3]),
        p.first + 1,
        paths.upper(root),
    )
    items = [
        {
            "unit_id": r["unit_id"],
            "unit_path": r["path"],
            "code": r["code"],
            "period": r["period"],
            "level": r["level"],
            "level_zh": WARNING_LEVEL_ZH[r["level"]],
            "expected": r6(r["expected"]),
            "actual": r6(r["actual"]),
            "lag": r6(r["lag"]),
            "raised_at": r["raised_at"].isoformat(),
        }
        for r in rows[: p.first]
    ]
    last = rows[p.first - 1] if len(rows) > p.first else None
    nxt = encode_cursor(last["path"], last["code"], last["period"], last["book"]) if last else None
    return {"items": items, "next": nxt}


async def explanation(
    c: asyncpg.Connection, *, caller: Caller, p: ExplainQuery, models: Models
) -> dict[str, Any]:
    """得分反查: the explanation trace of a unit's period, live or as published."""
    if p.scheme_id:
        book = await book_of(c, p.scheme_id)
    else:
        book = await c.fetchval(
            "SELECT u.book FROM book_unit u JOIN book b ON b.id = u.book WHERE u.unit_id = $1"
            " AND u.assessed AND b.scheme_id IS NOT NULL AND b.year = $2 ORDER BY u.book DESC"
            " LIMIT 1",
            p.unit_id,
            int(p.period[:4]),
        )
        if book is None:
            raise NotFound(f"no scored results for unit {p.unit_id!r} in {p.period}", field="unit_id")
    row = await unit_row(c, caller, book, p.unit_id)
    status = await status_of(c, book, p.period)
    scheme_id = await c.fetchval("SELECT scheme_id FROM book WHERE id = $1", book)
    head = {"unit_id": p.unit_id, "period": p.period, "scheme_id": scheme_id}
    if p.source == "published" or (p.source is None and status == "published"):
        if status != "published":
            raise NotFound(f"results for {p.period} are not published", field="period")
        return {**head, **await snapshot.explanation(c, book, p.period, p.unit_id)}
    model = await models.get(c, book)
    unit = model.units.get(row["unit_no"]) if model else None
    trace = await explain(c, model, unit, p.period) if model and unit else None
    if trace is None:
        raise NotFound(f"unit {p.unit_id!r} has no values in {p.period}", field="period")
    raw = canonical_bytes(trace)
    return {
        **head,
        "status": status,
        "source": "live",
        "snapshot_id": None,
        "total": r6(trace.value),
        "digest": hashlib.sha256(raw).hexdigest(),
        "adds_up": check_trace(trace),
        "trace": orjson.loads(raw),
    }


async def periods(
    c: asyncpg.Connection, *, caller: Caller, p: PeriodsQuery, models: Models
) -> list[dict[str, Any]]:
    """A unit's results of a year, month by month, then quarters and the year with their parts."""
    book = await book_of(c, p.scheme_id)
    row = await unit_row(c, caller, book, p.unit_id)
    model = await models.get(c, book)
    rows = await c.fetch(
        "SELECT period, kind, total, parts FROM result WHERE book = $1 AND unit_no = $2"
        " AND period LIKE $3 || '%'",
        book,
        row["unit_no"],
        str(p.year),
    )
    rank = {"month": 0, "rollup": 0, "quarter": 1, "year": 2}
    out = []
    for r in sorted(rows, key=lambda r: (rank.get(r["kind"], 0), r["period"])):
        parts = []
        if r["parts"] is not None and model is not None:
            spec = model.config.aspects() if r["kind"] == "quarter" else model.config.shares()
            for a, v in zip(spec, r["parts"], strict=False):
                parts.append(
                    {
                        "code": a.code,
                        "name": a.name,
                        "weight": a.weight,
                        "value": r6(v),
                        "contribution": r6(a.weight * v),
                    }
                )
        kind = "month" if r["kind"] == "month" else r["kind"] if r["kind"] in ("quarter", "year") else "other"
        out.append({"period": r["period"], "kind": kind, "total": r6(r["total"]), "parts": parts})
    return out
