"""Unit moves in scoring: the stored paths of the moved subtree follow it, and only those (ids hold `_`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from kaohe.contracts.indicators import SubmissionApproved, UnitBefore, UnitChanged, UnitVersion
from kaohe.identity import Caller, Role
from tests.conftest import eventually
from tests.support.scoring import CITY, SCHEME, YEAR, Scoring

pytestmark = pytest.mark.asyncio

# `_` is a LIKE wildcard: `/14/1405/t_1/%` also matches `/14/1405/tx1/`
UNITS = [
    {"unit_id": "t_1", "name": "甲镇", "path": "/14/1405/t_1/", "category": "乡镇"},
    {"unit_id": "tx1", "name": "乙镇", "path": "/14/1405/tx1/", "category": "乡镇"},
]


def scoped(path: str) -> Caller:
    return Caller(user_id="r", roles=frozenset({Role.reporter}), org_path=path)


async def approve(sc: Scoring, sid: str, unit: dict[str, Any], value: float) -> None:
    approved = SubmissionApproved(
        submission_id=f"sub-{unit['unit_id']}",
        unit_id=unit["unit_id"],
        unit_path=unit["path"],
        scheme_id=sid,
        scheme_version=1,
        assessing_unit=CITY,
        year=YEAR,
        code="GDP",
        period="2026-01",
        value=value,
        revision=1,
        actor="u",
        at=datetime(2026, 2, 2, 9, tzinfo=UTC),
        review_level=2,
        final=True,
    )
    await sc.send(approved, approved.submission_id)


async def score_seen(sc: Scoring, unit_id: str, caller: Caller) -> float | None:
    got = await sc.call("scores_by_units", {"ids": [unit_id], "period": "2026-01"}, caller)
    return got[unit_id]["total"] if got[unit_id] else None


async def test_moving_t_1_leaves_tx1_where_it_is(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme(SCHEME, UNITS)
    for u in UNITS:
        await approve(sc, sid, u, 100)

    async def both_scored() -> bool:
        return all([await score_seen(sc, u["unit_id"], scoped(u["path"])) for u in UNITS])

    await eventually(both_scored, what="both units scored")
    moved = "/14/1406/t_1/"
    change = UnitChanged(
        unit_id="t_1",
        change="moved",
        version=UnitVersion(name="甲镇", kind="town", path=moved, valid_from=date(2026, 3, 1)),
        revision=2,
        previous=UnitBefore(name="甲镇", parent_id="1405", path="/14/1405/t_1/"),
    )
    await sc.send(change, "t_1")

    async def followed() -> bool:
        return await score_seen(sc, "t_1", scoped(moved)) is not None

    await eventually(followed, what="t_1's path follows the move")
    # tx1 stayed: its own office still sees it, and the moved unit's new subtree does not
    assert await score_seen(sc, "tx1", scoped("/14/1405/tx1/")) is not None
    assert await score_seen(sc, "tx1", scoped("/14/1406/")) is None
    assert await score_seen(sc, "t_1", scoped("/14/1405/")) is None
