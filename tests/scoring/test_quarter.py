"""季度考核 on 季末累计 values (the default): quarter values win, else each leaf's latest month; the quarter's
序时进度 checks, 三色榜, explanation and recompute on the real stack."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from kaohe.contracts.standards import Schedule
from kaohe.db import asyncpg_dsn
from services.scoring.domain.config import WarningSettings
from services.scoring.domain.pace import assess_pace
from services.scoring.domain.trace import TraceNode, check_trace
from tests.conftest import eventually
from tests.support.scoring import SCHEME, Scoring, due, fill, month_total, totals

pytestmark = pytest.mark.asyncio
Q = "2026-Q1"
QUARTER_END = date(2026, 3, 31)
TARGETS = {c["code"]: c.get("target") for c in SCHEME["trunk"][0]["children"]}  # GDP 100, FAI 50
BOARD = {"green": "green", "yellow": "yellow", "orange": "red", "red": "red"}  # 橙 counts as 红


def node(d: dict) -> TraceNode:
    kids = tuple(node(c) for c in d["children"])
    return TraceNode(
        d["code"],
        d["name"],
        d["kind"],
        d["value"],
        d["contribution"],
        d["weight"],
        d["multiplier"],
        d["details"],
        kids,
    )


def pace(code: str, value: float) -> str:
    """The level the rule definitions give for a quarter-end value (default 保靖 four levels)."""
    cfg = WarningSettings().engine()
    return assess_pace(Schedule(), QUARTER_END, value=value, target=TARGETS[code], config=cfg).level


async def seed(sc: Scoring, sid: str) -> dict[str, dict[str, float]]:
    """Three units: quarter values only, months only, both. Returns each unit's quarter-end GDP/FAI."""
    # 140501: quarter-level values only
    await fill(sc, sid, "140501", Q, 10, 30, 1, "较好")
    # 140502: months only; the quarter takes each leaf's latest month
    await fill(sc, sid, "140502", "2026-01", 20, 5, 2, "一般")
    await sc.value(sid, "140502", "GDP", "2026-02", 21)
    await sc.value(sid, "140502", "FAI", "2026-02", 6)
    await sc.value(sid, "140502", "GDP", "2026-03", 26)
    # 140503: both; the quarter values win, REV (reported monthly only) comes from March
    await fill(sc, sid, "140503", "2026-01", 90, 40, 0, "好")
    await sc.value(sid, "140503", "REV", "2026-03", None, grade="较好")
    await sc.value(sid, "140503", "GDP", Q, 30)
    await sc.value(sid, "140503", "FAI", Q, 15)
    await sc.value(sid, "140503", "SAFE", Q, 1)
    return {
        "140501": {"GDP": 10, "FAI": 30},
        "140502": {"GDP": 26, "FAI": 6},
        "140503": {"GDP": 30, "FAI": 15},
    }


async def test_quarter_scored_on_quarter_end_values_with_warnings(
    scoring: Scoring,
    database_url: str,
) -> None:
    sc = scoring
    sid = await sc.scheme()
    ends = await seed(sc, sid)
    want = {
        "140501": month_total(10, 30, 1, 0.8, period=Q),
        "140502": month_total(26, 6, 2, 0.6, period=Q),
        "140503": month_total(30, 15, 1, 0.8, coef=1.1, period=Q),
    }
    units = sorted(want)

    async def scored() -> bool:
        got = await totals(sc, units, Q)
        return all(got[u] == pytest.approx(t, abs=1e-6) for u, t in want.items())

    await eventually(scored, what="quarter totals on 季末累计 values")
    # months keep their own values (月度进展)
    months = await totals(sc, ["140502", "140503"], "2026-01")
    assert months == {
        "140502": pytest.approx(month_total(20, 5, 2, 0.6, period="2026-01")),
        "140503": pytest.approx(month_total(90, 40, 0, 1.0, coef=1.1, period="2026-01")),
    }
    assert (await totals(sc, ["140501"], "2026-01"))["140501"] is None
    page = await sc.call("ranking", {"scheme_id": sid, "period": Q, "category": "乡镇"})
    assert [r["unit_id"] for r in page["items"]] == sorted(units, key=lambda u: -want[u])

    # 序时进度 at 31 March on the same values
    levels = {(u, code): pace(code, v) for u, vs in ends.items() for code, v in vs.items()}
    active = {k: lv for k, lv in levels.items() if lv != "green"}
    assert active, "the seed is meant to lag somewhere"

    async def warned() -> bool:
        got = await sc.call("warnings", {"root_path": "/14/1405/", "period": Q})
        return {(w["unit_id"], w["code"]): w["level"] for w in got["items"]} == active

    await eventually(warned, what="quarter-end warnings")
    board = await sc.call("board", {"scheme_id": sid, "period": Q})
    colours = {b["unit_id"]: b["colour"] for b in board["items"]}
    rank = {"green": 0, "yellow": 1, "orange": 2, "red": 3}
    for u in units:
        worst = max((levels[(u, c)] for c in ("GDP", "FAI")), key=rank.__getitem__)
        assert colours[u] == BOARD[worst]
    rows = {r["unit_id"]: r for r in page["items"]}
    assert all(rows[u]["warning_colour"] == colours[u] for u in units)

    # the explanation: the quarter's own roll-up, naming where each leaf's value came from
    ex = await sc.call("explanation", {"unit_id": "140503", "period": Q, "scheme_id": sid})
    assert ex["adds_up"] and ex["trace"]["value"] == pytest.approx(want["140503"])
    assert check_trace(node(ex["trace"])) and node(ex["trace"]).digest() == ex["digest"]
    end = ex["trace"]["children"][0]["children"][0]
    assert end["kind"] == "quarter_end" and end["code"] == Q
    assert end["details"]["from_quarter"] == ["FAI", "GDP", "SAFE"]
    assert end["details"]["from_months"] == {"REV": "2026-03"}
    ind = next(c for c in end["children"] if c["kind"] == "indicators")
    eco = next(c for c in ind["children"] if c["code"] == "ECO")
    gdp = next(leaf for leaf in eco["children"] if leaf["code"] == "GDP")
    assert gdp["details"]["inputs"]["value"] == 30.0 and gdp["details"]["value_period"] == Q
    inputs = gdp["details"]["inputs"]  # 年度目标按序时进度分解: the annual target, its share due by 31 March
    assert inputs["annual_target"] == 100.0  # numbers come rounded to 6 decimals
    assert inputs["due_fraction"] == pytest.approx(due(Q), abs=1e-6)
    assert inputs["due_target"] == inputs["target"] == pytest.approx(100 * due(Q), abs=1e-6)
    assert (await sc.call("explanation", {"unit_id": "140503", "period": Q}))["digest"] == ex["digest"]
    ex2 = await sc.call("explanation", {"unit_id": "140502", "period": Q, "scheme_id": sid})
    end2 = ex2["trace"]["children"][0]["children"][0]
    assert ex2["adds_up"] and end2["details"]["from_quarter"] == []
    assert end2["details"]["from_months"] == {
        "FAI": "2026-02",
        "GDP": "2026-03",
        "REV": "2026-01",
        "SAFE": "2026-01",
    }
    ex1 = await sc.call("explanation", {"unit_id": "140501", "period": Q, "scheme_id": sid})
    assert ex1["adds_up"] and ex1["trace"]["children"][0]["children"][0]["details"]["from_months"] == {}

    # a full recompute gives the same rows and warnings as the incremental scorer
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    cols = (
        "period, unit_no, round(total::numeric, 9), round(indicators::numeric, 9), rank, of, grade, colour,"
        " checks, l1::text, parts::text, leaves, veto_grade"
    )
    queries = (
        f"SELECT {cols} FROM scoring.result ORDER BY period, unit_no",
        "SELECT period, unit_no, code_no, level, round(lag::numeric, 9) FROM scoring.warning"
        " ORDER BY period, unit_no, code_no",
    )
    try:
        incremental = [[tuple(r) for r in await conn.fetch(q)] for q in queries]
        job = await sc.call("recompute_start", {"scheme_id": sid, "period": Q})

        async def finished() -> bool:
            return (await sc.call("recompute_status", {"job_id": job["job_id"]}))["status"] == "done"

        await eventually(finished, what="recompute job")
        assert [[tuple(r) for r in await conn.fetch(q)] for q in queries] == incremental
    finally:
        await conn.close()
    again = await sc.call("explanation", {"unit_id": "140503", "period": Q, "scheme_id": sid})
    assert again["digest"] == ex["digest"]


async def test_mean_and_last_stay_available(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    last = {"code": "indicators", "name": "月度指标得分", "weight": 1.0, "from_months": "last"}
    await sc.call("config_set", {"scheme_id": sid, "config": {"quarter_aspects": [last]}})
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140501", "2026-02", 100, 20, 0, "好")
    await fill(sc, sid, "140502", Q, 50, 25, 0, "好")  # no month: scored directly on its quarter values
    want = {  # last: February's total; no month: the quarter scored directly
        "140501": month_total(100, 20, 0, 1.0, period="2026-02"),
        "140502": month_total(50, 25, 0, 1.0, period=Q),
    }

    async def scored() -> bool:
        got = await totals(sc, sorted(want), Q)
        return all(got[u] == pytest.approx(t, abs=1e-6) for u, t in want.items())

    await eventually(scored, what="quarter = last month's total")
    ex = await sc.call("explanation", {"unit_id": "140501", "period": Q, "scheme_id": sid})
    kids = ex["trace"]["children"][0]["children"]
    assert ex["adds_up"] and [k["code"] for k in kids] == ["2026-02"] and kids[0]["kind"] == "month"
