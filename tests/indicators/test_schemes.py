"""Categories and schemes (考核方案): precise validation, publish, immutability, versions, diff."""

from __future__ import annotations

import copy
import json

import pytest
from nats.js import JetStreamContext

from kaohe.contracts.events import payload_of
from kaohe.errors import KaoheError
from kaohe.events import CloudEvent
from kaohe.identity import Role
from tests.conftest import Namespace, eventually
from tests.support.indicators import (
    OFFICE,
    Running,
    caller,
    small_city,
    small_scheme,
)


async def test_weight_validation_rejects_a_bad_scheme_with_a_precise_message(svc: Running) -> None:
    await small_city(svc)
    bad = small_scheme(k0102_weight=28)  # 20 + 50 + 28 = 98 for 县区
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=bad)
    assert e.value.code == "scheme_invalid"
    assert e.value.details == [
        {
            "path": "方案 2026 / 类别 县区",
            "code": "weight_sum",
            "message": "方案 2026 / 类别 县区: 权重合计 98，应为 100",
        }
    ]
    # nothing was stored
    page = await svc.call("scheme_list", OFFICE, assessing_unit="1405")
    assert page == {"items": [], "next": None}
    checked = await svc.call("scheme_validate", OFFICE, assessing_unit="1405", year=2026, scheme=bad)
    assert checked["ok"] is False and [p["code"] for p in checked["problems"]] == ["weight_sum"]
    # a draft may be kept with its problems when asked explicitly, but it cannot be published
    kept = await svc.call(
        "scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=bad, allow_problems=True
    )
    assert [p["code"] for p in kept["problems"]] == ["weight_sum"]
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_publish", OFFICE, scheme_id=kept["scheme"]["id"])
    assert e.value.code == "scheme_invalid" and "权重合计 98" in e.value.message


async def test_publish_then_edits_are_rejected_and_a_new_version_has_a_diff(
    svc: Running, js: JetStreamContext, ns: Namespace
) -> None:
    await small_city(svc)
    saved = await svc.call("scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=small_scheme())
    sid = saved["scheme"]["id"]
    assert (
        saved["problems"] == [] and saved["scheme"]["status"] == "draft" and saved["scheme"]["version"] == 1
    )
    pub = await svc.call("scheme_publish", OFFICE, scheme_id=sid)
    assert pub["status"] == "published"
    edited = small_scheme()
    edited["name"] = "改过的名字"
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=edited, scheme_id=sid)
    assert e.value.code == "scheme_published" and "cannot be edited" in e.value.message
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_publish", OFFICE, scheme_id=sid)
    assert e.value.code == "scheme_published"
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "scheme_split_target",
            OFFICE,
            scheme_id=sid,
            code="K0102",
            parent_target=8,
            rule="average_equals",
            shares={"140502": 8, "140525": 8},
        )
    assert e.value.code == "scheme_published"
    assert (await svc.call("scheme_get", OFFICE, scheme_id=sid))["scheme"][
        "name"
    ] == "晋城市2026年度目标责任考核"

    v2 = await svc.call("scheme_new_version", OFFICE, scheme_id=sid)
    assert (v2["version"], v2["status"]) == (2, "draft")
    changed = small_scheme()
    changed["supplements"][0]["indicators"][0]["children"][1]["target"] = 9.0
    changed["reporting"] = {"due_workdays": 0, "remind_workdays": 3}  # 报送时限: the 0th working day
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=changed, scheme_id=v2["id"]
        )
    assert e.value.code == "validation_failed"
    assert [d["field"] for d in e.value.details] == ["scheme.reporting.due_workdays"]
    changed["reporting"] = {"due_workdays": 7, "remind_workdays": 3}
    await svc.call(
        "scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=changed, scheme_id=v2["id"]
    )
    # 分解: 城区 10, 泽州县 8 average 9 = the city's target
    split = await svc.call(
        "scheme_split_target",
        OFFICE,
        scheme_id=v2["id"],
        code="K0102",
        parent_target=9,
        rule="average_equals",
        shares={"140502": 10, "140525": 8},
    )
    assert split["scheme"]["revision"] == 3
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "scheme_split_target",
            OFFICE,
            scheme_id=v2["id"],
            code="K0102",
            parent_target=9,
            rule="average_equals",
            shares={"140502": 10},
        )
    assert e.value.code == "split_invalid"
    assert {d["code"] for d in e.value.details} == {"split_missing_child", "split_average"}
    await svc.call("scheme_publish", OFFICE, scheme_id=v2["id"])
    assert (await svc.call("scheme_get", OFFICE, scheme_id=sid))["status"] == "superseded"
    diff = await svc.call("scheme_diff", OFFICE, scheme_id=v2["id"])
    assert "K0102" in diff["text"] and "9" in diff["text"]
    k = next(e for e in diff["entries"] if e["key"] == "K0102")
    assert {c["field"] for c in k["changes"]} >= {"target", "targets_by_unit.140502"}
    eff = await svc.call("scheme_effective", OFFICE, scheme_id=v2["id"], unit_id="140502")
    k0102 = next(x for x in eff["leaves"] if x["code"] == "K0102")
    assert (k0102["target"], eff["total"], eff["category"]) == (10, 100, "县区")

    sub = await js.pull_subscribe(f"{ns.prefix}.indicators.scheme.published", durable=None)
    got: list[dict] = []

    async def two() -> bool:
        try:
            got.extend(json.loads(m.data) for m in await sub.fetch(10, timeout=0.5))
        except TimeoutError:
            pass
        return len(got) >= 2

    await eventually(two, what="two scheme.published events")
    last = got[-1]["data"]
    assert (last["version"], last["supersedes_version"], last["assessing_unit"], last["year"]) == (
        2,
        1,
        "1405",
        2026,
    )
    assert sorted((u["unit_id"], u["category"]) for u in last["units"]) == [
        ("140502", "县区"),
        ("140525", "县区"),
    ]
    # the 报送时限 travels with the scheme: v1 kept the defaults, v2 its own
    assert got[0]["data"]["scheme"]["reporting"] == {"due_workdays": 5, "remind_workdays": 2}
    assert last["scheme"]["reporting"] == {"due_workdays": 7, "remind_workdays": 3}
    assert last["scheme"]["supplements"][0]["indicators"][0]["children"][1]["targets_by_unit"] == {
        "140502": 10.0,
        "140525": 8.0,
    }
    assert all(type(payload_of(CloudEvent.model_validate(e))).TYPE == e["type"] for e in got)  # the contract


async def test_inheritance_is_checked_against_the_parent_scheme(svc: Running) -> None:
    await small_city(svc)
    await svc.call("unit_create", OFFICE, id="14050201", name="北街街道", kind="street", parent_id="140502")
    city = small_scheme()
    city["trunk"][0]["children"][0]["cascade"] = True  # 下达: 基层党建 must be taken up below
    await svc.call(
        "scheme_publish",
        OFFICE,
        scheme_id=(await svc.call("scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=city))[
            "scheme"
        ]["id"],
    )
    county = {
        "assessing_unit": "140502",
        "year": 2026,
        "parent": {"assessing_unit": "1405", "year": 2026},
        "trunk": [
            {
                "code": "C01",
                "name": "党建",
                "level": 1,
                "weight": 100,
                "children": [
                    {
                        "code": "C0101",
                        "name": "基层党建",
                        "level": 2,
                        "weight": 100,
                        "target": 1,
                        "standard": {"type": "completion_ratio"},
                        "inherits_from": "NOPE",
                    }
                ],
            }
        ],
    }
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_save", OFFICE, assessing_unit="140502", year=2026, scheme=county)
    assert sorted(d["code"] for d in e.value.details) == ["inherit_missing", "inherit_unknown"]
    ok = copy.deepcopy(county)
    ok["trunk"][0]["children"][0]["inherits_from"] = "D0101"
    saved = await svc.call("scheme_save", OFFICE, assessing_unit="140502", year=2026, scheme=ok)
    assert saved["problems"] == []


async def test_out_of_scope_access_is_denied_for_every_scheme_method(svc: Running) -> None:
    await small_city(svc)
    sid = (await svc.call("scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=small_scheme()))[
        "scheme"
    ]["id"]
    other = caller(Role.assessment_office, org="/99/")
    calls = [
        ("categories_set", {"assessing_unit": "1405", "year": 2026, "categories": []}),
        ("categories_get", {"assessing_unit": "1405", "year": 2026}),
        ("scheme_validate", {"assessing_unit": "1405", "year": 2026, "scheme": small_scheme()}),
        ("scheme_save", {"assessing_unit": "1405", "year": 2026, "scheme": small_scheme()}),
        ("scheme_publish", {"scheme_id": sid}),
        ("scheme_new_version", {"scheme_id": sid}),
        ("scheme_get", {"scheme_id": sid}),
        ("scheme_diff", {"scheme_id": sid, "against_id": sid}),
        ("scheme_effective", {"scheme_id": sid, "unit_id": "140502"}),
        (
            "scheme_split_target",
            {"scheme_id": sid, "code": "K0102", "parent_target": 1, "shares": {"140502": 1}},
        ),
    ]
    for method, params in calls:
        with pytest.raises(KaoheError) as e:
            await svc.call(method, other, **params)
        assert e.value.code == "not_found", method
    assert (await svc.call("scheme_list", other))["items"] == []
    # a county office sits inside the city: it reads the scheme that assesses it but cannot change it
    county = caller(Role.assessment_office, org="/14/1405/140502/")
    assert (await svc.call("scheme_get", county, scheme_id=sid))["id"] == sid
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_publish", county, scheme_id=sid)
    assert e.value.code == "not_found"
    reporter = caller(Role.reporter, org="/14/1405/140502/")
    with pytest.raises(KaoheError) as e:
        await svc.call("scheme_save", reporter, assessing_unit="1405", year=2026, scheme=small_scheme())
    assert e.value.code == "forbidden_role"
