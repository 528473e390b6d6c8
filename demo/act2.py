"""The demo's second act: a 晋城-like city with its "1+4" scheme, a quarter of reviewed data, and the
results an assessment office reads — rankings per category, 三色榜, grades with quota, an explanation.

Seeding and reading go through the gateway only (GraphQL and the integration REST API), as the city's
people, its systems and a frontend would; nothing here speaks to the bus.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from demo.act1 import GraphQLClient
from demo.client import Api, DemoError, Who, dev_token
from demo.seed import OFFICE
from demo.seed import seed as seed_city
from demo.values import MONTHS

PERIOD = "2026-Q1"
CATEGORIES = ("县区", "乡镇", "街道", "市直")
TJ_CODES = ("X0101", "X0201", "X0501")  # 统计局's monthly statistics (规上工业, 固投, 农村居民收入)
TOTALS = """query Totals($s: ID!, $p: String!, $c: String!) {
  ranking(schemeId: $s, period: $p, category: $c, first: 100) { nodes { unitId total } }
}"""

RANKING = """query Ranking($s: ID!, $p: String!, $c: String!, $n: Int) {
  ranking(schemeId: $s, period: $p, category: $c, first: $n) {
    nodes { unitId rank of unitName total grade warningColour vetoed lastPlace level1 { name score } }
  }
}"""
BOARD = """query Board($s: ID!, $p: String!) {
  board(schemeId: $s, period: $p, first: 200) { nodes { colour } }
}"""
GRADES = """query Grades($s: ID!, $p: String!) {
  grades(schemeId: $s, period: $p) { category of quota counts { grade count } vetoed }
}"""
EXPLAIN = """query Explain($u: String!, $p: String!, $s: ID) {
  scoreExplanation(unitId: $u, period: $p, schemeId: $s) {
    digest addsUp steps { depth name kind value contribution weight }
  }
}"""
RECOMPUTE = """mutation Recompute($s: String!, $p: String!) {
  recomputeStart(schemeId: $s, period: $p) { job { jobId } errors { code field message } }
}"""
JOB = """query Job($id: ID!) {
  recomputeJob(jobId: $id) { status stage progress doneUnits totalUnits error }
}"""
COLOUR_ZH = {"red": "红", "yellow": "黄", "green": "绿", None: "—"}


async def seed(
    gateway_url: str, progress: Callable[[str], None], *, timeout_s: float = 300
) -> dict[str, Any]:
    """Seed the city through GraphQL and REST, then wait until every assessed unit's ranking is settled."""
    async with httpx.AsyncClient(timeout=120) as http:
        api = Api(gateway_url, http)
        summary = await seed_city(api, progress=lambda m: progress(f"   {m}"))
        await settled(api, summary, progress, timeout_s)
    return summary


async def settled(
    api: Api, summary: dict[str, Any], progress: Callable[[str], None], timeout_s: float
) -> None:
    """Scoring takes approvals in asynchronously: wait, as a board would, until every assessed unit is ranked
    and two readings a second apart agree (a client cannot see scoring's queue, only its results)."""
    want = summary["assessed_by_category"]
    deadline = time.monotonic() + timeout_s
    previous: dict[str, Any] | None = None
    while True:
        seen = {}
        for cat in want:
            rows = await api.gql(OFFICE, TOTALS, {"s": summary["scheme_id"], "p": PERIOD, "c": cat})
            seen[cat] = [(r["unitId"], r["total"]) for r in rows["ranking"]["nodes"]]
        ranked = sum(len(v) for v in seen.values())
        if ranked == sum(want.values()) and seen == previous:
            return
        if time.monotonic() > deadline:
            raise DemoError(f"scoring has ranked {ranked} of {sum(want.values())} units after {timeout_s}s")
        if previous is not None:
            progress(f"   scoring is taking in the approvals: {ranked} of {sum(want.values())} units ranked")
        previous = seen
        await asyncio.sleep(1.0)


def try_it(gateway_url: str, summary: dict[str, Any], progress: Callable[[str], None]) -> dict[str, str]:
    """What to try the docs (docs/graphql.md) with: the scheme id, the periods and a token per role."""
    units = summary["units_of_interest"]
    people = {
        "assessment_office": Who("jincheng-kaoheban", "assessment_office", "/"),
        "leader": Who("jincheng-leader", "leader", "/14/1405/"),
        "department": Who("jincheng-tongjiju", "department", "/14/1405/", frozenset(TJ_CODES)),
        "reporter": Who("chengqu-tianbao", "reporter", f"/14/1405/{units['城区']}/"),
        "supervisor": Who("jincheng-ducha", "supervisor", "/14/1405/"),
    }
    tokens = {role: dev_token(who) for role, who in people.items()}
    progress("try the docs (docs/graphql.md) against this stack:")
    progress(
        f"   GraphQL {gateway_url}/graphql · REST {gateway_url}/api/v1 · scheme id {summary['scheme_id']}"
    )
    progress(f"   periods {PERIOD} (季度) and {', '.join(MONTHS)} (月调度); 城区 = {units['城区']}")
    for role, who in people.items():
        scope = who.org_path + (f" indicators {','.join(sorted(who.codes))}" if who.codes else "")
        progress(f"   {role:<17} ({scope}): Authorization: Bearer {tokens[role]}")
    return tokens


def report(gql: GraphQLClient, summary: dict[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """Recompute the quarter (with progress), then read rankings, 三色榜, grades, 城区's explanation, and
    check that every ranked unit's explanation adds up."""
    scheme_id = summary["scheme_id"]
    job = gql.mutate("recomputeStart", RECOMPUTE, {"s": scheme_id, "p": PERIOD})["job"]
    last = ""
    while True:
        j = gql(JOB, {"id": job["jobId"]})["recomputeJob"]
        done = f"{j['doneUnits']}/{j['totalUnits']} ({j['progress'] * 100:.0f}%)"
        line = f"   全量重算 {PERIOD}: {j['stage']} {done}"
        if line != last:
            progress(line)
            last = line
        if j["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    if j["status"] != "done":
        raise DemoError(f"recompute failed: {j['error']}")
    out: dict[str, Any] = {"scheme_id": scheme_id, "period": PERIOD, "rankings": {}}
    for cat in CATEGORIES:
        nodes = gql(RANKING, {"s": scheme_id, "p": PERIOD, "c": cat, "n": 100})["ranking"]["nodes"]
        out["rankings"][cat] = nodes
        progress(f"{cat} 排名 ({len(nodes)} 个单位, {PERIOD}):")
        shown = nodes if len(nodes) <= 8 else [*nodes[:4], *nodes[-3:]]
        for r in shown:
            top = sorted(r["level1"], key=lambda x: -x["score"])[:2]
            best = "、".join(f"{x['name']} {x['score']:.1f}" for x in top)
            flags = "".join(s for s, on in (("  一票否决", r["vetoed"]), ("  末位", r["lastPlace"])) if on)
            progress(
                f"   {r['rank']:>3}/{r['of']:<3} {r['unitName']:<8} {r['total']:7.2f}  {r['grade'] or '':<2}"
                f"  {COLOUR_ZH.get(r['warningColour'], '—')}  强项: {best}{flags}"
            )
    colours = [n["colour"] for n in gql(BOARD, {"s": scheme_id, "p": PERIOD})["board"]["nodes"]]
    out["board"] = {c: colours.count(c) for c in ("red", "yellow", "green")}
    progress("三色榜: " + "  ".join(f"{COLOUR_ZH[c]} {n}" for c, n in out["board"].items()))
    out["grades"] = gql(GRADES, {"s": scheme_id, "p": PERIOD})["grades"]
    for g in out["grades"]:
        counts = " ".join(f"{c['grade']} {c['count']}" for c in g["counts"])
        progress(f"等次 {g['category']}: {counts} (优秀名额 {g['quota']}, 一票否决 {g['vetoed']})")
    unit = summary["units_of_interest"]["城区"]
    ex = gql(EXPLAIN, {"u": unit, "p": PERIOD, "s": scheme_id})["scoreExplanation"]
    out["explanation"] = {
        "unit_id": unit,
        "digest": ex["digest"],
        "adds_up": ex["addsUp"],
        "steps": len(ex["steps"]),
    }
    n, digest = len(ex["steps"]), ex["digest"][:16]
    progress(f"得分反查 城区 {PERIOD}: {n} steps, adds up: {ex['addsUp']}, digest {digest}…")
    for step in [s for s in ex["steps"] if s["depth"] <= 2][:8]:
        weight = "" if step["weight"] is None else " × 权重 {:.3f}".format(step["weight"])
        progress(f"   {'  ' * step['depth']}{step['name'] or step['kind']}: {step['value']}{weight}")
    if not ex["addsUp"]:
        raise DemoError("the explanation of 城区 does not add up")
    # and every ranked unit's explanation adds up too
    ranked = [r["unitId"] for nodes in out["rankings"].values() for r in nodes]
    with ThreadPoolExecutor(8) as pool:  # concurrent requests, as a board checking its figures would send
        checks = pool.map(lambda u: gql(EXPLAIN, {"u": u, "p": PERIOD, "s": scheme_id}), ranked)
        wrong = [u for u, ex in zip(ranked, checks, strict=True) if not ex["scoreExplanation"]["addsUp"]]
    out["explanations_add_up"] = {"units": len(ranked), "wrong": wrong}
    progress(f"得分反查 全部 {len(ranked)} 个被考核单位: {len(ranked) - len(wrong)} 个逐级相加一致")
    if wrong:
        raise DemoError(f"explanations that do not add up: {', '.join(wrong)}")
    return out
