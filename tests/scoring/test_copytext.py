"""The full recompute's binary COPY: every value of a result row reads back from PostgreSQL as written."""

from __future__ import annotations

import math
import random

import asyncpg
import pytest

from kaohe.db import asyncpg_dsn
from services.scoring.domain.batch import ResultRow
from services.scoring.repository import results


def _row(no: int, rnd: random.Random) -> ResultRow:
    return ResultRow(
        unit_no=no,
        category="乡镇\t(一类)\\A\n",  # COPY's own separators inside a value
        grp="组\r1",
        kind="unit",
        total=rnd.random() * 100,
        indicators=1 / 3,
        supervision=0.1 + 0.2,  # 0.30000000000000004: the shortest repr must still be exact
        bonus=5e-324,  # the smallest subnormal
        penalty=-0.0,
        coefficient=1.7976931348623157e308,
        leaves=60,
        veto_grade=None if no % 2 else "较差",
        l1=[] if no == 5 else [rnd.random() for _ in range(6)],
        parts=None if no % 3 else [math.pi, -2.5],
        colour=None,
        checks=no % 4,
        rank=None if no == 1 else no,
        of=None if no == 1 else 7,
        grade="优秀",
        threshold_grade=None,
        in_quota=bool(no % 2),
        exempt=False,
        last_place=no == 7,
        version=no,
    )


@pytest.mark.asyncio
async def test_result_rows_round_trip_exactly(database_url: str) -> None:
    rnd = random.Random(7)
    rows = [_row(no, rnd) for no in range(1, 8)]
    c = await asyncpg.connect(asyncpg_dsn(database_url), server_settings={"search_path": "scoring"})
    try:
        async with c.transaction():
            await results.replace_results(c, 42, "2026-Q1", rows)
            got = {
                r["unit_no"]: r
                for r in await c.fetch("SELECT * FROM scoring.result WHERE book = 42 AND period = '2026-Q1'")
            }
    finally:
        await c.close()
    assert sorted(got) == [r.unit_no for r in rows]
    for r in rows:
        back = got[r.unit_no]
        for field in ResultRow.__slots__:  # type: ignore[attr-defined]
            want, have = getattr(r, field), back[field]
            if field == "penalty":
                assert math.copysign(1, have) == -1.0  # -0.0 kept
            assert have == want, field
