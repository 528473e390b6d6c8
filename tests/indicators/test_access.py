"""Authorization matrix of every indicators write path (issue 9, item 3): 责任部门 × indicator and 数据来源.

The small city's scheme: K0101 (GDP growth) is provided by the department 1405fg (source `department`);
D0101, D0102 and K0102 are reported by the units. Callers: a department holding K0101 (OWN), one holding
K0102 (K02), one whose token lists no indicator (NONE), 城区's reporter (inside), 泽州县's (outside).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from kaohe.errors import KaoheError
from kaohe.identity import Role
from tests.support.indicators import OFFICE, Running, caller, published_city

OWN = caller(Role.department, org="/14/1405/", user="fagai", codes=("K0101",))
K02 = caller(Role.department, org="/14/1405/", user="tongji", codes=("K0102",))
NONE = caller(Role.department, org="/14/1405/", user="no-codes")
REPORTER = caller(Role.reporter, org="/14/1405/140502/", user="chengqu")
OUTSIDE = caller(
    Role.reporter, Role.department, org="/14/1405/140525/", user="zezhou", codes=("K0101", "K0102")
)
PDF = b"%PDF-1.4 evidence"
MISSING = "0" * 32


@pytest_asyncio.fixture
async def svc(svc: Running) -> Running:
    """The service with 晋城市's published scheme (tests.support.indicators.published_city)."""
    await published_city(svc)
    return svc


async def code_of(call: Awaitable[Any]) -> str:
    """'ok', or the error code the call failed with."""
    try:
        await call
    except KaoheError as e:
        return e.code
    return "ok"


def create(svc: Running, who: Any, code: str, period: str, unit: str = "140502") -> Awaitable[Any]:
    return svc.call("submission_create", who, unit_id=unit, indicator_code=code, period=period, value=5.0)


async def test_create_update_and_evidence_follow_department_and_data_source(svc: Running) -> None:
    got = {
        "own creates its own K0101": await code_of(create(svc, OWN, "K0101", "2026-01")),
        "own creates another's K0102": await code_of(create(svc, OWN, "K0102", "2026-01")),
        "no-codes token creates K0101": await code_of(create(svc, NONE, "K0101", "2026-02")),
        "no-codes token creates K0102": await code_of(create(svc, NONE, "K0102", "2026-02")),
        "reporter creates department-sourced K0101": await code_of(create(svc, REPORTER, "K0101", "2026-03")),
        "reporter creates its own K0102": await code_of(create(svc, REPORTER, "K0102", "2026-03")),
        "office creates K0101": await code_of(create(svc, OFFICE, "K0101", "2026-04")),
        "outside reporter": await code_of(create(svc, OUTSIDE, "K0102", "2026-05")),
        "nonexistent unit": await code_of(create(svc, REPORTER, "K0102", "2026-05", unit="nowhere")),
    }
    assert got == {
        "own creates its own K0101": "ok",
        "own creates another's K0102": "forbidden_indicator",
        "no-codes token creates K0101": "forbidden_indicator",
        "no-codes token creates K0102": "forbidden_indicator",
        "reporter creates department-sourced K0101": "forbidden_source",
        "reporter creates its own K0102": "ok",
        "office creates K0101": "ok",
        "outside reporter": "not_found",
        "nonexistent unit": "not_found",
    }
    dept_sub = await create(svc, OWN, "K0101", "2026-Q1")
    unit_sub = await create(svc, REPORTER, "K0102", "2026-Q1")

    def update(who: Any, sub: dict[str, Any] | None) -> Awaitable[Any]:
        sid = sub["id"] if sub else MISSING
        return svc.call("submission_update", who, submission_id=sid, expected_version=1, value=6.0)

    def upload(who: Any, sub: dict[str, Any] | None) -> Awaitable[Any]:
        return svc.call(
            "evidence_upload_url",
            who,
            submission_id=sub["id"] if sub else MISSING,
            filename="a.pdf",
            content_type="application/pdf",
            size=len(PDF),
            sha256=hashlib.sha256(PDF).hexdigest(),
        )

    for name, fn in (("update", update), ("upload", upload)):
        got = {
            "reporter on K0101": await code_of(fn(REPORTER, dept_sub)),
            "no-codes on K0101": await code_of(fn(NONE, dept_sub)),
            "own on K0102": await code_of(fn(OWN, unit_sub)),
            "no-codes on K0102": await code_of(fn(NONE, unit_sub)),
            "outside on K0102": await code_of(fn(OUTSIDE, unit_sub)),
            "nonexistent": await code_of(fn(REPORTER, None)),
        }
        assert got == {
            "reporter on K0101": "forbidden_source",
            "no-codes on K0101": "forbidden_indicator",
            "own on K0102": "forbidden_indicator",
            "no-codes on K0102": "forbidden_indicator",
            "outside on K0102": "not_found",
            "nonexistent": "not_found",
        }, name
    assert await code_of(upload(OWN, dept_sub)) == "ok"
    assert await code_of(upload(REPORTER, unit_sub)) == "ok"
    up = await upload(OWN, dept_sub)
    async with httpx.AsyncClient() as http:
        assert (
            await http.put(up["upload_url"], content=PDF, headers=up["upload_headers"])
        ).status_code == 200

    def confirm(who: Any, eid: str = up["evidence_id"]) -> Awaitable[Any]:
        return svc.call("evidence_confirm", who, evidence_id=eid)

    def verify(who: Any, eid: str = up["evidence_id"]) -> Awaitable[Any]:
        return svc.call("evidence_verify", who, evidence_id=eid)

    got = {
        "reporter confirms K0101 evidence": await code_of(confirm(REPORTER)),
        "no-codes confirms": await code_of(confirm(NONE)),
        "K0102's department confirms": await code_of(confirm(K02)),
        "outside confirms": await code_of(confirm(OUTSIDE)),
        "confirm nonexistent": await code_of(confirm(OWN, MISSING)),
        "own confirms": await code_of(confirm(OWN)),
        "no-codes verifies": await code_of(verify(NONE)),
        "K0102's department verifies": await code_of(verify(K02)),
        "own verifies": await code_of(verify(OWN)),
    }
    assert got == {
        "reporter confirms K0101 evidence": "forbidden_source",
        "no-codes confirms": "forbidden_indicator",
        "K0102's department confirms": "forbidden_indicator",
        "outside confirms": "not_found",
        "confirm nonexistent": "not_found",
        "own confirms": "ok",
        "no-codes verifies": "forbidden_indicator",
        "K0102's department verifies": "forbidden_indicator",
        "own verifies": "ok",
    }


async def test_reviews_single_and_bulk_follow_the_department_indicators(svc: Running) -> None:
    subs = [await create(svc, REPORTER, "K0102", f"2026-0{m}") for m in range(1, 5)]
    ids = [s["id"] for s in subs]

    def review(method: str, who: Any, sid: str, **kw: Any) -> Awaitable[Any]:
        return svc.call(method, who, submission_id=sid, **kw)

    got = {
        "own (K0101) approves K0102": await code_of(review("submission_approve", OWN, ids[0])),
        "no-codes approves": await code_of(review("submission_approve", NONE, ids[0])),
        "own rejects K0102": await code_of(review("submission_reject", OWN, ids[0], reason="x")),
        "no-codes rejects": await code_of(review("submission_reject", NONE, ids[0], reason="x")),
        "outside approves": await code_of(review("submission_approve", OUTSIDE, ids[0])),
        "approve nonexistent": await code_of(review("submission_approve", K02, MISSING)),
        "K02 approves": await code_of(review("submission_approve", K02, ids[0])),
        "K02 rejects": await code_of(review("submission_reject", K02, ids[1], reason="口径不符")),
        "K02 reopens": await code_of(review("submission_reopen", K02, ids[0], reason="x")),
        "office reopens": await code_of(review("submission_reopen", OFFICE, ids[0], reason="修订")),
    }
    assert got == {
        "own (K0101) approves K0102": "forbidden_indicator",
        "no-codes approves": "forbidden_indicator",
        "own rejects K0102": "forbidden_indicator",
        "no-codes rejects": "forbidden_indicator",
        "outside approves": "not_found",
        "approve nonexistent": "not_found",
        "K02 approves": "ok",
        "K02 rejects": "ok",
        "K02 reopens": "forbidden_role",  # reopening is the 考核办's
        "office reopens": "ok",
    }
    for who in (OWN, NONE):
        res = await svc.call("submission_bulk_approve", who, ids=ids[2:])
        assert [x["error"]["code"] for x in res["items"]] == ["forbidden_indicator"] * 2
    res = await svc.call("submission_bulk_approve", OUTSIDE, ids=[ids[2], MISSING])
    assert [x["error"]["code"] for x in res["items"]] == ["not_found", "not_found"]
    res = await svc.call("submission_bulk_approve", K02, ids=ids[2:])
    assert [x["ok"] for x in res["items"]] == [True, True]


def rows(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"unit_id": u, "indicator_code": c, "period": "2026-Q1", "value": 5} for u, c in pairs]


@pytest.mark.parametrize("dry_run", [True, False])
async def test_bulk_imports_report_what_the_caller_may_not_write_and_write_nothing(
    svc: Running, dry_run: bool
) -> None:
    sid = (await svc.call("scheme_list", OFFICE, assessing_unit="1405"))["items"][0]["id"]
    dept_rows = rows(("140502", "K0101"), ("140525", "K0101"))
    cases = [  # (caller, scope, rows, expected problem count)
        (REPORTER, {"department": "1405fg"}, rows(("140502", "K0101")), 1),  # a township reporter
        (NONE, {"department": "1405fg"}, dept_rows, 2),
        (K02, {"department": "1405fg"}, dept_rows, 2),
        (OWN, {"unit_id": "140502"}, rows(("140502", "K0102"), ("140502", "D0101")), 2),
    ]
    for n, (who, scope, data, problems) in enumerate(cases):
        res = await svc.call(
            "bulk_import",
            who,
            scheme_id=sid,
            period="2026-Q1",
            filename="rows.json",
            rows=data,
            dry_run=dry_run,
            client_key=None if dry_run else f"access-{n}",
            **scope,
        )
        assert (res["ok"], res["committed"], res["problem_count"]) == (False, False, problems), res
        for p in res["problems"]:
            assert p["column"] == "指标代码" and p["code"] == "forbidden_indicator", p
            assert "无权填报" in p["message"] or "不是本部门负责的指标" in p["message"], p
    assert (await svc.call("submissions_list", OFFICE, period="2026-Q1"))["items"] == []
    reporter_sheet = await svc.call(
        "bulk_template", REPORTER, scheme_id=sid, period="2026-Q1", department="1405fg", format="csv"
    )
    assert reporter_sheet["rows"] == 0
    ok = await svc.call(
        "bulk_import",
        OWN,
        scheme_id=sid,
        period="2026-Q1",
        filename="rows.json",
        rows=dept_rows,
        dry_run=dry_run,
        client_key=None if dry_run else "access-own",
        department="1405fg",
    )
    assert (ok["ok"], ok["accepted"], ok["committed"]) == (True, 2, not dry_run)
