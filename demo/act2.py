"""The demo's second act: a 晋城-like city with its "1+4" scheme, a quarter of reviewed data, and the
results an assessment office reads — rankings per category, 三色榜, grades with quota, an explanation.

Seeding goes through the indicators service's RPC (the provincial-to-township integration path); every
read goes through the gateway's GraphQL, as a frontend would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from demo.act1 import DemoError, GraphQLClient
from kaohe import bus
from kaohe.identity import Caller, Role
from kaohe.natsauth import Identity
from kaohe.rpc import RpcClient
from services.scoring.settings import ScoringSettings

PERIOD = "2026-Q1"
CATEGORIES = ("县区", "乡镇", "街道", "市直")
SCORING_CONSUMER = "scoring-inputs"  # the durable consumer through which scoring takes in every input

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
    nats_url: str,
    progress: Callable[[str], None],
    *,
    identity: Identity | None = None,
    timeout_s: float = 180,
) -> dict[str, Any]:
    """Seed the city through RPC, then wait until scoring has taken in every event it produced."""
    from demo.seed import seed as seed_city

    settings = ScoringSettings()
    nc = await bus.connect(nats_url, name="kaohe-demo", identity=identity)  # the admin identity
    try:
        client = RpcClient(nc, prefix=settings.rpc_prefix, timeout_s=120)
        office = Caller(user_id="jincheng-kaoheban", roles=frozenset({Role.assessment_office}), org_path="/")
        summary = await seed_city(client, office, progress=lambda m: progress(f"   {m}"))
        js = nc.jetstream()
        deadline = time.monotonic() + timeout_s
        said = 0.0
        while True:
            info = await js.consumer_info(settings.event_stream, SCORING_CONSUMER)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            if time.monotonic() > deadline:
                raise DemoError(f"scoring still has {info.num_pending} events waiting after {timeout_s}s")
            if time.monotonic() - said > 2:
                progress(f"   scoring is taking in events: {info.num_pending} waiting")
                said = time.monotonic()
            await asyncio.sleep(0.1)
        return summary
    finally:
        await nc.close()


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
    wrong = [
        u
        for u in ranked
        if not gql(EXPLAIN, {"u": u, "p": PERIOD, "s": scheme_id})["scoreExplanation"]["addsUp"]
    ]
    out["explanations_add_up"] = {"units": len(ranked), "wrong": wrong}
    progress(f"得分反查 全部 {len(ranked)} 个被考核单位: {len(ranked) - len(wrong)} 个逐级相加一致")
    if wrong:
        raise DemoError(f"explanations that do not add up: {', '.join(wrong)}")
    return out
