"""A city's 考核办 runs its assessment year through the public API only: GraphQL and REST, no RPC.

Units (created, split, merged), 分类, a scheme validated, saved half-finished and published, the scoring
configuration read back, fill-in templates downloaded by each county's reporter, filled in and imported
(dry run, then commit), 批量审核, the ranking, 全量重算, 申诉 and its answer, publication, and the
published figures read over REST — the path an office and its frontend take. `gw.gw.upstream.calls`
counts the gateway's own RPCs; the test itself never touches the bus.
"""

from __future__ import annotations

import base64
import copy
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openpyxl

from tests.conftest import eventually
from tests.support.gateway import Harness
from tests.support.seed import scheme_body

ERR = "errors { code field message }"
UNIT_CREATE = f"mutation($i: UnitCreateInput!) {{ unitCreate(input: $i) {{ unit {{ id path }} {ERR} }} }}"
UNIT_SPLIT = f"mutation($i: UnitSplitInput!) {{ unitSplit(input: $i) {{ units {{ id name path }} {ERR} }} }}"
UNIT_MERGE = f"""mutation($s: [String!]!, $into: String!) {{
  unitMerge(sources: $s, into: $into) {{ unit {{ id }} {ERR} }} }}"""
CATEGORIES_SET = f"""mutation($i: CategoriesSetInput!) {{
  categoriesSet(input: $i) {{ categorySet {{ members }} problems {{ code message }} {ERR} }} }}"""
VALIDATE = """query($a: String!, $y: Int!, $s: JSON!) {
  schemeValidate(assessingUnit: $a, year: $y, scheme: $s) { ok problems { path code message } } }"""
SAVE = f"""mutation($i: SchemeSaveInput!) {{
  schemeSave(input: $i) {{
    scheme {{ id revision status document {{ trunk {{ code children {{ code weight }} }} }} }}
    problems {ERR} }} }}"""
PUBLISH = f"mutation($id: String!) {{ schemePublish(schemeId: $id) {{ scheme {{ id status }} {ERR} }} }}"
CONFIG = "query($s: String!) { scoringConfig(schemeId: $s) }"
CONFIG_SET = f"mutation($s: String!, $c: JSON!) {{ configSet(schemeId: $s, config: $c) {{ config {ERR} }} }}"
TEMPLATE = """query($s: ID!, $p: String!, $u: String) {
  bulkTemplate(schemeId: $s, period: $p, unitId: $u, format: XLSX) { filename rows contentBase64 } }"""
IMPORT = f"""mutation($i: SubmissionBulkImportInput!) {{
  submissionBulkImport(input: $i) {{
    result {{ ok dryRun accepted problemCount committed problems {{ row column code message }} }}
    {ERR} }} }}"""
PENDING = """query($u: String!, $p: String!) {
  submissions(unitId: $u, period: $p, status: "submitted", first: 200) { nodes { id } } }"""
APPROVE = f"""mutation($ids: [ID!]!) {{
  submissionBulkApprove(ids: $ids) {{ items {{ id ok error {{ code message }} }} {ERR} }} }}"""
RANKING = """query($s: ID!, $p: String!, $c: String!) {
  ranking(schemeId: $s, period: $p, category: $c, first: 50) { nodes { unitId rank total grade } } }"""
RECOMPUTE = f"""mutation($s: String!, $p: String!) {{
  recomputeStart(schemeId: $s, period: $p) {{ job {{ jobId status }} {ERR} }} }}"""
JOB = "query($id: ID!) { recomputeJob(jobId: $id) { status progress } }"
WINDOW = f"""mutation($s: String!, $p: String!, $u: DateTime!) {{
  objectionWindowOpen(schemeId: $s, period: $p, until: $u) {{ state {{ status }} {ERR} }} }}"""
OBJECT = f"""mutation($i: ObjectionCreateInput!) {{
  objectionCreate(input: $i) {{ objection {{ objectionId status }} {ERR} }} }}"""
ANSWER = f"""mutation($id: String!) {{
  objectionAnswer(objectionId: $id, answer: "数据无误", decision: REJECTED) {{
    objection {{ status }} {ERR} }} }}"""
RESULTS_PUBLISH = f"""mutation($s: String!, $p: String!) {{
  resultsPublish(schemeId: $s, period: $p, forceCloseWindow: true) {{ state {{ status digest }} {ERR} }} }}"""

PERIOD = "2026-05"
VALUES = {"GDP": 10.0, "FAI": 5.0, "SVC": 1.0, "SAFE": 1.0}  # below 序时进度, so nobody hits the cap


def _ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"][field]
    assert not data.get("errors"), data
    return data


def _typed(body: dict[str, Any]) -> dict[str, Any]:
    """The scheme as the typed `SchemeInput` (camelCase, a @oneOf standard), as a frontend writes it."""

    def node(n: dict[str, Any]) -> dict[str, Any]:
        out = {k: n[k] for k in ("code", "name", "level", "weight") if k in n}
        if "target" in n:
            out["target"] = n["target"]
        std = n.get("standard")
        if std and std["type"] == "completion_ratio":
            out["standard"] = {"completionRatio": {"cap": std["cap"]}}
        elif std and std["type"] == "deduction":
            out["standard"] = {"deduction": {"perOccurrence": std["per_occurrence"]}}
        if n.get("children"):
            out["children"] = [node(c) for c in n["children"]]
        return out

    return {"name": body["name"], "categories": body["categories"], "trunk": [node(n) for n in body["trunk"]]}


def _filled(template_b64: str, factor: float) -> str:
    """The downloaded sheet with every 数值 cell filled in, as an office clerk would."""
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(template_b64)))
    ws = wb["填报"]
    head = [c.value for c in ws[1]]
    code_col, value_col = head.index("指标代码") + 1, head.index("数值") + 1
    for r in range(2, ws.max_row + 1):
        code = str(ws.cell(r, code_col).value)
        leaf = next(k for k in VALUES if code.endswith(k))
        ws.cell(r, value_col).value = VALUES[leaf] * (1 if leaf == "SAFE" else factor)  # 扣分 stays
    out = io.BytesIO()
    wb.save(out)
    return base64.b64encode(out.getvalue()).decode()


async def test_a_city_runs_its_year_through_graphql_and_rest_only(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    office = gw.headers(["assessment_office"], "/")

    async def q(query: str, v: dict[str, Any], hdr: dict[str, str] = office) -> dict[str, Any]:
        return await gw.gql(http, query, v, headers=hdr)

    # 1. The city and its counties; K4 is split in two, and one half merged into K3 (组织沿革).
    city = f"C{tag}"
    paths: dict[str, str] = {}
    for key, parent, kind in [(city, None, "city"), *[(f"K{i}{tag}", city, "county") for i in range(1, 5)]]:
        inp = {"id": key, "name": f"单位{key}", "kind": kind, **({"parentId": parent} if parent else {})}
        paths[key] = _ok(await q(UNIT_CREATE, {"i": inp}), "unitCreate")["unit"]["path"]
    k1, k2, k3, k4 = (f"K{i}{tag}" for i in range(1, 5))
    split = {"unitId": k4, "into": [{"id": f"{k4}a", "name": "新区甲"}, {"id": f"{k4}b", "name": "新区乙"}]}
    halves = _ok(await q(UNIT_SPLIT, {"i": split}), "unitSplit")["units"]
    assert [u["id"] for u in halves] == [f"{k4}a", f"{k4}b"]
    paths[f"{k4}a"] = halves[0]["path"]
    _ok(await q(UNIT_MERGE, {"s": [f"{k4}b"], "into": k3}), "unitMerge")
    counties = [k1, k2, k3, f"{k4}a"]

    # 2. 分类: a unit listed twice is refused naming the input path; then the real set.
    dup = {"assessingUnit": city, "year": 2026, "categories": [{"name": "县区"}]}
    dup["members"] = [{"unitId": k1, "category": "县区"}, {"unitId": k1, "category": "县区"}]
    err = (await q(CATEGORIES_SET, {"i": dup}))["data"]["categoriesSet"]["errors"]
    assert err[0]["field"] == "members.1.unitId", err
    cats = {**dup, "members": [{"unitId": u, "category": "县区"} for u in counties]}
    members = _ok(await q(CATEGORIES_SET, {"i": cats}), "categoriesSet")["categorySet"]["members"]
    assert sorted(m["unit_id"] for m in members) == sorted(counties)

    # 3. The scheme: validated without saving, saved half-finished, corrected, published.
    good = scheme_body(city, "县区", f"Y{tag}".upper())
    broken = copy.deepcopy(good)
    broken["trunk"][0]["children"][0]["weight"] = 25  # 一级指标 weight 60 ≠ its leaves' 55
    checked = (await q(VALIDATE, {"a": city, "y": 2026, "s": broken}))["data"]["schemeValidate"]
    assert not checked["ok"] and checked["problems"], checked
    draft_in = {"assessingUnit": city, "year": 2026, "scheme": broken, "allowProblems": True}
    draft = _ok(await q(SAVE, {"i": draft_in}), "schemeSave")
    assert draft["problems"] and draft["scheme"]["status"] == "draft"
    typed = {"assessingUnit": city, "year": 2026, "document": _typed(good)}  # the fix, written typed
    fixed_in = {**typed, "schemeId": draft["scheme"]["id"]}
    fixed = _ok(
        await q(SAVE, {"i": {**fixed_in, "expectedRevision": draft["scheme"]["revision"]}}), "schemeSave"
    )
    assert not fixed["problems"]
    leaves = [(c["code"], c["weight"]) for n in fixed["scheme"]["document"]["trunk"] for c in n["children"]]
    assert leaves == [(c["code"], c["weight"]) for n in good["trunk"] for c in n["children"]]
    sid = fixed["scheme"]["id"]
    assert _ok(await q(PUBLISH, {"id": sid}), "schemePublish")["scheme"]["status"] == "published"

    # 4. 计分设置 right after publishing (the gateway waits for scoring to learn of the scheme), read back.
    grades = {"thresholds": [["优秀", 90], ["良好", 80], ["一般", 60]], "excellent_share": 0.5}
    stored = _ok(await q(CONFIG_SET, {"s": sid, "c": {"grades": grades}}), "configSet")["config"]
    assert stored["grades"]["excellent_share"] == 0.5
    read = (await q(CONFIG, {"s": sid}))["data"]["scoringConfig"]
    assert read["grades"] == stored["grades"]

    # 5. Each county's reporter downloads its sheet, fills it in and imports it: dry run, then commit.
    for i, unit in enumerate(counties):
        reporter = gw.headers(["reporter"], paths[unit])
        sheet = (await q(TEMPLATE, {"s": sid, "p": PERIOD, "u": unit}, reporter))["data"]["bulkTemplate"]
        assert sheet["rows"] == 4 and sheet["filename"].endswith(".xlsx"), sheet
        rows = {"schemeId": sid, "period": PERIOD, "unitId": unit, "filename": sheet["filename"]}
        rows["contentBase64"] = _filled(sheet["contentBase64"], factor=1 + i / 2)
        dry = _ok(await q(IMPORT, {"i": rows}, reporter), "submissionBulkImport")["result"]
        assert dry["ok"] and dry["dryRun"] and dry["accepted"] == 4 and not dry["committed"], dry
        keyless = (await q(IMPORT, {"i": {**rows, "dryRun": False}}, reporter))["data"]
        # the error names the input as the caller spelled it (clientKey), not the service (client_key)
        assert keyless["submissionBulkImport"]["errors"][0]["field"] == "clientKey", keyless
        commit = {**rows, "dryRun": False, "clientKey": f"year-{tag}-{unit}"}
        done = _ok(await q(IMPORT, {"i": commit}, reporter), "submissionBulkImport")["result"]
        assert done["committed"] and done["accepted"] == 4, done

    # 6. 批量审核 of the whole city in one call.
    pending = (await q(PENDING, {"u": city, "p": PERIOD}))["data"]["submissions"]["nodes"]
    assert len(pending) == 16
    items = _ok(await q(APPROVE, {"ids": [p["id"] for p in pending]}), "submissionBulkApprove")["items"]
    assert all(it["ok"] for it in items) and len(items) == 16, items

    # 7. The ranking, then a full recompute to the same figures.
    async def ranked() -> bool:
        rows = (await q(RANKING, {"s": sid, "p": PERIOD, "c": "县区"}))["data"]["ranking"]["nodes"]
        return len(rows) == 4 and all(r["total"] is not None for r in rows)

    await eventually(ranked, what="four counties ranked")
    before = (await q(RANKING, {"s": sid, "p": PERIOD, "c": "县区"}))["data"]["ranking"]["nodes"]
    assert [r["unitId"] for r in before] == list(reversed(counties))  # larger values, higher place
    job = _ok(await q(RECOMPUTE, {"s": sid, "p": PERIOD}), "recomputeStart")["job"]

    async def finished() -> bool:
        status = (await q(JOB, {"id": job["jobId"]}))["data"]["recomputeJob"]["status"]
        assert status != "failed"
        return bool(status == "done")

    await eventually(finished, what="recompute done")
    after = (await q(RANKING, {"s": sid, "p": PERIOD, "c": "县区"}))["data"]["ranking"]["nodes"]
    assert after == before

    # 8. 申诉: the window opens, K1's reporter objects, the office answers; the results are published.
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    _ok(await q(WINDOW, {"s": sid, "p": PERIOD, "u": until}), "objectionWindowOpen")
    mine = {"schemeId": sid, "period": PERIOD, "unitId": k1, "reason": "安全生产扣分有误"}
    obj = _ok(await q(OBJECT, {"i": mine}, gw.headers(["reporter"], paths[k1])), "objectionCreate")
    _ok(await q(ANSWER, {"id": obj["objection"]["objectionId"]}), "objectionAnswer")
    state = _ok(await q(RESULTS_PUBLISH, {"s": sid, "p": PERIOD}), "resultsPublish")["state"]
    assert state["status"] == "published" and state["digest"]

    # 9. Payroll and 13710 read the published figures over REST.
    r = await http.get(f"{gw.url}/api/v1/results", params={"root_id": city, "period": PERIOD}, headers=office)
    assert r.status_code == 200, r.text
    by_unit = {row["unit_id"]: row for row in r.json()["items"]}
    ranked_rows = {x["unitId"]: x for x in after}
    for unit in counties:
        assert by_unit[unit]["status"] == "published" and by_unit[unit]["source"] == "published"
        assert by_unit[unit]["total"] == ranked_rows[unit]["total"]
        assert by_unit[unit]["rank"] == ranked_rows[unit]["rank"]
