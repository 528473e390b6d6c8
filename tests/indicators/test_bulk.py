"""Bulk submission (批量填报): templates, dry run reporting every problem, atomic idempotent commit."""

from __future__ import annotations

import base64
import csv
import io

import httpx
import openpyxl
import pytest

from kaohe.errors import KaoheError
from kaohe.identity import Role
from services.indicators.domain import bulk as bulk_domain
from services.indicators.repository import bulk as bulk_store
from tests.support.indicators import (
    OFFICE,
    Running,
    caller,
    published_city,
    small_city,
    small_scheme,
)

REPORTER = caller(Role.reporter, org="/14/1405/140502/", user="chengqu")
DEPT = caller(Role.department, org="/14/1405/", user="fagai", codes=("K0101",))


def fill(template: bytes, values: dict[tuple[str, str], str], *, extra: list[list[str]] = ()) -> bytes:
    """Fill the 数值 column of a CSV template for (unit, code) pairs; append extra raw rows."""
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    head = rows[0]
    iu, ic, iv = head.index("单位代码"), head.index("指标代码"), head.index("数值")
    for r in rows[1:]:
        r[iv] = values.get((r[iu], r[ic]), r[iv])
    out = io.StringIO()
    csv.writer(out).writerows([*rows, *extra])
    return out.getvalue().encode("utf-8-sig")


async def count(svc: Running, who: object = OFFICE) -> int:
    page = await svc.call("submissions_list", who, first=500)
    return len(page["items"])


async def test_templates_have_chinese_headers_per_unit_and_per_department(svc: Running) -> None:
    sid = await published_city(svc)
    t = await svc.call(
        "bulk_template", REPORTER, scheme_id=sid, period="2026-Q1", unit_id="140502", format="csv"
    )
    rows = list(csv.reader(io.StringIO(base64.b64decode(t["content_base64"]).decode("utf-8-sig"))))
    assert rows[0][:4] == ["单位代码", "单位名称", "指标代码", "指标名称"]
    assert sorted(r[2] for r in rows[1:]) == ["D0101", "D0102", "K0102"]  # K0101 is the 发改委's
    assert {r[6] for r in rows[1:]} == {"2026年第1季度"}
    x = await svc.call(
        "bulk_template",
        DEPT,
        scheme_id=sid,
        period="2026-Q1",
        department="1405fg",
        format="xlsx",
        inline=False,
    )
    assert "content_base64" not in x and x["rows"] == 2
    async with httpx.AsyncClient() as http:
        body = (await http.get(x["download_url"])).content
    ws = openpyxl.load_workbook(io.BytesIO(body))["填报"]
    got = [(r[0], r[2]) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(got) == [("140502", "K0101"), ("140525", "K0101")]
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "bulk_template", REPORTER, scheme_id=sid, period="2026-Q1", unit_id="140525", format="csv"
        )
    assert e.value.code == "not_found"


async def test_dry_run_with_errors_reports_each_and_changes_nothing(svc: Running) -> None:
    sid = await published_city(svc)
    t = await svc.call(
        "bulk_template", REPORTER, scheme_id=sid, period="2026-Q1", unit_id="140502", format="csv"
    )
    body = fill(
        base64.b64decode(t["content_base64"]),
        {("140502", "D0101"): "abc", ("140502", "D0102"): "1.5", ("140502", "K0102"): "7.1"},
        extra=[
            ["140525", "泽州县", "K0102", "", "", "", "2026年第1季度", "3", ""],
            ["140502", "城区", "K0102", "", "", "", "2026-Q2", "3", ""],
        ],
    )
    for dry in (True, False):
        rep = await svc.call(
            "bulk_import",
            REPORTER,
            scheme_id=sid,
            period="2026-Q1",
            unit_id="140502",
            filename="填报.csv",
            content_base64=base64.b64encode(body).decode(),
            dry_run=dry,
            client_key="key-dry-run-1",
        )
        assert rep["ok"] is False and rep["committed"] is False and rep["accepted"] == 0
        got = sorted((p["row"], p["column"], p["code"]) for p in rep["problems"])
        assert got == sorted(
            [
                (2, "数值", "not_a_number"),
                (3, "数值", "not_an_integer"),
                (5, "单位代码", "unknown_unit"),
                (6, "期间", "wrong_period"),
                (6, "指标代码", "duplicate_row"),
            ]
        )
        assert all(p["message"].startswith(f"第 {p['row']} 行「{p['column']}」") for p in rep["problems"])
    assert await count(svc) == 0


async def test_commit_is_atomic_idempotent_and_respects_locks(svc: Running) -> None:
    sid = await published_city(svc)
    t = await svc.call(
        "bulk_template", REPORTER, scheme_id=sid, period="2026-Q1", unit_id="140502", format="csv"
    )
    good = fill(
        base64.b64decode(t["content_base64"]),
        {("140502", "D0101"): "95", ("140502", "D0102"): "1", ("140502", "K0102"): "7.1"},
    )
    args = dict(
        scheme_id=sid,
        period="2026-Q1",
        unit_id="140502",
        filename="填报.csv",
        content_base64=base64.b64encode(good).decode(),
    )
    with pytest.raises(KaoheError) as e:
        await svc.call("bulk_import", REPORTER, **args, dry_run=False)
    assert e.value.field == "client_key"
    dry = await svc.call("bulk_import", REPORTER, **args)
    assert (dry["ok"], dry["accepted"], dry["committed"]) == (True, 3, False)
    assert await count(svc) == 0
    first = await svc.call("bulk_import", REPORTER, **args, dry_run=False, client_key="import-2026Q1-a")
    assert (first["committed"], first["accepted"], first["replayed"]) == (True, 3, False)
    again = await svc.call("bulk_import", REPORTER, **args, dry_run=False, client_key="import-2026Q1-a")
    assert again["replayed"] is True and again["import_id"] == first["import_id"]
    items = (await svc.call("submissions_list", OFFICE, period="2026-Q1"))["items"]
    assert sorted((s["code"], s["value"], s["version"]) for s in items) == [
        ("D0101", 95.0, 1),
        ("D0102", 1.0, 1),
        ("K0102", 7.1, 1),
    ]
    other = fill(
        base64.b64decode(t["content_base64"]),
        {("140502", "D0101"): "96", ("140502", "D0102"): "0", ("140502", "K0102"): "7.3"},
    )
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "bulk_import",
            REPORTER,
            **{**args, "content_base64": base64.b64encode(other).decode()},
            dry_run=False,
            client_key="import-2026Q1-a",
        )
    assert e.value.code == "idempotency_key_reused"
    # approve one value: a later file touching it is refused as a whole
    k = next(s for s in items if s["code"] == "K0102")
    await svc.call("submission_approve", OFFICE, submission_id=k["id"])
    rep = await svc.call(
        "bulk_import",
        REPORTER,
        **{**args, "content_base64": base64.b64encode(other).decode()},
        dry_run=False,
        client_key="import-2026Q1-b",
    )
    assert rep["committed"] is False
    row_of_k0102 = 2 + [r[2] for r in csv.reader(io.StringIO(other.decode("utf-8-sig")))][1:].index("K0102")
    assert [(p["row"], p["code"]) for p in rep["problems"]] == [(row_of_k0102, "submission_locked")]
    after = (await svc.call("submissions_list", OFFICE, period="2026-Q1"))["items"]
    assert sorted((s["code"], s["value"]) for s in after) == [("D0101", 95.0), ("D0102", 1.0), ("K0102", 7.1)]
    # JSON rows through the API: an update of the unlocked values only
    rows = [{"unit_id": "140502", "indicator_code": "D0101", "period": "2026-Q1", "value": 97}]
    res = await svc.call(
        "bulk_import",
        REPORTER,
        scheme_id=sid,
        period="2026-Q1",
        unit_id="140502",
        filename="rows.json",
        rows=rows,
        dry_run=False,
        client_key="import-2026Q1-c",
    )
    assert res["committed"] is True
    d = next(s for s in (await svc.call("submissions_list", OFFICE, code="D0101"))["items"])
    assert (d["value"], d["version"]) == (97.0, 2)
    hist = await svc.call("submission_get", OFFICE, submission_id=d["id"])
    assert [h["value"] for h in hist["history"]] == [95.0, 97.0]


async def test_a_late_problem_rolls_back_rows_already_streamed(
    svc: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = await published_city(svc)
    monkeypatch.setattr(bulk_domain, "CHUNK", 1)  # every clean row is written while parsing goes on
    rows = [
        {"unit_id": "140502", "indicator_code": "D0101", "period": "2026-Q1", "value": 95},
        {"unit_id": "140502", "indicator_code": "D0102", "period": "2026-Q1", "value": 1},
        {"unit_id": "140502", "indicator_code": "K0102", "period": "2026-Q1", "value": "七点一"},
    ]
    args = dict(scheme_id=sid, period="2026-Q1", unit_id="140502", filename="rows.json", rows=rows)
    res = await svc.call("bulk_import", REPORTER, **args, dry_run=False, client_key="late-problem-1")
    assert (res["committed"], res["problem_count"], res["problems"][0]["row"]) == (False, 1, 3)
    assert await count(svc) == 0
    rows[2]["value"] = 7.1  # the same key is free again: the rolled-back claim left nothing behind
    ok = await svc.call("bulk_import", REPORTER, **args, dry_run=False, client_key="late-problem-1")
    assert (ok["committed"], ok["accepted"]) == (True, 3) and await count(svc) == 3


async def test_rows_stored_since_the_fresh_check_fall_back_to_the_upsert(
    svc: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First data of a period is COPYed straight into `submission`; if another import stored rows of the
    period after the check (simulated: the check always says "nothing stored"), the unique key stops the
    COPY, its savepoint is rolled back and the same rows go through the staged UPSERT instead."""
    sid = await published_city(svc)
    monkeypatch.setattr(bulk_domain, "CHUNK", 1)
    args = dict(scheme_id=sid, period="2026-Q1", unit_id="140502", filename="rows.json", dry_run=False)

    def rows(d0101: float) -> list[dict[str, object]]:
        return [
            {"unit_id": "140502", "indicator_code": c, "period": "2026-Q1", "value": v}
            for c, v in (("D0101", d0101), ("D0102", 1), ("K0102", 7.1))
        ]

    first = await svc.call("bulk_import", REPORTER, **args, rows=rows(95), client_key="fresh-race-1")
    assert (first["committed"], first["accepted"]) == (True, 3)
    monkeypatch.setattr(bulk_store, "ANY_STORED", "SELECT false")
    again = await svc.call("bulk_import", REPORTER, **args, rows=rows(96), client_key="fresh-race-2")
    assert (again["committed"], again["accepted"]) == (True, 3)
    items = (await svc.call("submissions_list", OFFICE, period="2026-Q1"))["items"]
    assert sorted((s["code"], s["value"], s["version"]) for s in items) == [
        ("D0101", 96.0, 2),
        ("D0102", 1.0, 2),
        ("K0102", 7.1, 2),
    ]
    d = next(s for s in items if s["code"] == "D0101")
    hist = (await svc.call("submission_get", OFFICE, submission_id=d["id"]))["history"]
    assert [(h["value"], h["version"], h.get("via")) for h in hist] == [
        (95.0, 1, "bulk_import"),
        (96.0, 2, "bulk_import"),
    ]


async def test_history_keeps_what_each_import_wrote_through_reviews_and_hand_edits(svc: Running) -> None:
    """A new period's import writes no history rows: the submission itself says which import it holds.
    When a later import or a hand edit replaces the value, the import's value and version stay listed."""
    sid = await published_city(svc)
    args = dict(scheme_id=sid, period="2026-Q1", unit_id="140502", filename="rows.json", dry_run=False)

    def rows(d0101: float) -> list[dict[str, object]]:
        return [
            {"unit_id": "140502", "indicator_code": c, "period": "2026-Q1", "value": v}
            for c, v in (("D0101", d0101), ("D0102", 1), ("K0102", 7.1))
        ]

    async def history(sub_id: str) -> list[tuple[object, ...]]:
        got = (await svc.call("submission_get", OFFICE, submission_id=sub_id))["history"]
        return [(h["action"], h["version"], h["value"], h.get("via")) for h in got]

    await svc.call("bulk_import", REPORTER, **args, rows=rows(95), client_key="history-1")
    items = {s["code"]: s for s in (await svc.call("submissions_list", OFFICE, period="2026-Q1"))["items"]}
    d, k = items["D0101"], items["K0102"]
    assert await history(d["id"]) == [("submitted", 1, 95.0, "bulk_import")]
    await svc.call("submission_reject", OFFICE, submission_id=d["id"], reason="请核实")
    await svc.call("bulk_import", REPORTER, **args, rows=rows(96), client_key="history-2")
    assert await history(d["id"]) == [
        ("submitted", 1, 95.0, "bulk_import"),
        ("rejected", 2, 95.0, None),
        ("submitted", 3, 96.0, "bulk_import"),
    ]
    # hand edits after the second import: its value stays listed once, each edit is in the log
    await svc.call("submission_update", REPORTER, submission_id=k["id"], expected_version=2, value=7.5)
    await svc.call("submission_update", REPORTER, submission_id=k["id"], expected_version=3, value=7.6)
    assert await history(k["id"]) == [
        ("submitted", 1, 7.1, "bulk_import"),
        ("submitted", 2, 7.1, "bulk_import"),
        ("updated", 3, 7.5, None),
        ("updated", 4, 7.6, None),
    ]


async def test_a_unit_named_like_a_formula_is_text_in_templates_and_they_still_import(svc: Running) -> None:
    await small_city(svc)
    await svc.call(
        "unit_create",
        OFFICE,
        id="140581",
        name="=1+1",
        kind="county",
        parent_id="1405",
        valid_from="2025-01-01",
    )
    await svc.call(
        "categories_set",
        OFFICE,
        assessing_unit="1405",
        year=2026,
        categories=[{"name": "县区", "description": "县（市、区）"}],
        members={"140502": "县区", "140525": "县区", "140581": "县区"},
    )
    saved = await svc.call("scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=small_scheme())
    sid = saved["scheme"]["id"]
    await svc.call("scheme_publish", OFFICE, scheme_id=sid)
    scope = dict(scheme_id=sid, period="2026-Q1", department="1405fg")
    t = await svc.call("bulk_template", DEPT, **scope, format="csv")
    body = base64.b64decode(t["content_base64"])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert ["140581", "'=1+1"] in [r[:2] for r in rows]  # shown as the text =1+1, never computed
    x = await svc.call("bulk_template", DEPT, **scope, format="xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(base64.b64decode(x["content_base64"])))["填报"]
    cells = {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}
    assert cells["140581"].value == "'=1+1" and cells["140581"].data_type == "s"
    filled = fill(body, {(u, "K0101"): "6.5" for u in ("140502", "140525", "140581")})
    res = await svc.call(
        "bulk_import",
        DEPT,
        **scope,
        filename="back.csv",
        content_base64=base64.b64encode(filled).decode(),
    )
    assert (res["ok"], res["accepted"]) == (True, 3), res
