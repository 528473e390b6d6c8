"""The demo's 督考合一 loop inside the assessed quarter (2026-Q1): a 专项督办 item whose cooperating unit
delivers late is carded (黄牌, then 红牌 at 5 working days overdue, charged to it and not to the lead), its
overdue working days cost it points day by day, and its supervision score (督查结果单独核算) moves its
quarter total and rank in scoring — printed before and after.

The 考核办 sets 平时督查 to 10% of each period's total and recomputes the quarter (GraphQL). The item's
steps happened in March: only the `system` caller may backdate (`at`, `as_of`), so these steps go to the
supervision RPC as system over the bus — the demo says so — while everything read goes through GraphQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.client import DemoError, Who
from kaohe import bus, natsauth
from kaohe.identity import Caller
from kaohe.rpc import RpcClient
from kaohe.settings import InfraSettings
from kaohe.workdays import CHINA_TZ

PERIOD = "2026-Q1"
KAOHEBAN = Who("jincheng-kaoheban", "assessment_office", "/")  # the 考核办 (demo.seed.OFFICE)
WEIGHT = 0.1  # 平时督查 share of each period's total
CONFIG = "query($s: String!) { scoringConfig(schemeId: $s) }"
CONFIG_SET = """mutation($s: String!, $c: JSON!) {
  configSet(schemeId: $s, config: $c) { config errors { code field message } } }"""
RECOMPUTE = """mutation($s: String!, $p: String!) {
  recomputeStart(schemeId: $s, period: $p) { job { jobId } errors { code field message } } }"""
JOB = "query($id: ID!) { recomputeJob(jobId: $id) { status error } }"
RANKING = """query($s: ID!, $p: String!, $c: String!) {
  ranking(schemeId: $s, period: $p, category: $c, first: 100) { nodes { unitId unitName rank of total } } }"""


@dataclass(frozen=True)
class Bus:
    """Where the supervision RPC is reached for the backdated steps (the stack's NATS, as the operator)."""

    url: str
    identity: natsauth.Identity | None


def bus_from_env() -> Bus | None:
    """A stack the demo did not start: NATS_URL, and the operators' credentials (KAOHE_ADMIN_NATS_* or those
    `kaohe up` keeps in KAOHE_DATA_DIR); None when there is no NATS_URL."""
    url = InfraSettings().nats_url
    if not url:
        return None
    ident = natsauth.admin_identity()
    creds = Path(os.environ.get("KAOHE_DATA_DIR", Path.cwd() / ".kaohe" / "data")) / "nats-credentials.json"
    if ident is None and creds.exists():
        password = json.loads(creds.read_text())[natsauth.ADMIN]
        ident = natsauth.Identity(natsauth.ADMIN, password, natsauth.inbox_prefix(natsauth.ADMIN))
    return Bus(url, ident)


def cst(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHINA_TZ)


def standing(g: Any, scheme_id: str, category: str, unit_id: str) -> dict[str, Any]:
    """The unit's row of its category's ranking (total, rank), as scoring publishes it."""
    nodes = g(KAOHEBAN, RANKING, {"s": scheme_id, "p": PERIOD, "c": category})["ranking"]["nodes"]
    row = next((n for n in nodes if n["unitId"] == unit_id), None)
    if row is None:
        raise DemoError(f"{unit_id} is not ranked in {category} {PERIOD}")
    return row


def weigh_supervision(g: Any, scheme_id: str, progress: Callable[[str], None]) -> None:
    """考核办: 平时督查 counts 10% in each period's total; the quarter recomputed with it."""
    config = g(KAOHEBAN, CONFIG, {"s": scheme_id})["scoringConfig"]
    got = g(KAOHEBAN, CONFIG_SET, {"s": scheme_id, "c": config | {"supervision_weight": WEIGHT}})
    if got["configSet"]["errors"]:
        raise DemoError(f"configSet: {got['configSet']['errors']}")
    job = g(KAOHEBAN, RECOMPUTE, {"s": scheme_id, "p": PERIOD})["recomputeStart"]
    if job["errors"]:
        raise DemoError(f"recomputeStart: {job['errors']}")
    deadline = time.monotonic() + 60
    while True:
        j = g(KAOHEBAN, JOB, {"id": job["job"]["jobId"]})["recomputeJob"]
        if j["status"] in ("done", "failed"):
            break
        if time.monotonic() > deadline:
            raise DemoError("the quarter's recompute did not finish in 60 s")
        time.sleep(0.1)
    if j["status"] != "done":
        raise DemoError(f"recompute failed: {j['error']}")
    progress(f"考核办 计分设置: 平时督查占各期总分 {WEIGHT:.0%} (督查结果单独核算), {PERIOD} 全量重算完成")


async def _story(b: Bus, lead: dict[str, str], coop: dict[str, str], say: Callable[[str], None]) -> dict:
    """The item's March, as the system replays it; returns the item, its scores after each sweep."""
    try:
        nc = await asyncio.wait_for(bus.connect(b.url, name="kaohe-demo", identity=b.identity), 15)
    except (TimeoutError, OSError) as e:
        raise DemoError(f"cannot reach the stack's NATS at {b.url}: {e!r}") from None
    client, system = RpcClient(nc, timeout_s=60), Caller.system()

    async def call(method: str, params: dict[str, Any]) -> Any:
        return await client.call("supervision", method, params, system)

    async def step(method: str, item: dict[str, Any], when: datetime, **kw: Any) -> dict[str, Any]:
        p = {"item_id": item["id"], "expected_version": item["version"], "at": when.isoformat(), **kw}
        return await call(method, p)  # type: ignore[no-any-return]

    async def sweep(when: datetime) -> dict[str, Any]:
        got: dict[str, Any] = await call("sweep_run", {"as_of": when.isoformat()})
        rows = await call("scores_list", {"unit_ids": [coop["unitId"]], "period": PERIOD})
        return got | {"score": rows[0]["score"] if rows else 100.0, "as_of": when}

    try:
        item = await call(
            "item_create",
            {
                "title": "优化营商环境 “一件事一次办” 专项督办",
                "problem": "企业开办、不动产登记仍需多次跑腿",
                "source": "leader",
                "source_ref": "市长批示〔2026〕7号",
                "office_id": "1405",
                "lead": {
                    "unit_id": lead["unitId"],
                    "task": "牵头梳理事项清单并推动落地",
                    "deadline": "2026-03-31",
                },
                "cooperating": [
                    {"unit_id": coop["unitId"], "task": "提供本地办件数据与流程图", "deadline": "2026-03-13"}
                ],
                "deadline": "2026-03-31",
                "measures": ["建立专班", "每周调度", "月底评估"],
                "at": cst(3, 2).isoformat(),
            },
        )
        say(
            f"   03-02 交办 {item['number']}: 牵头 {lead['unitName']}, 配合 {coop['unitName']}"
            " (分项时限 03-13, 办结时限 03-31)"
        )
        item = await step("item_accept", item, cst(3, 2, 10), unit_id=lead["unitId"])
        item = await step(
            "item_feedback", item, cst(3, 4), reason="专班已成立, 清单初稿完成", stage="feedback"
        )
        item = await step("item_feedback", item, cst(3, 13), reason="清单已定稿, 等待配合单位办件数据")
        say("   03-02 牵头单位签收, 03-04 首次反馈, 03-13 推进反馈 (均按期); 配合单位的办件数据未按期报送")
        sweeps = [await sweep(cst(3, 16, 10)), await sweep(cst(3, 18, 10)), await sweep(cst(3, 25, 9))]
        for s in sweeps:  # no step between them: the overdue working days alone move the score
            say(
                f"   时钟巡检 {s['as_of']:%m-%d %H:%M}: 新亮牌 {s['cards']} 张, {coop['unitName']} {PERIOD}"
                f" 督查得分 {s['score']:.2f}"
            )
        evidence = [f"evidence/督办/{item['number']}/办件数据.xlsx"]
        item = await step(
            "item_part_submit",
            item,
            cst(3, 25, 10),
            unit_id=coop["unitId"],
            reason="办件数据已报送",
            evidence=evidence,
        )
        final = [f"evidence/督办/{item['number']}/落地情况报告.pdf"]
        item = await step(
            "item_closure_request",
            item,
            cst(3, 27),
            unit_id=lead["unitId"],
            reason="清单事项已全部网办",
            evidence=final,
        )
        item = await step("item_close", item, cst(3, 30), reason="督查室抽查企业开办, 同意销号")
        say(
            f"   03-25 {coop['unitName']} 报送分项 (超期), 03-27 牵头单位申请销号 (附佐证),"
            f" 03-30 督查室核实销号 ({item['status_zh']})"
        )
        closing = await sweep(cst(3, 31, 20))
        return {"item": item, "sweeps": sweeps, "final": closing}
    finally:
        quiet = logging.getLogger("kaohe.bus")  # our own goodbye is no disconnection worth a warning
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            await nc.drain()
        finally:
            quiet.setLevel(level)


def run(
    g: Any,
    summary: dict[str, Any],
    b: Bus,
    progress: Callable[[str], None],
    *,
    timeout_s: float = 30,
) -> dict[str, Any]:
    """Play the quarter's loop; returns the item and the unit's standing before and after."""
    units, scheme_id, category = summary["units_of_interest"], summary["scheme_id"], "县区"
    coop_id, lead_id = units["城区"], units["泽州县"]
    weigh_supervision(g, scheme_id, progress)
    before = standing(g, scheme_id, category, coop_id)
    lead_before = standing(g, scheme_id, category, lead_id)
    coop = {"unitId": coop_id, "unitName": before["unitName"]}
    lead = {"unitId": lead_id, "unitName": lead_before["unitName"]}
    progress(
        f"一季度督办 (回溯到 {PERIOD}): 以下办理步骤发生在 2026 年 3 月, 回溯时间 (at/as_of) 仅系统身份可用,"
        " 故由系统经 supervision RPC 写入; 其余读写均经 GraphQL"
    )
    story = asyncio.run(_story(b, lead, coop, progress))
    final = story["final"]["score"]
    progress(
        f"督查得分 (单独核算) {coop['unitName']} {PERIOD}: {final:.2f} → 评分服务 (平时督查 {WEIGHT:.0%})"
    )
    deadline = time.monotonic() + timeout_s
    while (after := standing(g, scheme_id, category, coop_id))["total"] == before["total"]:
        if time.monotonic() > deadline:
            raise DemoError(f"{coop['unitName']}'s {PERIOD} total did not move within {timeout_s}s")
        time.sleep(0.2)
    lead_after = standing(g, scheme_id, category, lead_id)
    for name, b0, b1 in ((coop["unitName"], before, after), (lead["unitName"], lead_before, lead_after)):
        progress(
            f"   {name:<6} {PERIOD} 总分 {b0['total']:.2f} (第{b0['rank']}/{b0['of']}名)"
            f" → {b1['total']:.2f} (第{b1['rank']}/{b1['of']}名)"
        )
    if after["total"] >= before["total"]:
        raise DemoError(f"the late cooperating unit's total did not fall: {before} → {after}")
    return {
        "item": story["item"],
        "scores": [s["score"] for s in story["sweeps"]] + [final],
        "before": before,
        "after": after,
        "lead": {"before": lead_before, "after": lead_after},
        "coop": coop,
        "lead_unit": lead,
    }
