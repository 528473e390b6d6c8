"""The demo's 督考合一 loop (act 2): warnings of the quarter open 督办 items; units accept, report and close
them with evidence; one goes up for decision (上报研究); a sweep ten days on records the breaches of an item
never 签收 (no card, by the card policy); in the assessed quarter itself (`supervision_q1`) a late
cooperating unit is carded (charged to it, not to the lead) and its supervision score (督查结果单独核算)
moves its 2026-Q1 total and rank in scoring; the 督办 board and every card's attribution are printed.
GraphQL with the people's development tokens, except the backdated steps (system, supervision RPC).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from demo import supervision_q1
from demo.client import DemoError, Who, dev_token

OFFICE = Who("jincheng-ducha", "supervisor", "/14/1405/")  # 晋城市委督查室
LEADER = Who("jincheng-leader", "leader", "/14/1405/")
ERR = "errors { code field message }"
ITEM = """id number title status statusZh version lead { unitId unitName unitPath }
  cooperating { unitId unitName }"""
LIST = f"""query($s: [SupervisionItemSource!], $st: [SupervisionItemStatus!], $a: String) {{
  supervisionItems(source: $s, status: $st, first: 200, after: $a) {{
    nodes {{ {ITEM} indicatorCode }} pageInfo {{ hasNextPage endCursor }} }} }}"""
CREATE = f"""mutation($i: SupervisionItemCreateInput!) {{
  supervisionItemCreate(input: $i) {{ node {{ {ITEM} }} {ERR} }} }}"""
ASSIGN = f"""mutation($i: SupervisionItemAssignInput!) {{
  supervisionItemAssign(input: $i) {{ node {{ {ITEM} }} {ERR} }} }}"""
SWEEP = "mutation($t: DateTime!) { supervisionSweepRun(asOf: $t) { items breaches cards scores } }"
BOARD = """query { supervisionBoard(rootId: "1405", perColumn: 3) {
  columns { status statusZh count items { number title lead { unitName } } } } }"""
CARDS = """query($id: ID!) { supervisionItem(id: $id) { number title
  cards { colour unitId role reason at } breaches { kind unitId role } } }"""
ROLE_ZH = {"lead": "牵头单位", "cooperating": "配合单位"}
KIND_ZH = {
    "accept": "超时未签收",
    "first_feedback": "超时未首次反馈",
    "progress": "未按期推进反馈",
    "deadline": "超期未办结",
    "part": "分项任务超期",
}
COLOUR_ZH = {"yellow": "黄牌", "red": "红牌"}


def transition(name: str, extra: str = "") -> str:
    args = ", $d: Date!" if "$d" in extra else ""
    return f"""mutation($i: SupervisionTransitionInput!{args}) {{
      {name}(input: $i{extra}) {{ node {{ {ITEM} }} {ERR} }} }}"""


class Gql:
    """GraphQL over HTTP as a person (one development token each)."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url, self.http = f"{url}/graphql", http

    def __call__(self, who: Who, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {dev_token(who)}"}
        r = self.http.post(self.url, json={"query": query, "variables": variables or {}}, headers=headers)
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise DemoError(f"GraphQL error ({r.status_code}): {body.get('errors')}")
        return body["data"]  # type: ignore[no-any-return]

    def mutate(self, who: Who, name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = self(who, query, variables)[name]
        if payload["errors"]:
            raise DemoError(f"{name}: {payload['errors']}")
        return payload["node"]  # type: ignore[no-any-return]

    def act(self, who: Who, name: str, item: dict[str, Any], extra: str = "", **kw: Any) -> dict[str, Any]:
        d = kw.pop("new_deadline", None)
        stage = kw.pop("stage", None)  # a 13710 stage: an enum literal, not an input field
        extra += f", stage: {stage}" if stage else ""
        variables: dict[str, Any] = {"i": {"itemId": item["id"], "expectedVersion": item["version"], **kw}}
        if d is not None:
            variables["d"] = d
        return self.mutate(who, name, transition(name, extra), variables)


def unit_person(item: dict[str, Any]) -> Who:
    lead = item["lead"]
    return Who(f"tbr-{lead['unitId']}", "reporter", lead["unitPath"])


def items(g: Gql, source: list[str], status: list[str] | None = None) -> list[dict[str, Any]]:
    out, after = [], None
    while True:
        page = g(OFFICE, LIST, {"s": source, "st": status, "a": after})["supervisionItems"]
        out += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def run(
    url: str,
    summary: dict[str, Any],
    progress: Callable[[str], None],
    *,
    bus: supervision_q1.Bus | None = None,
    timeout_s: float = 60,
) -> dict:
    """Play the loop; returns what it did (item numbers, cards with attribution, scores)."""
    started = time.monotonic()
    with httpx.Client(timeout=60) as http:
        g = Gql(url, http)
        deadline = time.monotonic() + timeout_s
        opened: list[dict[str, Any]] = []
        while True:  # the warnings were raised while scoring took the quarter in: supervision follows them
            now = items(g, ["assessment"])
            if now and len(now) == len(opened):  # two readings a second apart agree
                break
            if time.monotonic() > deadline:
                if now:
                    break
                raise DemoError("no 督办 item was opened from the quarter's red/orange warnings")
            opened = now
            time.sleep(1.0)
        opened = now
        progress(f"督考合一: 本季度红/橙色预警生成督办事项 {len(opened)} 件 (考核发现), 例如:")
        for it in opened[:3]:
            progress(f"   {it['number']} {it['title']} → 牵头 {it['lead']['unitName']} ({it['statusZh']})")
        today = datetime.now(UTC).date()
        pending = [it for it in opened if it["status"] in ("assigned", "draft")]
        units = summary["units_of_interest"]
        more = [(units["城区"], "领导批示", "leader"), (units["泽州县"], "上级交办", "superior")]
        more.append((units["lagging"].get("县区", units["城区"]), "部门反馈", "department"))
        for unit_id, zh, source in more:  # the office's own items from other sources, beside the warnings
            i = {
                "title": f"{zh}: 12345热线反映问题集中整改",
                "problem": "同类诉求一月内重复出现",
                "source": source,
                "sourceRef": f"{zh}〔2026〕{len(pending) + 3}号",
                "officeId": "1405",
                "lead": {
                    "unitId": unit_id,
                    "task": "牵头整改并报送结果",
                    "deadline": str(today + timedelta(40)),
                },
                "deadline": str(today + timedelta(40)),
            }
            pending.append(g.mutate(OFFICE, "supervisionItemCreate", CREATE, {"i": i}))
        progress(f"督查室另交办 {len(more)} 件 (领导批示、上级交办、部门反馈)")
        today = datetime.now(UTC).date()
        for it in pending:
            if it["status"] == "draft":  # an office assigns what arrived without a lead's deadline
                lead = {
                    "unitId": it["lead"]["unitId"],
                    "task": "对照预警整改",
                    "deadline": str(today + timedelta(30)),
                }
                i = {"itemId": it["id"], "expectedVersion": it["version"], "lead": lead}
                it.update(
                    g.mutate(
                        OFFICE, "supervisionItemAssign", ASSIGN, {"i": i | {"deadline": lead["deadline"]}}
                    )
                )
        accepted = []
        for it in pending[:3]:
            who = unit_person(it)
            it = g.act(who, "supervisionItemAccept", it)
            it = g.act(who, "supervisionItemFeedback", it, reason="已制定整改方案, 本月调度两次")
            accepted.append(it)
        progress(f"签收并反馈: {', '.join(a['number'] for a in accepted)}")
        closed = []
        for it in accepted[:2]:
            who = unit_person(it)
            evidence = [f"evidence/督办/{it['number']}/整改报告.pdf"]
            it = g.act(
                who,
                "supervisionItemClosureRequest",
                it,
                reason="整改到位, 指标回到序时进度",
                evidence=evidence,
            )
            it = g.act(OFFICE, "supervisionItemClose", it, reason="督查室现场核实, 同意销号")
            closed.append(it)
        progress(
            f"申请销号 → 督查室核实销号: {', '.join(c['number'] for c in closed)} ({closed[0]['statusZh']})"
        )
        up = g.act(OFFICE, "supervisionItemEscalate", pending[3], reason="涉及跨县区用地指标, 需市级层面研究")
        progress(f"上报研究: {up['number']} → {up['statusZh']}")

        as_of = datetime.combine(today + timedelta(10), datetime.min.time(), UTC).replace(hour=12)
        swept = g(OFFICE, SWEEP, {"t": as_of.isoformat()})["supervisionSweepRun"]
        progress(
            f"时钟巡检 (as of {as_of.date()}): {swept['items']} 件到期, 超时 {swept['breaches']} 次,"
            f" 亮牌 {swept['cards']} 张"
        )
        silent = [it for it in pending[4:] if it["status"] == "assigned"]  # 交办 but never 签收
        for it in silent:
            detail = g(OFFICE, CARDS, {"id": it["id"]})["supervisionItem"]
            kinds = "、".join(KIND_ZH[b["kind"]] for b in detail["breaches"])
            if not detail["breaches"]:
                raise DemoError(f"{it['number']} was never accepted but the sweep recorded no breach")
            progress(f"   {it['number']} {it['lead']['unitName']}: {kinds} (记录在案; 按红黄牌规则不亮牌)")

        q1: dict[str, Any] | None = None
        if bus is None:
            progress("一季度督办回溯: 未连到本栈的 NATS (需 NATS_URL 与运维凭据), 跳过")
        else:
            q1 = supervision_q1.run(g, summary, bus, progress)
        board = g(OFFICE, BOARD)["supervisionBoard"]["columns"]
        progress("督办清单 (看板):")
        for col in board:
            if col["count"]:
                first = "; ".join(f"{x['number']} {x['lead']['unitName']}" for x in col["items"])
                progress(f"   {col['statusZh']:<6} {col['count']:>3} 件  {first}")
        progress("红黄牌及归责:")
        all_cards = []
        ids = [x["id"] for x in [*opened, *pending]] + ([q1["item"]["id"]] if q1 else [])
        for i in dict.fromkeys(ids):
            detail = g(OFFICE, CARDS, {"id": i})["supervisionItem"]
            for c in detail["cards"]:
                all_cards.append({**c, "number": detail["number"]})
        names = {x["lead"]["unitId"]: x["lead"]["unitName"] for x in [*opened, *pending]}
        if q1:
            names |= {
                q1["coop"]["unitId"]: q1["coop"]["unitName"],
                q1["lead_unit"]["unitId"]: q1["lead_unit"]["unitName"],
            }
        for c in all_cards[:12]:
            progress(
                f"   {COLOUR_ZH[c['colour']]} {c['number']} → {names.get(c['unitId'], c['unitId'])} "
                f"({ROLE_ZH[c['role']]}): {c['reason']}"
            )
        if len(all_cards) > 12:
            progress(f"   … 共 {len(all_cards)} 张")
        if q1:
            charged = {c["unitId"] for c in all_cards if c["number"] == q1["item"]["number"]}
            if charged != {q1["coop"]["unitId"]}:
                raise DemoError(
                    f"the Q1 item's cards should charge only the late cooperating unit: {charged}"
                )
    progress(f"督考合一 loop done in {time.monotonic() - started:.1f}s")
    return {
        "opened_from_warnings": len(opened),
        "closed": [c["number"] for c in closed],
        "escalated": up["number"],
        "never_accepted": [it["number"] for it in silent],
        "cards": len(all_cards),
        "quarter": None
        if q1 is None
        else {
            "item": q1["item"]["number"],
            "carded_cooperating": q1["coop"]["unitId"],
            "supervision_scores": q1["scores"],
            "total_before": q1["before"]["total"],
            "total_after": q1["after"]["total"],
            "rank_before": q1["before"]["rank"],
            "rank_after": q1["after"]["rank"],
        },
    }
