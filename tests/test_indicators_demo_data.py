"""Demo data (演示数据): the 晋城 "1+4" city seeded through RPC on the real stack, deterministic by seed."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio

from demo.seed import seed
from demo.values import build_plan
from kaohe.db import asyncpg_dsn
from tests.conftest import Infra, Namespace
from tests.support.indicators import OFFICE, Running, harness_kwargs, running

SMALL: dict[str, Any] = {"departments": 15, "towns_per_county": 2, "villages_per_town": 2}
TINY: dict[str, Any] = {"departments": 15, "towns_per_county": 1, "villages_per_town": 1}


@pytest_asyncio.fixture
async def svc(infra: Infra, database_url: str, ns: Namespace) -> AsyncIterator[Running]:
    async with running(**harness_kwargs(infra, database_url, ns)) as r:
        yield r


@pytest_asyncio.fixture
async def svc2(infra: Infra, template_db: str) -> AsyncIterator[Running]:
    """A second indicators service on its own fresh database and NATS namespace."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = asyncpg_dsn(infra.pg_server_url)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    finally:
        await conn.close()
    tag = uuid.uuid4().hex[:10]
    ns = Namespace(prefix=f"t{tag}", stream=f"T{tag}", rpc_prefix=f"t{tag}-rpc", bucket=f"kaohe-t{tag}")
    url = infra.pg_server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        async with running(**harness_kwargs(infra, url, ns)) as r:
            yield r
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def stored(svc: Running) -> dict[tuple[str, str, str], dict[str, Any]]:
    out, after = {}, None
    while True:
        page = await svc.call("submissions_list", OFFICE, unit_id="1405", first=500, after=after)
        for s in page["items"]:
            out[(s["unit_id"], s["code"], s["period"])] = s
        if (after := page["next"]) is None:
            return out


async def stored_values(svc: Running) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {k: (s["value"], s["grade"], s["status"]) for k, s in (await stored(svc)).items()}


async def test_seed_builds_a_published_1_plus_4_city_with_reviewed_data(svc: Running) -> None:
    said: list[str] = []
    summary = await seed(svc.client, OFFICE, seed=7, progress=said.append, second_review=True, **SMALL)
    plan = build_plan(7, **SMALL)
    kinds = Counter(u.kind for u in plan.city.units)
    assert summary["units_by_kind"] == dict(sorted(kinds.items()))
    assert kinds["county"] == 6 and kinds["department"] == 16  # 15 市直 + the 考核办
    assert kinds["township"] + kinds["street"] == 6 * 2 and kinds["village"] + kinds["community"] == 12 * 2
    assert summary["assessed_by_category"] == {"乡镇": 8, "县区": 6, "市直": 15, "街道": 4}
    assert len(said) == 6 and said[-1].startswith("[demo 6/6")

    scheme = await svc.call("scheme_get", OFFICE, scheme_id=summary["scheme_id"])
    assert scheme["status"] == "published" and scheme["second_review"] is True
    checked = await svc.call(
        "scheme_validate", OFFICE, assessing_unit="1405", year=2026, scheme=scheme["scheme"]
    )
    assert checked == {"ok": True, "problems": []}

    # 差异化赋分: 城区 57 on 城市建设 + 生态文明 (with its 国控点 task), 泽州县 56 on 产业 + 项目 + 城市建设
    async def weight(unit: str, tops: tuple[str, ...]) -> tuple[float, set[str]]:
        eff = await svc.call("scheme_effective", OFFICE, scheme_id=summary["scheme_id"], unit_id=unit)
        assert abs(eff["total"] - 100) < 1e-6
        return sum(x["weight"] for x in eff["leaves"] if x["path"][:1] and x["path"][0] in tops), {
            x["code"] for x in eff["leaves"]
        }

    chengqu, codes = await weight("140502", ("X04", "X07"))
    assert abs(chengqu - 57) < 1e-6 and "XK01" in codes
    zezhou, codes = await weight("140525", ("X01", "X02", "X04"))
    assert abs(zezhou - 56) < 1e-6 and "XK01" not in codes and {"XK02", "XK04"} <= codes

    values = await stored_values(svc)
    assert len(values) == len(plan.values) == summary["submissions"]
    statuses = Counter(v[2] for v in values.values())
    pending = sum(v.review == "pending" for v in plan.values)
    assert statuses == Counter({"approved": len(plan.values) - pending, "submitted": pending})
    assert summary["approved"] == statuses["approved"] and summary["pending"] == pending
    for v in plan.values:  # rejected ones were corrected to the planned value before approval
        assert values[v.key][:2] == (v.value, v.grade)
    assert {p for _, _, p in values} == {"2026-Q1", "2026-01", "2026-02", "2026-03"}

    evidence = await svc.call("evidence_by_units", OFFICE, ids=sorted(plan.city.roster))
    files = [e for items in evidence.values() for e in items]
    assert len(files) == sum(v.evidence for v in plan.values) == summary["evidence"]
    assert 0.2 < len(files) / len(values) < 0.35
    status = {s["id"]: s["status"] for s in (await stored(svc)).values()}
    assert all(e["status"] == "verified" for e in files)
    assert all(e["locked"] == (status[e["submission_id"]] == "approved") for e in files)  # approved → locked

    again = await seed(svc.client, OFFICE, seed=7, progress=said.append, second_review=True, **SMALL)
    assert again["calls"].get("imports", 0) == 0 and again["calls"].get("evidence", 0) == 0
    assert await stored_values(svc) == values  # a second run resumes: nothing doubled, nothing changed


async def test_same_seed_same_values_and_another_seed_differs(svc: Running, svc2: Running) -> None:
    quiet: list[str] = []
    a = await seed(svc.client, OFFICE, seed=3, progress=quiet.append, second_review=False, **TINY)
    b = await seed(svc2.client, OFFICE, seed=3, progress=quiet.append, second_review=False, **TINY)
    assert a["units_by_kind"] == b["units_by_kind"] and a["submissions"] == b["submissions"]
    assert await stored_values(svc) == await stored_values(svc2)
    one = await svc.call("scheme_get", OFFICE, scheme_id=a["scheme_id"])
    two = await svc2.call("scheme_get", OFFICE, scheme_id=b["scheme_id"])
    assert one["scheme"] == two["scheme"]
    same, other = build_plan(3, **TINY), build_plan(4, **TINY)
    assert [v.value for v in same.values] != [v.value for v in other.values]
    assert same.scheme.body != other.scheme.body  # targets and coefficients are drawn too
