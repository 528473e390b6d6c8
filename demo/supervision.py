"""The demo's 督考合一 loop (act 2): warnings of the quarter open 督办 items; units accept, report and close
them with evidence; one goes up for decision (上报研究); a late cooperating unit is carded (黄牌, charged to
it, not to the lead); the supervision score (督查结果单独核算) reaches scoring; the 督办 board and every
card's attribution are printed. Public APIs only: GraphQL with the people's development tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

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
SCORES = """query($u: [String!]!, $p: String!) { supervisionScores(unitIds: $u, period: $p) {
  unitId period score revision details { deduction reason } } }"""
UNIT_SCORE = """query($u: ID!, $p: String) { unit(id: $u) { name score(period: $p) { total version } } }"""
ROLE_ZH = {"lead": "牵头单位", "cooperating": "配合单位"}
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


def run(url: str, summary: dict[str, Any], progress: Callable[[str], None], *, timeout_s: float = 60) -> dict:
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

        lead_unit, coop_unit = accepted[2]["lead"], pending[3]["lead"]
        if lead_unit["unitId"] == coop_unit["unitId"]:
            coop_unit = pending[0]["lead"]
        item = {
            "title": "优化营商环境 “一件事一次办” 专项督办",
            "problem": "企业开办、不动产登记仍需多次跑腿",
            "source": "leader",
            "sourceRef": "市长批示〔2026〕7号",
            "officeId": "1405",
            "lead": {
                "unitId": lead_unit["unitId"],
                "task": "牵头梳理事项清单并推动落地",
                "deadline": str(today + timedelta(45)),
            },
            "cooperating": [
                {
                    "unitId": coop_unit["unitId"],
                    "task": "提供本地办件数据与流程图",
                    "deadline": str(today + timedelta(3)),
                }
            ],
            "deadline": str(today + timedelta(45)),
            "measures": ["建立专班", "每周调度", "月底评估"],
        }
        it = g.mutate(OFFICE, "supervisionItemCreate", CREATE, {"i": item})
        lead_who = unit_person(it)
        it = g.act(lead_who, "supervisionItemAccept", it)
        it = g.act(
            lead_who, "supervisionItemFeedback", it, reason="专班已成立, 清单初稿完成", stage="feedback"
        )
        progress(
            f"交办 {it['number']}: 牵头 {lead_unit['unitName']}, 配合 {coop_unit['unitName']}"
            f" (分项时限 {item['cooperating'][0]['deadline']})"
        )
        as_of = datetime.combine(today + timedelta(10), datetime.min.time(), UTC).replace(hour=12)
        swept = g(OFFICE, SWEEP, {"t": as_of.isoformat()})["supervisionSweepRun"]
        progress(
            f"时钟巡检 (as of {as_of.date()}): {swept['items']} 件到期,"
            f" 超时 {swept['breaches']} 次, 亮牌 {swept['cards']} 张"
        )
        cards = g(OFFICE, CARDS, {"id": it["id"]})["supervisionItem"]["cards"]
        charged = [c for c in cards if c["unitId"] == coop_unit["unitId"]]
        if not charged or charged[0]["role"] != "cooperating":
            raise DemoError(f"the late cooperating unit was not carded: {cards}")
        if any(c["unitId"] == lead_unit["unitId"] for c in cards):
            raise DemoError(f"the lead was charged for its cooperating unit's part: {cards}")

        board = g(OFFICE, BOARD)["supervisionBoard"]["columns"]
        progress("督办清单 (看板):")
        for col in board:
            if col["count"]:
                first = "; ".join(f"{x['number']} {x['lead']['unitName']}" for x in col["items"])
                progress(f"   {col['statusZh']:<6} {col['count']:>3} 件  {first}")
        progress("红黄牌及归责:")
        all_cards = []
        for x in [*opened, it]:
            detail = g(OFFICE, CARDS, {"id": x["id"]})["supervisionItem"]
            for c in detail["cards"]:
                all_cards.append({**c, "number": detail["number"]})
        names = {x["lead"]["unitId"]: x["lead"]["unitName"] for x in opened} | {
            lead_unit["unitId"]: lead_unit["unitName"],
            coop_unit["unitId"]: coop_unit["unitName"],
        }
        for c in all_cards[:12]:
            progress(
                f"   {COLOUR_ZH[c['colour']]} {c['number']} → {names.get(c['unitId'], c['unitId'])} "
                f"({ROLE_ZH[c['role']]}): {c['reason']}"
            )
        if len(all_cards) > 12:
            progress(f"   … 共 {len(all_cards)} 张")

        period = f"{as_of.year}-{as_of.month:02d}"
        scores = _scores(g, coop_unit["unitId"], period, deadline=time.monotonic() + 30)
        progress(
            f"督查得分 (单独核算) {coop_unit['unitName']} {period}: {scores['score']:.2f} "
            f"(revision {scores['revision']}; {'; '.join(d['reason'] for d in scores['details'][:2])})"
        )
        total = g(LEADER, UNIT_SCORE, {"u": coop_unit["unitId"], "p": period})["unit"]["score"]
        if total is None:  # the demo's scheme has values for 2026-Q1 only; the card fell in `period`
            progress(f"评分服务: 本演示方案 {period} 无数据, 该期计分时读取此督查得分 (平时督查)")
        else:
            progress(f"评分服务中 {coop_unit['unitName']} {period} 的总分: {total['total']:.2f}")
    progress(f"督考合一 loop done in {time.monotonic() - started:.1f}s")
    return {
        "opened_from_warnings": len(opened),
        "closed": [c["number"] for c in closed],
        "escalated": up["number"],
        "carded_cooperating": {"item": it["number"], "unit": coop_unit["unitId"]},
        "cards": len(all_cards),
        "supervision_score": scores,
    }


def _scores(g: Gql, unit_id: str, period: str, *, deadline: float) -> dict[str, Any]:
    """The unit's supervision score once the sweep's recomputation published it (revision ≥ 1)."""
    while True:
        rows = g(OFFICE, SCORES, {"u": [unit_id], "p": period})["supervisionScores"]
        if rows and rows[0]["revision"] >= 1 and rows[0]["score"] < 100:
            return rows[0]
        if time.monotonic() > deadline:
            raise DemoError(f"no supervision score for {unit_id} in {period}: {rows}")
        time.sleep(0.3)
