"""The scorer's own queue: an empty period is not an error; a book that keeps failing is quarantined."""

from __future__ import annotations

import pytest

from tests.conftest import eventually
from tests.scoring_fixtures import Scoring, fill, scoring, totals  # noqa: F401

pytestmark = pytest.mark.asyncio


async def test_aspect_score_of_a_quarter_without_values_is_scored(scoring: Scoring) -> None:  # noqa: F811
    sc = scoring
    sid = await sc.scheme()
    await sc.call(
        "aspect_scores_set",
        {"scheme_id": sid, "unit_id": "140501", "period": "2026-Q2", "scores": {"key_work": 80.0}},
    )
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")

    async def scored() -> bool:
        return (await totals(sc, ["140502"], "2026-01"))["140502"] is not None

    await eventually(scored, what="a later approval scored", within=10)


async def test_recompute_of_a_quarter_without_values_is_done(scoring: Scoring) -> None:  # noqa: F811
    sc = scoring
    sid = await sc.scheme()
    job = await sc.call("recompute_start", {"scheme_id": sid, "period": "2026-Q3"})

    async def finished() -> bool:
        got = await sc.call("recompute_status", {"job_id": job["job_id"]})
        return got["status"] in ("done", "failed")

    await eventually(finished, what="recompute finished")
    got = await sc.call("recompute_status", {"job_id": job["job_id"]})
    assert (got["status"], got["error"]) == ("done", None)
