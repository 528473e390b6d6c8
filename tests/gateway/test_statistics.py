"""A statistics bureau (统计局) imports its figures over REST (`POST /api/v1/statistics`): dry run, commit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.gateway import UNIT_CREATE, Harness, make_tree
from tests.support.seed import SYSTEM


def statistics_scheme(assessing_unit: str, bureau: str, tag: str) -> dict[str, Any]:
    """One level-1 indicator: GDP growth from the 统计局 (数据来源 部门提供), a leaf the units report."""
    gdp = {
        "code": f"{tag}GDP",
        "name": "地区生产总值增速",
        "level": 2,
        "weight": 60,
        "target": 6.0,
        "unit_of_measure": "%",
        "standard": {"type": "completion_ratio", "cap": 1.2},
        "source": "department",
        "department": bureau,
    }
    own = {**gdp, "code": f"{tag}SVC", "name": "政务服务", "weight": 40, "target": 10.0}
    del own["source"], own["department"]
    return {
        "assessing_unit": assessing_unit,
        "year": 2026,
        "name": f"2026年度目标责任考核 ({tag})",
        "categories": ["县区"],
        "trunk": [
            {"code": f"{tag}ECO", "name": "经济发展", "level": 1, "weight": 100, "children": [gdp, own]}
        ],
    }


async def test_statistics_bureau_imports_over_rest_dry_run_then_commit(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:4]
    tree = await make_tree(gw, http, tag)
    office = gw.headers(["assessment_office"], "/")
    bureau = f"A{tag}tj"
    r = await gw.gql(
        http,
        UNIT_CREATE,
        {"i": {"id": bureau, "name": "市统计局", "kind": "department", "parentId": tree["A"]["id"]}},
        headers=office,
    )
    assert not r["data"]["unitCreate"]["errors"], r
    counties = [tree["A1"]["id"], tree["A2"]["id"]]
    upstream = gw.gw.upstream
    await upstream.call(
        "indicators",
        "categories_set",
        {
            "assessing_unit": tree["A"]["id"],
            "year": 2026,
            "categories": [{"name": "县区"}],
            "members": dict.fromkeys(counties, "县区"),
        },
        SYSTEM,
    )
    body = statistics_scheme(tree["A"]["id"], bureau, f"S{tag}".upper())
    saved = await upstream.call(
        "indicators", "scheme_save", {"assessing_unit": tree["A"]["id"], "year": 2026, "scheme": body}, SYSTEM
    )
    sid = saved["scheme"]["id"]
    await upstream.call("indicators", "scheme_publish", {"scheme_id": sid}, SYSTEM)
    gdp = body["trunk"][0]["children"][0]["code"]
    # the bureau's staff: a department token over the city's subtree, naming its indicator
    headers = gw.headers(["department"], tree["A"]["path"], indicator_codes=[gdp])
    rows = [
        {"unit_id": u, "indicator_code": gdp, "period": "2026-Q1", "value": v}
        for u, v in zip(counties, (6.4, 5.1), strict=True)
    ]
    url = f"{gw.url}/api/v1/statistics"
    scope = {"scheme_id": sid, "period": "2026-Q1", "department": bureau}

    r = await http.post(url, json={"scheme_id": sid, "period": "2026-Q1", "rows": rows}, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "exactly one of unit_id" in r.json()["detail"]

    bad = [*rows, {"unit_id": counties[0], "indicator_code": gdp, "period": "2026-Q1", "value": "abc"}]
    r = await http.post(url, json={**scope, "rows": bad}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is False and r.json()["committed"] is False
    assert {p["column"] for p in r.json()["problems"]} >= {"数值"}

    r = await http.post(url, json={**scope, "rows": rows}, headers=headers)
    dry = r.json()
    assert r.status_code == 200 and (dry["ok"], dry["dry_run"], dry["accepted"], dry["committed"]) == (
        True,
        True,
        2,
        False,
    ), dry

    r = await http.post(url, json={**scope, "rows": rows, "dry_run": False}, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "client_key"

    commit = {**scope, "rows": rows, "dry_run": False, "client_key": f"tj-{tag}-2026Q1"}
    r = await http.post(url, json=commit, headers=headers)
    done = r.json()
    assert r.status_code == 200 and (done["ok"], done["committed"], done["accepted"]) == (True, True, 2), done
    again = (await http.post(url, json=commit, headers=headers)).json()
    assert again["replayed"] is True and again["import_id"] == done["import_id"]

    page = await upstream.call(
        "indicators", "submissions_list", {"code": gdp, "period": "2026-Q1", "first": 10}, SYSTEM
    )
    assert sorted((s["unit_id"], s["value"]) for s in page["items"]) == sorted(
        zip(counties, (6.4, 5.1), strict=True)
    )
