"""Scoring on the real stack: approvals → leaf, roll-up, ranking, grades, events; reopen withdraws."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import eventually
from tests.support.scoring import SCHEME, Events, Scoring, due, fill, month_total, totals

pytestmark = pytest.mark.asyncio
TOWNS = ["140501", "140502", "140503"]
JAN = "2026-01"


async def test_approvals_score_rank_and_announce(scoring: Scoring, events: Events) -> None:
    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")
    await fill(sc, sid, "140503", "2026-01", 80, 40, 2, "一般")
    await sc.value(sid, "140503", "HONOR", "2026-01", 5)  # 5 × 1 point, capped at 3
    want = {
        "140501": month_total(90, 60, 1, 0.8, period=JAN),
        "140502": month_total(100, 50, 0, 1.0, period=JAN),
        "140503": month_total(80, 40, 2, 0.6, honor=5, coef=1.1, period=JAN),
    }

    async def scored() -> bool:
        got = await totals(sc, TOWNS, "2026-01")
        return all(got[u] == pytest.approx(t, abs=1e-6) for u, t in want.items())

    await eventually(scored, what="month totals")
    page = await sc.call("ranking", {"scheme_id": sid, "period": "2026-01", "category": "乡镇"})
    assert [r["unit_id"] for r in page["items"]] == sorted(want, key=lambda u: -want[u])
    top = page["items"][0]
    assert (top["rank"], top["of"], top["grade"]) == (1, 3, "优秀")
    assert [x["code"] for x in top["level1"]] == ["ECO", "GOV", "HONOR", "VETO"]
    eco = top["level1"][0]
    # January's due share of GDP 100 / FAI 50 is 31/365 of it: GDP at its 1.2 cap, FAI at 1.0
    assert eco["score"] == pytest.approx(100 * (0.6 * 1.2 + 0.4 * 1.0))
    assert eco["weight"] == pytest.approx(0.5)
    # the quarter is scored on its 季末累计 values (here January's); the year the mean of its quarters
    q1 = month_total(90, 60, 1, 0.8, period="2026-Q1")  # January's values against the Q1 share due
    assert (await totals(sc, ["140501"], "2026-Q1"))["140501"] == pytest.approx(q1)
    assert (await totals(sc, ["140501"], "2026"))["140501"] == pytest.approx(q1)

    async def announced() -> bool:
        evs = events.of("kaohe.scoring.score.updated", unit_id="140502", period="2026-01")
        return (
            bool(evs) and evs[-1].data["total"] == pytest.approx(want["140502"]) and evs[-1].data["rank"] == 1
        )

    await eventually(announced, what="score.updated for 140502")
    e = events.of("kaohe.scoring.score.updated", unit_id="140502", period="2026-01")[-1]
    assert e.subject == "140502:2026-01" and e.data["scheme_id"] == sid and e.data["category"] == "乡镇"

    # a second month moves the quarter: every leaf now takes its latest month (February)
    await fill(sc, sid, "140501", "2026-02", 100, 50, 0, "好")
    q = month_total(100, 50, 0, 1.0, period="2026-Q1")

    async def quarter() -> bool:
        return (await totals(sc, ["140501"], "2026-Q1"))["140501"] == pytest.approx(q)

    await eventually(quarter, what="quarter at its latest month")
    months = await sc.call("periods", {"unit_id": "140501", "scheme_id": sid, "year": 2026})
    assert [m["period"] for m in months] == ["2026-01", "2026-02", "2026-Q1", "2026"]
    assert months[2]["parts"][0]["code"] == "indicators" and months[2]["parts"][0]["value"] == pytest.approx(
        q
    )


async def test_ties_quota_exemption_veto_and_last_place(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    for u in TOWNS[:2]:  # two units tie: broken by unit code
        await fill(sc, sid, u, "2026-01", 100, 50, 0, "好")
    await fill(sc, sid, "140503", "2026-01", 80, 40, 2, "一般")  # 1.1 × (0.5 × 112 + 0.5 × 68) = 99

    async def ranked() -> bool:
        page = await sc.call("ranking", {"scheme_id": sid, "period": "2026-01", "category": "乡镇"})
        tied = month_total(100, 50, 0, 1.0, period=JAN)
        want = [tied, tied, month_total(80, 40, 2, 0.6, coef=1.1, period=JAN)]
        return [r["total"] for r in page["items"]] == pytest.approx(want)

    await eventually(ranked, what="two tied units and a third")
    page = await sc.call("ranking", {"scheme_id": sid, "period": "2026-01", "category": "乡镇"})
    rows = {r["unit_id"]: r for r in page["items"]}
    assert [r["unit_id"] for r in page["items"]] == TOWNS  # deterministic tie-break
    # 优秀 quota: floor(0.3 × 3) = 0, at least 1 → only the first of the tied units keeps 优秀
    assert [rows[u]["grade"] for u in TOWNS] == ["优秀", "良好", "良好"]
    assert rows["140501"]["in_quota"] and not rows["140502"]["in_quota"]
    assert [rows[u]["last_place"] for u in TOWNS] == [False, False, True]
    # 专项考核第一: 140503 is 优秀 outside the quota; 一票否决 caps 140501 at 一般
    await sc.call(
        "exemption_set", {"scheme_id": sid, "period": "2026-01", "unit_id": "140503", "reason": "专项第一"}
    )
    await sc.value(sid, "140501", "VETO", "2026-01", 1)

    async def regraded() -> bool:
        page = await sc.call("ranking", {"scheme_id": sid, "period": "2026-01", "category": "乡镇"})
        got = {r["unit_id"]: r["grade"] for r in page["items"]}
        return got == {"140501": "一般", "140502": "优秀", "140503": "优秀"}

    await eventually(regraded, what="exemption and veto applied")
    grades = await sc.call("grades", {"scheme_id": sid, "period": "2026-01"})
    town = next(g for g in grades if g["category"] == "乡镇")
    assert town["counts"] == {"优秀": 2, "良好": 0, "一般": 1, "较差": 0}
    assert town["quota"] == 1 and town["exempt"] == 1 and town["vetoed"] == 1


async def test_reopen_withdraws_and_old_revisions_are_ignored(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    full = month_total(90, 60, 1, 0.8, period=JAN)

    async def total_is(v: float) -> bool:
        return (await totals(sc, ["140501"], "2026-01"))["140501"] == pytest.approx(v)

    await eventually(lambda: total_is(full), what="first total")
    # withdraws GDP: 30 分 × 1.2 (90 against the 31/365 of 100 due by 31 January, capped)
    await sc.value(sid, "140501", "GDP", "2026-01", None, verb="reopened")
    without_gdp = full - 0.5 * 100 * 0.6 * 1.2
    await eventually(lambda: total_is(without_gdp), what="GDP withdrawn")
    # a stale approval (older revision) replayed later changes nothing; a non-final one is not counted
    await sc.value(sid, "140501", "GDP", "2026-01", 120, revision=1)
    await sc.value(sid, "140501", "FAI", "2026-01", 10, final=False)
    await sc.value(sid, "140501", "GDP", "2026-01", 5)  # the newest revision counts (below the cap)
    regained = 0.5 * 100 * 0.6 * 5 / (100 * due(JAN))
    await eventually(lambda: total_is(without_gdp + regained), what="re-approved GDP")


async def test_scope_caller_outside_the_subtree_gets_nothing(scoring: Scoring) -> None:
    from kaohe.errors import NotFound
    from kaohe.identity import Caller, Role

    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 90, 60, 1, "较好")

    async def done() -> bool:
        return None not in (await totals(sc, ["140501", "140502"], "2026-01")).values()

    await eventually(done, what="scores")
    town = Caller(user_id="t", roles=frozenset({Role.leader}), org_path="/14/1405/140502/")
    other = Caller(user_id="o", roles=frozenset({Role.leader}), org_path="/14/1406/")
    assert (await totals(sc, ["140501", "140502"], "2026-01", town)) == {
        "140501": None,
        "140502": pytest.approx(month_total(90, 60, 1, 0.8, period=JAN)),
    }
    page = await sc.call("ranking", {"scheme_id": sid, "period": "2026-01", "category": "乡镇"}, town)
    assert [(r["unit_id"], r["of"]) for r in page["items"]] == [("140502", 2)]  # rank stays category-wide
    assert (await sc.call("ranking", {"scheme_id": sid, "period": "2026-01", "category": "乡镇"}, other))[
        "items"
    ] == []
    assert (await sc.call("warnings", {"root_path": "/14/"}, other))["items"] == []
    with pytest.raises(NotFound):
        await sc.call("explanation", {"unit_id": "140501", "period": "2026-01", "scheme_id": sid}, other)


async def test_a_batch_of_submissions_applies_in_stream_order(scoring: Scoring) -> None:
    """The consumer hands a fetched batch over at once; it must end as if applied event by event."""
    import asyncpg

    from kaohe.contracts.indicators import SubmissionApproved, SubmissionReopened
    from kaohe.db import asyncpg_dsn
    from kaohe.events import CloudEvent
    from services.scoring import consumers
    from services.scoring.service import inputs
    from tests.support.scoring import CITY, UNITS, YEAR

    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", JAN, 90, 60, 1, "较好")
    await eventually(lambda: _has_total(sc, JAN), what="first total")
    path = next(u["path"] for u in UNITS if u["unit_id"] == "140501")

    def ev(verb: str, code: str, value: float | None, revision: int, final: bool = True) -> CloudEvent:
        model = SubmissionApproved if verb == "approved" else SubmissionReopened
        payload = model(
            submission_id=f"sub-140501:{code}:{JAN}",
            unit_id="140501",
            unit_path=path,
            scheme_id=sid,
            scheme_version=1,
            assessing_unit=CITY,
            year=YEAR,
            code=code,
            period=JAN,
            value=value,
            revision=revision,
            actor="u",
            at=datetime(2026, 2, 2, 9, tzinfo=UTC),
            final=final,
        )
        return payload.event(subject=code)

    batch = [
        ev("approved", "GDP", 50, 5),
        ev("approved", "GDP", 60, 6),  # the same value again: applied after the first
        ev("approved", "GDP", 120, 4),  # stale
        ev("reopened", "FAI", None, 9),
        ev("approved", "SAFE", 7, 9, final=False),  # first-level review only
    ]
    assert sc.rt.db is not None
    async with sc.rt.db.uow() as s:
        await consumers.handle_many(s, batch, inputs.Interned())
    conn = await asyncpg.connect(asyncpg_dsn(sc.rt.db.url))
    try:
        rows = await conn.fetch(
            "SELECT c.code, v.value, v.revision, v.withdrawn FROM scoring.value v"
            " JOIN scoring.book_code c ON c.book = v.book AND c.code_no = v.code_no"
            " JOIN scoring.book_unit u ON u.book = v.book AND u.unit_no = v.unit_no"
            " WHERE u.unit_id = '140501' AND v.period = $1",
            JAN,
        )
        got = {r["code"]: (r["value"], r["revision"], r["withdrawn"]) for r in rows}
        assert got["GDP"] == (60, 6, False)
        assert got["FAI"][1:] == (9, True)
        assert got["SAFE"] == (1, 1, False)
    finally:
        await conn.close()
    # queued for the scorer, which scores the last state: GDP 60, FAI withdrawn
    want = month_total(60, 0, 1, 0.8, period=JAN)
    await eventually(lambda: _total_is(sc, JAN, want), what="the batch scored")


async def _has_total(sc: Scoring, period: str) -> bool:
    return (await totals(sc, ["140501"], period))["140501"] is not None


async def _total_is(sc: Scoring, period: str, want: float | None) -> bool:
    return (await totals(sc, ["140501"], period))["140501"] == pytest.approx(want)


async def test_a_rank_leaf_rescores_the_peers_of_the_unit_that_moved(scoring: Scoring) -> None:
    """排名进位: one unit's new value moves its peers' places on that leaf; their scores follow at once and
    equal what a full recompute gives."""
    import copy

    sc = scoring
    body = copy.deepcopy(SCHEME)
    fai = body["trunk"][0]["children"][1]
    assert fai["code"] == "FAI"
    fai["standard"] = {"type": "rank", "last_fraction": 0.5}
    sid = await sc.scheme(body)
    await fill(sc, sid, "140501", JAN, 90, 60, 1, "较好")
    await fill(sc, sid, "140502", JAN, 90, 20, 1, "较好")
    pair = ["140501", "140502"]

    async def both() -> bool:
        got = await totals(sc, pair, JAN)
        return None not in got.values() and got["140501"] > got["140502"]

    await eventually(both, what="140501 first on FAI")
    before = (await totals(sc, pair, JAN))["140501"]
    await sc.value(sid, "140502", "FAI", JAN, 100)  # 140502 overtakes; nothing new for 140501

    async def overtaken() -> bool:
        got = await totals(sc, pair, JAN)
        return got["140501"] is not None and got["140501"] < before

    await eventually(overtaken, what="140501's FAI fraction follows its new place")
    incremental = await totals(sc, pair, JAN)
    job = await sc.call("recompute_start", {"scheme_id": sid, "period": "2026-Q1"})

    async def finished() -> bool:
        return (await sc.call("recompute_status", {"job_id": job["job_id"]}))["status"] == "done"

    await eventually(finished, what="recompute")
    assert await totals(sc, pair, JAN) == pytest.approx(incremental)
