"""A published period serves its snapshot: figures and explanation as published; live only when asked."""

from __future__ import annotations

import asyncpg
import pytest

from kaohe.db import asyncpg_dsn
from kaohe.errors import KaoheError, NotFound
from tests.conftest import eventually
from tests.support.scoring import Scoring, fill, totals

pytestmark = pytest.mark.asyncio
Q1 = "2026-Q1"


async def test_explanation_and_scores_of_a_published_period_are_the_published_ones(
    scoring: Scoring,
    database_url: str,
) -> None:
    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")

    async def done() -> bool:
        return None not in (await totals(sc, ["140501", "140502"], Q1)).values()

    await eventually(done, what="results")
    args = {"scheme_id": sid, "period": Q1}
    before = await sc.call("explanation", {"unit_id": "140501", "period": Q1})
    assert (before["status"], before["source"]) == ("preliminary", "live")
    with pytest.raises(NotFound):  # nothing is published yet
        await sc.call("explanation", {"unit_id": "140501", "period": Q1, "source": "published"})

    # the scorer has work for the period (here: held by a fault): publishing waits for it
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        book = await conn.fetchval("SELECT id FROM scoring.book WHERE scheme_id = $1", sid)
        await conn.execute(
            "INSERT INTO scoring.dirty_held (book, unit_no, period, queued_at)"
            " VALUES ($1, 0, '2026-02', now())",
            book,
        )
        with pytest.raises(KaoheError) as pending:
            await sc.call("results_publish", args)
        assert pending.value.code == "scoring_pending"
        await conn.execute("DELETE FROM scoring.dirty_held WHERE book = $1", book)
        await sc.call("results_publish", args)
        [published] = [
            u for u in (await sc.call("results_snapshot", args))["items"] if u["unit_id"] == "140501"
        ]
        total = published["total"]
        frozen = await sc.call("explanation", {"unit_id": "140501", "period": Q1})
        assert (frozen["status"], frozen["source"]) == ("published", "published")
        assert frozen["total"] == pytest.approx(total) and frozen["trace"]["value"] == pytest.approx(total)
        assert frozen["adds_up"] and frozen["digest"] == before["digest"]

        # a later approval moves the live figures, not what is served as published
        await sc.value(sid, "140501", "GDP", "2026-01", 10)

        async def live_moved() -> bool:
            return (await totals(sc, ["140501"], Q1))["140501"] != pytest.approx(total)

        await eventually(live_moved, what="live score after publication")
        live_total = (await totals(sc, ["140501"], Q1))["140501"]
        assert await sc.call("explanation", {"unit_id": "140501", "period": Q1}) == frozen
        live = await sc.call("explanation", {"unit_id": "140501", "period": Q1, "source": "live"})
        assert (live["status"], live["source"], live["snapshot_id"]) == ("published", "live", None)
        assert live["total"] == pytest.approx(live_total) and live["digest"] != frozen["digest"]

        scores = await sc.call("scores_by_units", {"ids": ["140501"], "period": Q1, "source": "published"})
        assert scores["140501"]["total"] == pytest.approx(total)
        assert (scores["140501"]["status"], scores["140501"]["source"]) == ("published", "published")
        live_scores = await sc.call("scores_by_units", {"ids": ["140501"], "period": Q1})
        assert live_scores["140501"]["total"] == pytest.approx(live_total)
        assert live_scores["140501"]["source"] == "live"
        # a period not published yet: its status, no published figures
        month = await sc.call(
            "scores_by_units", {"ids": ["140501"], "period": "2026-01", "source": "published"}
        )
        assert (month["140501"]["status"], month["140501"]["total"]) == ("preliminary", None)

        kinds = await conn.fetch("SELECT DISTINCT jsonb_typeof(trace) AS k FROM scoring.snapshot_unit")
        assert [r["k"] for r in kinds] == ["object"]
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):  # frozen like the snapshot
            await conn.execute("UPDATE scoring.snapshot_unit SET total = 100")
    finally:
        await conn.close()
