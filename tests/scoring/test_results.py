"""Warnings, supervision, explanations, recompute jobs and publication on the real stack."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from kaohe.contracts.standards import Schedule
from kaohe.db import asyncpg_dsn
from kaohe.errors import KaoheError as Conflict  # remote codes arrive as KaoheError
from services.scoring.domain.pace import expected_fraction
from services.scoring.domain.trace import TraceNode, check_trace
from tests.conftest import eventually
from tests.support.scoring import Events, Scoring, due, fill, month_total, totals

pytestmark = pytest.mark.asyncio


def node(d: dict) -> TraceNode:
    return TraceNode(
        d["code"],
        d["name"],
        d["kind"],
        d["value"],
        d["contribution"],
        d["weight"],
        d["multiplier"],
        d["details"],
        tuple(node(c) for c in d["children"]),
    )


async def test_warnings_raised_and_cleared_only_on_level_change(scoring: Scoring, events: Events) -> None:
    sc = scoring
    sid = await sc.scheme()
    expected = expected_fraction(Schedule(), date(2026, 6, 30))  # 181/365 of the annual GDP target by June
    await sc.value(sid, "140501", "GDP", "2026-06", 20)  # 20 % done: lag ≈ 0.30 → red (≥ 0.20)

    async def raised() -> bool:
        return bool(events.of("kaohe.scoring.warning.raised", unit_id="140501", code="GDP", period="2026-06"))

    await eventually(raised, what="warning.raised")
    e = events.of("kaohe.scoring.warning.raised", unit_id="140501", code="GDP", period="2026-06")[0]
    assert e.subject == "140501:GDP:2026-06" and e.data["level"] == "red" and e.data["level_zh"] == "红"
    assert e.data["expected"] == pytest.approx(expected, abs=1e-6) and e.data["lag"] == pytest.approx(
        expected - 0.2, abs=1e-6
    )
    listed = await sc.call("warnings", {"root_path": "/14/1405/", "period": "2026-06"})
    assert [(w["unit_id"], w["code"], w["level"]) for w in listed["items"]] == [("140501", "GDP", "red")]
    board = await sc.call("board", {"scheme_id": sid, "period": "2026-06"})
    assert [(b["unit_id"], b["colour"], b["behind"]) for b in board["items"]] == [("140501", "red", ["GDP"])]
    # another value at the same level raises nothing new; catching up clears it
    await sc.value(sid, "140501", "FAI", "2026-06", 30)  # FAI 30/50 = 0.6 ≥ expected: green
    await sc.value(sid, "140501", "GDP", "2026-06", 21)
    await sc.value(sid, "140501", "GDP", "2026-06", 48)  # lag ≈ 0.016 → green

    async def cleared() -> bool:
        return all(
            events.of("kaohe.scoring.warning.cleared", unit_id="140501", code="GDP", period=p)
            for p in ("2026-06", "2026-Q2")
        )

    await eventually(cleared, what="warning.cleared (the month and its quarter, checked at 30 June)")
    # one warning per checked period: June, and the second quarter on its 季末累计 values (June's)
    raised_for = [e.data["period"] for e in events.of("kaohe.scoring.warning.raised", unit_id="140501")]
    assert sorted(raised_for) == ["2026-06", "2026-Q2"]
    gone = events.of("kaohe.scoring.warning.cleared", period="2026-06")[0].data
    assert gone["previous_level"] == "red" and gone["level"] == "green"
    # the check that cleared it: 48 of the annual 100 against the expected share of the year
    assert gone["actual"] == pytest.approx(0.48, abs=1e-6)
    assert gone["expected"] == pytest.approx(expected, abs=1e-6)
    assert gone["lag"] == pytest.approx(expected - 0.48, abs=1e-6)
    assert (await sc.call("warnings", {"root_path": "/14/"}))["items"] == []


async def test_supervision_component_is_weighted_in(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    await sc.call("config_set", {"scheme_id": sid, "config": {"supervision_weight": 0.1}})
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 90, 60, 1, "较好")
    await sc.publish(
        "kaohe.supervision.result.scored",
        "140501:2026-Q1",
        {
            "unit_id": "140501",
            "unit_path": "/14/1405/140501/",
            "period": "2026-Q1",
            "score": 80.0,
            "items": 3,
            "revision": 1,
            "details": [{"item_id": "x", "deduction": 20.0, "reason": "超期未办结"}],
        },
    )
    with_sup = month_total(90, 60, 1, 0.8, s=0.1, sup=80.0, period="2026-01")
    # no result: no deduction recorded
    none_yet = month_total(90, 60, 1, 0.8, s=0.1, sup=100.0, period="2026-01")

    async def weighted() -> bool:
        got = await totals(sc, ["140501", "140502"], "2026-01")
        return got == {"140501": pytest.approx(with_sup), "140502": pytest.approx(none_yet)}

    await eventually(weighted, what="supervision component")
    ex = await sc.call("explanation", {"unit_id": "140501", "period": "2026-01", "scheme_id": sid})
    sup = next(c for c in ex["trace"]["children"] if c["kind"] == "supervision")
    assert sup["value"] == pytest.approx(80.0) and sup["weight"] == pytest.approx(0.1)


async def test_explanation_is_deterministic_adds_up_and_reaches_the_evidence(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    mean = {"code": "indicators", "name": "月度指标得分", "weight": 1.0, "from_months": "mean"}
    await sc.call("config_set", {"scheme_id": sid, "config": {"quarter_aspects": [mean]}})
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")
    await fill(sc, sid, "140501", "2026-02", 100, 50, 0, "好")
    q = (month_total(90, 60, 1, 0.8, period="2026-01") + month_total(100, 50, 0, 1.0, period="2026-02")) / 2

    async def done() -> bool:
        month = await totals(sc, ["140502"], "2026-01")
        return (await totals(sc, ["140501"], "2026-Q1"))["140501"] == pytest.approx(q) and month[
            "140502"
        ] is not None

    await eventually(done, what="quarter and both units' month")
    first = await sc.call("explanation", {"unit_id": "140501", "period": "2026-01", "scheme_id": sid})
    again = await sc.call("explanation", {"unit_id": "140501", "period": "2026-01"})
    assert first == again and first["adds_up"]
    trace = node(first["trace"])
    assert check_trace(trace) and trace.value == pytest.approx(month_total(90, 60, 1, 0.8, period="2026-01"))
    canonical = trace.canonical()
    assert hashlib.sha256(canonical).hexdigest() == first["digest"] == trace.digest()
    ind = next(c for c in first["trace"]["children"] if c["kind"] == "indicators")
    gdp = next(leaf for l1 in ind["children"] for leaf in l1["children"] if leaf["code"] == "GDP")
    assert gdp["details"]["inputs"]["evidence_ids"] == ["ev-140501"]
    inputs = gdp["details"]["inputs"]  # the annual 100, of which 31/365 is due by 31 January
    assert inputs["value"] == 90.0 and inputs["annual_target"] == 100.0
    assert inputs["target"] == inputs["due_target"] == pytest.approx(100 * due("2026-01"), abs=1e-6)
    assert gdp["details"]["rule"]["type"] == "completion_ratio"
    assert first["trace"]["details"]["ranking"]["rank"] == 2  # behind 140502's
    quarter = await sc.call("explanation", {"unit_id": "140501", "period": "2026-Q1", "scheme_id": sid})
    assert quarter["adds_up"] and quarter["trace"]["value"] == pytest.approx(q)
    months = quarter["trace"]["children"][0]["children"]
    assert [m["code"] for m in months] == ["2026-01", "2026-02"] and months[0]["weight"] == pytest.approx(0.5)
    # every unit of the period adds up
    for unit in ("140501", "140502"):
        assert (await sc.call("explanation", {"unit_id": unit, "period": "2026-01", "scheme_id": sid}))[
            "adds_up"
        ]


async def test_recompute_reports_progress_and_matches_incremental(
    scoring: Scoring,
    database_url: str,
) -> None:
    sc = scoring
    sid = await sc.scheme()
    mean = {"code": "indicators", "name": "月度指标得分", "weight": 1.0, "from_months": "mean"}
    await sc.call("config_set", {"scheme_id": sid, "config": {"quarter_aspects": [mean]}})
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-02", 100, 50, 0, "好")
    await fill(sc, sid, "140503", "2026-03", 80, 40, 2, "一般")
    await fill(sc, sid, "140504", "2026-01", 70, 20, 3, "差")

    conn = await asyncpg.connect(asyncpg_dsn(database_url))

    async def settled(values: int) -> bool:
        """Every value published so far is stored and scored: the consumer stores a value and queues its
        unit in one transaction, the scorer takes the queue and writes the results in another."""
        return bool(
            await conn.fetchval(
                "SELECT (SELECT count(*) FROM scoring.value) = $1 AND NOT EXISTS (SELECT FROM scoring.dirty)",
                values,
            )
        )

    await eventually(lambda: settled(16), what="incremental results")
    # a later month of a unit already scored: its earlier month is not rescored, its stored row goes into
    # the quarter's composition
    before = (await totals(sc, ["140501"], "2026-Q1"))["140501"]
    await fill(sc, sid, "140501", "2026-02", 99, 70, 0, "好")

    await eventually(lambda: settled(20), what="the later month")
    assert (await totals(sc, ["140501"], "2026-02"))["140501"] is not None
    assert await _changed(sc, before)  # the quarter recomposed
    # what is stored per unit; places (rank, grade, quota, 末位) are derived from the category standings
    # on read (neighbours' stored places are not rewritten when a batch moves them), so they are
    # compared as the API returns them
    cols = "period, unit_no, round(total::numeric, 9), l1::text, colour"
    query = f"SELECT {cols} FROM scoring.result ORDER BY period, unit_no"
    ids = ["140501", "140502", "140503", "140504"]
    periods = ["2026-01", "2026-02", "2026-03", "2026-Q1", "2026"]

    async def places() -> list[tuple[object, ...]]:
        out = []
        for p in periods:
            got = await sc.call("scores_by_units", {"ids": ids, "period": p})
            out += [
                (p, u, got[u]["rank"], got[u]["of"], got[u]["grade"], got[u]["total"])
                for u in ids
                if got[u] is not None
            ]
        return out

    try:
        incremental = [tuple(r) for r in await conn.fetch(query)]
        placed = await places()
        assert {x[0] for x in placed} == set(periods)
        job = await sc.call("recompute_start", {"scheme_id": sid, "period": "2026-Q1"})
        assert job["status"] == "queued" and job["progress"] == 0.0

        async def finished() -> bool:
            st = await sc.call("recompute_status", {"job_id": job["job_id"]})
            return st["status"] == "done"

        await eventually(finished, what="recompute job")
        st = await sc.call("recompute_status", {"job_id": job["job_id"]})
        assert st["progress"] == 1.0 and st["done_units"] == st["total_units"] == 4 and st["stage"] == "done"
        assert [tuple(r) for r in await conn.fetch(query)] == incremental
        assert await places() == placed
        # and the full recompute's stored places are the derived ones
        stored = await conn.fetch(
            "SELECT r.period, u.unit_id, r.rank, r.of, r.grade FROM scoring.result r"
            " JOIN scoring.book_unit u ON u.book = r.book AND u.unit_no = r.unit_no"
        )
        assert {(r[0], r[1], r[2], r[3], r[4]) for r in stored} == {x[:5] for x in placed}
    finally:
        await conn.close()


async def _changed(sc: Scoring, before: float | None) -> bool:
    return (await totals(sc, ["140501"], "2026-Q1"))["140501"] != before


async def test_objection_window_blocks_publication_and_snapshot_is_immutable(
    scoring: Scoring,
    events: Events,
    database_url: str,
) -> None:
    from kaohe.identity import Caller, Role

    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")

    async def done() -> bool:
        return None not in (await totals(sc, ["140501", "140502"], "2026-Q1")).values()

    await eventually(done, what="results")
    reporter = Caller(user_id="r1", roles=frozenset({Role.reporter}), org_path="/14/1405/140501/")
    args = {"scheme_id": sid, "period": "2026-Q1"}
    with pytest.raises(Conflict) as closed:
        await sc.call("objection_create", {**args, "unit_id": "140501", "reason": "GDP 数据有误"}, reporter)
    assert closed.value.code == "objection_window_closed"
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    st = await sc.call("objection_window_open", {**args, "until": until})
    assert st["status"] == "objection_window"
    obj = await sc.call(
        "objection_create",
        {**args, "unit_id": "140501", "reason": "GDP 数据有误", "codes": ["GDP"]},
        reporter,
    )
    with pytest.raises(Conflict) as blocked:
        await sc.call("results_publish", {**args, "force_close_window": True})
    assert (
        blocked.value.code == "objections_open"
        and blocked.value.details[0]["objection_id"] == obj["objection_id"]
    )
    await sc.call(
        "objection_answer",
        {"objection_id": obj["objection_id"], "answer": "已核实，维持原分", "decision": "rejected"},
    )
    with pytest.raises(Conflict) as still_open:
        await sc.call("results_publish", args)
    assert still_open.value.code == "objection_window_open"
    st = await sc.call("results_publish", {**args, "force_close_window": True})
    assert st["status"] == "published" and st["answered_objections"] == 1

    async def announced() -> bool:
        return bool(events.of("kaohe.scoring.results.published"))

    await eventually(announced, what="results.published")
    pub = events.of("kaohe.scoring.results.published")[0]
    assert pub.subject == f"{sid}:2026-Q1" and pub.data["digest"] == st["digest"]
    assert [u["unit_id"] for u in pub.data["units"]] == ["140502", "140501"]
    with pytest.raises(Conflict) as again:
        await sc.call("results_publish", args)
    assert again.value.code == "already_published"
    snap = await sc.call("results_snapshot", args)
    assert snap["digest"] == st["digest"] and len(snap["items"]) == 2
    # later approvals change live scores, never the snapshot; the database refuses to edit it
    await sc.value(sid, "140501", "GDP", "2026-01", 10)  # below the share due by the quarter's end

    async def live_moved() -> bool:
        return (await totals(sc, ["140501"], "2026-Q1"))["140501"] != pytest.approx(snap["items"][1]["total"])

    await eventually(live_moved, what="live score after publication")
    assert (await sc.call("results_snapshot", args)) == snap
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("UPDATE scoring.snapshot SET digest = 'x'")
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("DELETE FROM scoring.snapshot")
    finally:
        await conn.close()
