"""The demo's 结果运用 (act 2, last): the quarter is published and its results are applied to people.

The 组织部 activates the city's rules (季度绩效 ±10 %, 暂扣 20 % released by the unit's grade, 末位零绩效,
提醒谈话 for heads of 一般/较差 units, 先进单位 and 先进个人); the HR system imports a generated 干部名册 (a
few thousand cadres with their own grades — made-up people, ID numbers of the right shape only) over REST,
dry run then commit; the 考核办 publishes 2026-Q1; rewards computes the proposal list, the 考核办 and the
组织部 approve it at two levels; the demo prints pay per grade, the honours, the 提醒谈话 list, and checks
that every unit's pool balances to the fen. Public APIs only (GraphQL, REST), as in the rest of act 2.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from demo.client import Api, ApiError, DemoError, Who
from demo.seed import OFFICE

PERIOD, YEAR, CITY = "2026-Q1", 2026, "1405"
CATEGORIES = ("县区", "乡镇", "街道", "市直")
ORG = Who("jincheng-zuzhibu", "organisation", "/14/1405/")  # 市委组织部
ERR = "errors { code field message }"
RULES: list[dict[str, Any]] = [
    {"kind": "quarterly_pay", "id": "jc-qpay", "basis": "《晋城市机关事业单位绩效工资发放办法》第五条",
     "adjust": {"优秀": "0.10", "较差": "-0.10"}},
    {"kind": "withholding", "id": "jc-hold", "basis": "《晋城市目标责任考核办法》季度暂扣、按结果返还",
     "share": "0.2", "release": {"优秀": "1", "良好": "1", "一般": "0.5", "较差": "0"}},
    {"kind": "last_place_zero", "id": "jc-zero", "basis": "《晋城市目标责任考核办法》末位零绩效",
     "period_kinds": ["quarter"]},
    {"kind": "cadre", "id": "jc-talk", "basis": "《晋城市考核结果运用办法》第八条 (一般、较差: 提醒谈话)",
     "consequence": "提醒谈话", "period_kind": "quarter", "condition": {"grades": ["一般", "较差"]}},
    {"kind": "honour", "id": "jc-unit", "basis": "《晋城市评先评优办法》先进单位", "honour": "先进单位",
     "period_kind": "quarter", "condition": {"grades": ["优秀"]}},
    {"kind": "honour", "id": "jc-person", "basis": "《晋城市评先评优办法》先进个人", "honour": "先进个人",
     "target": "person", "period_kind": "quarter", "condition": {"grades": ["优秀"]},
     "person_grades": ["优秀"], "max_count": 10},
]  # fmt: skip
HEADERS = [
    "身份证号",
    "姓名",
    "单位代码",
    "职务类别",
    "职级",
    "月绩效基数(元)",
    "任职日期",
    "期间",
    "个人等次",
]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文斌宇浩凯鹏辉"
RANKING = """query($s: ID!, $p: String!, $c: String!) {
  ranking(schemeId: $s, period: $p, category: $c, first: 100) {
    nodes { unitId unitName grade lastPlace } } }"""
CREATE = f"""mutation($u: String!, $r: JSON!) {{
  rewardRuleSetCreate(assessingUnit: $u, year: {YEAR}, rules: $r) {{
  node {{ version revision }} {ERR} }} }}"""
ACTIVATE = f"""mutation($u: String!, $v: Int!, $rev: Int!) {{
  rewardRuleSetActivate(assessingUnit: $u, year: {YEAR}, version: $v, expectedRevision: $rev) {{
    node {{ ref status }} {ERR} }} }}"""
PUBLISH = f"""mutation($s: String!, $p: String!) {{
  resultsPublish(schemeId: $s, period: $p, forceCloseWindow: true) {{ state {{ status }} {ERR} }} }}"""
SETS = """query($u: String!, $p: String!) { rewardProposalSets(assessingUnit: $u, period: $p, first: 5) {
  nodes { setId status version lines units poolFen paidFen withheldFen poolErrorFen rulesetRef
          problems { problemId code message } } } }"""
LINES = """query($s: Int!, $k: String, $a: String) {
  rewardProposalLines(setId: $s, kind: $k, first: 200, after: $a) {
  nodes { unitId personKey consequence amountFen inputs } pageInfo { hasNextPage endCursor } } }"""
APPROVE = f"""mutation($s: Int!, $v: Int!, $l: Int!) {{
  rewardProposalApprove(setId: $s, expectedVersion: $v, level: $l) {{
    node {{ status level version }} {ERR} }} }}"""
RESOLVE = f"""mutation($s: Int!, $p: Int!, $v: Int!) {{
  rewardProposalResolve(setId: $s, problemId: $p, expectedVersion: $v, reason: "考核办已核实") {{
    node {{ version }} {ERR} }} }}"""
VERIFY = "query { rewardLedgerVerify { ok holders entries } }"
PERSON = "query($k: String!) { rewardPerson(personKey: $k) { nameMasked posts { post } } }"
SHIFT = {"1.1": "+10%", "0.9": "-10%"}


def roster(units: list[dict[str, Any]], per_unit: int, seed: int = 2026) -> list[list[str]]:
    """A made-up 干部名册: per unit a head, two leadership members and staff, bases 3,000–9,000 元."""
    rnd = random.Random(seed)
    rows = []
    for u in units:
        for j in range(per_unit):
            post, rank = (
                ("主要负责人", "正科") if j == 0 else ("班子成员", "副科") if j < 3 else ("一般干部", "科员")
            )
            idn = f"1405{rnd.randint(10, 99)}{rnd.randint(1965, 2000)}{rnd.randint(1, 12):02d}"
            idn += f"{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}{rnd.choice('0123456789X')}"
            name = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2))))
            base = {"主要负责人": 9000, "班子成员": 7000}.get(post, rnd.randrange(3000, 6001, 100))
            grade = rnd.choices(("优秀", "良好", "一般", "较差"), (20, 65, 12, 3))[0]
            rows.append([idn, name, u["unitId"], post, rank, f"{base}.00", "2025-01-01", PERIOD, grade])
    return rows


async def _pages(api: Api, set_id: int, kind: str) -> list[dict[str, Any]]:
    out, after = [], None
    while True:
        page = (await api.gql(OFFICE, LINES, {"s": set_id, "k": kind, "a": after}))["rewardProposalLines"]
        out += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


async def _import(api: Api, http: httpx.AsyncClient, rows: list[list[str]]) -> dict[str, Any]:
    """The HR system's roster import: an API key with registry:write, a dry run, then the commit."""
    hr = {"name": "人社干部信息系统", "scopes": ["registry:write"], "org_path": ORG.org_path}
    key = await api.rest(OFFICE, "POST", "/api-keys", hr)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADERS)
    w.writerows(rows)
    content = base64.b64encode(out.getvalue().encode()).decode()
    body: dict[str, Any] = {"filename": "晋城市干部名册.csv", "dry_run": True, "content_base64": content}
    url, hdr = f"{api.base_url}/api/v1/rewards/registry/import", {"X-Api-Key": key["key"]}
    dry = await http.post(url, json=body, headers=hdr)
    if dry.status_code != 200 or dry.json()["problems"]:
        raise DemoError(f"roster dry run: HTTP {dry.status_code} {dry.text[:300]}")
    body.update(dry_run=False, expected_digest=dry.json()["digest"])
    done = await http.post(url, json=body, headers=hdr)
    if done.status_code != 200 or not done.json()["committed"]:
        raise DemoError(f"roster commit: HTTP {done.status_code} {done.text[:300]}")
    return dict(done.json())


async def play(
    url: str, summary: dict[str, Any], say: Callable[[str], None], timeout_s: float
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as http:
        api = Api(url, http)
        sid = summary["scheme_id"]
        units: list[dict[str, Any]] = []
        for c in CATEGORIES:
            units += (await api.gql(OFFICE, RANKING, {"s": sid, "p": PERIOD, "c": c}))["ranking"]["nodes"]
        names = {u["unitId"]: u["unitName"] for u in units}
        per_unit = max(10, 3000 // max(1, len(units)))
        rows = roster(units, per_unit)
        t = time.monotonic()
        rep = await _import(api, http, rows)
        say(
            f"干部名册: 人社系统经 REST 导入 {rep['rows']} 名干部 ({len(units)} 个单位, 试导入后提交: 新建"
            f" {rep['new_persons']} 人, {rep['new_posts']} 个任职, {rep['grades']} 个个人等次,"
            f" {time.monotonic() - t:.1f}s)"
        )
        made = await api.mutate(ORG, "rewardRuleSetCreate", CREATE, {"u": CITY, "r": RULES})
        v = {"u": CITY, "v": made["node"]["version"], "rev": made["node"]["revision"]}
        active = (await api.mutate(ORG, "rewardRuleSetActivate", ACTIVATE, v))["node"]
        say(f"结果运用规则 {active['ref']} 启用 (组织部): {len(RULES)} 条, 每条注明文件依据")
        deadline = time.monotonic() + timeout_s
        while True:  # publication waits until scoring has settled (supervision scores may still arrive)
            try:
                await api.mutate(OFFICE, "resultsPublish", PUBLISH, {"s": sid, "p": PERIOD})
                break
            except ApiError as e:
                if e.code != "scoring_pending" or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        say(f"{PERIOD} 考核结果发布 (考核办): 快照不可更改, 结果运用据此测算")
        s: dict[str, Any] = {}
        while not s:
            nodes = (await api.gql(OFFICE, SETS, {"u": CITY, "p": PERIOD}))["rewardProposalSets"]["nodes"]
            s = next((n for n in nodes if n["status"] == "pending"), {})
            if not s:
                if time.monotonic() > deadline:
                    raise DemoError("rewards computed no proposal list for the published quarter")
                await asyncio.sleep(0.3)
        say(f"拟运用清单: {s['lines']} 行, {s['units']} 个单位, 问题 {len(s['problems'])} 个")
        version = s["version"]
        for p in s["problems"]:  # a reviewer settles what the rules flagged (none expected)
            say(f"   问题 {p['code']}: {p['message']} → 考核办核实")
            v = {"s": s["setId"], "p": p["problemId"], "v": version}
            version = (await api.mutate(OFFICE, "rewardProposalResolve", RESOLVE, v))["node"]["version"]
        one = await api.mutate(
            OFFICE, "rewardProposalApprove", APPROVE, {"s": s["setId"], "v": version, "l": 1}
        )
        v = {"s": s["setId"], "v": one["node"]["version"], "l": 2}
        two = await api.mutate(ORG, "rewardProposalApprove", APPROVE, v)
        say(f"审批: 考核办初审、组织部复审 → {two['node']['status']}, 记入实绩档案")
        return await _report(api, s, names, say)


async def _report(
    api: Api, s: dict[str, Any], names: dict[str, str], say: Callable[[str], None]
) -> dict[str, Any]:
    pay = await _pages(api, s["setId"], "pay")
    by_grade: dict[str, Counter[str]] = {}
    for ln in pay:
        i = ln["inputs"]
        factor = str(i.get("factor", "1")).rstrip("0").rstrip(".")  # 1.10 → 1.1, 1.00 → 1
        how = "零绩效" if i.get("zeroed") or not ln["amountFen"] else SHIFT.get(factor, "不浮动")
        by_grade.setdefault(str(i.get("grade") or "无等次"), Counter())[how] += 1
    say("绩效工资 (按个人等次):")
    for g in ("优秀", "良好", "一般", "较差", "无等次"):
        if g in by_grade:
            c = by_grade[g]
            say(f"   {g}: {sum(c.values())} 人 — " + ", ".join(f"{k} {n}" for k, n in sorted(c.items())))
    honours = await _pages(api, s["setId"], "honour")
    units = [names.get(h["unitId"], h["unitId"]) for h in honours if h["personKey"] is None]
    people = [h for h in honours if h["personKey"]]
    say(f"表彰建议: 先进单位 {len(units)} 个 ({'、'.join(units[:8])}{'…' if len(units) > 8 else ''}),"
        f" 先进个人 {len(people)} 名")  # fmt: skip
    talks = [ln for ln in await _pages(api, s["setId"], "cadre") if ln["consequence"] == "提醒谈话"]
    say(f"提醒谈话 {len(talks)} 人 (所在单位等次一般或较差的主要负责人):")
    for ln in talks[:8]:
        who = (await api.gql(ORG, PERSON, {"k": ln["personKey"]}))["rewardPerson"]
        unit, grade = names.get(ln["unitId"], ln["unitId"]), ln["inputs"].get("grade")
        say(f"   {unit} 主要负责人 {who['nameMasked']} (单位等次 {grade})")
    paid = sum(ln["amountFen"] or 0 for ln in pay)
    balanced = (
        s["poolErrorFen"] == 0 and s["paidFen"] + s["withheldFen"] == s["poolFen"] and paid == s["paidFen"]
    )
    yuan = lambda f: f"{f / 100:,.2f}"  # noqa: E731
    say(f"总额核对: 奖励性绩效总额 {yuan(s['poolFen'])} 元 = 发放 {yuan(s['paidFen'])} + 暂扣/零绩效"
        f" {yuan(s['withheldFen'])}; 逐人合计 {yuan(paid)} 元; 分毫不差: {balanced}")  # fmt: skip
    verdict = (await api.gql(ORG, VERIFY))["rewardLedgerVerify"]
    say(f"实绩档案校验: {verdict['entries']} 条, {verdict['holders']} 个档案链, 完整: {verdict['ok']}")
    if not balanced or not verdict["ok"]:
        raise DemoError("a pool does not balance to the fen, or the ledger does not verify")
    return {
        "set_id": s["setId"],
        "pay_by_grade": {g: dict(c) for g, c in by_grade.items()},
        "talks": len(talks),
        "honour_units": len(units),
        "honour_people": len(people),
        "balanced": balanced,
    }


def run(
    url: str, summary: dict[str, Any], progress: Callable[[str], None], *, timeout_s: float = 120
) -> dict[str, Any]:
    """Publish the quarter and apply it (see the module docstring); returns what was applied."""
    progress("— 结果运用: 发布季度结果, 按规则运用到绩效工资、表彰和干部 —")
    started = time.monotonic()
    out = asyncio.run(play(url, summary, progress, timeout_s))
    progress(f"结果运用 done in {time.monotonic() - started:.1f}s")
    return out
