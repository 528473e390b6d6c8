"""督查督办 through GraphQL: an item's whole flow, refusals as typed errors, compare-and-set, the timeline's
hash chain, the authorization matrix (inside, outside, nonexistent) and a card arriving by subscription.

City A's 督查室 (a `supervisor` over A) supervises items of A1 (lead) and A2 (cooperating); city B's office
has one of B1. Every call goes over HTTP (or a websocket) to the gateway, which calls the real service.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from tests.conftest import eventually
from tests.support.gateway import Harness, make_tree

ITEM_FIELDS = """id number status statusZh version deadline deadlines availableActions overdue
  yellowCards redCards lead { unitId role deadline } cooperating { unitId role deadline late }"""
CREATE = f"""mutation($i: SupervisionItemCreateInput!) {{
  supervisionItemCreate(input: $i) {{ node {{ {ITEM_FIELDS} }} errors {{ code field message }} }} }}"""
ITEM = f"""query($id: ID!) {{ supervisionItem(id: $id) {{ {ITEM_FIELDS}
  timeline {{ seq action actor fromStatus toStatus reason evidence hash }}
  cards {{ colour unitId role reason }} breaches {{ kind unitId role }} }} }}"""
VERIFY = """query($id: ID!) { supervisionTimelineVerify(itemId: $id) { ok entries brokenAt } }"""


def transition(name: str, extra: str = "", extra_args: str = "") -> str:
    return f"""mutation($i: SupervisionTransitionInput!{extra_args}) {{
      {name}(input: $i{extra}) {{ node {{ {ITEM_FIELDS} }} errors {{ code field message }} }} }}"""


@dataclass
class World:
    tag: str
    tree: dict[str, dict[str, Any]]
    today: date

    def uid(self, key: str) -> str:
        return str(self.tree[key]["id"])

    def path(self, key: str) -> str:
        return str(self.tree[key]["path"])


def office(gw: Harness, w: World, city: str = "A") -> dict[str, str]:
    return gw.headers(["supervisor"], w.path(city))


def unit(gw: Harness, w: World, key: str) -> dict[str, str]:
    return gw.headers(["reporter"], w.path(key))


def item_input(w: World, city: str = "A", lead: str = "A1", coop: str | None = "A2", **kw: Any) -> dict:
    t = w.today
    i: dict[str, Any] = {
        "title": f"推进政务服务事项网办 {uuid.uuid4().hex[:4]}",
        "problem": "线上办理率低于序时进度",
        "source": "leader",
        "sourceRef": f"领导批示〔{t.year}〕{uuid.uuid4().int % 900 + 100}号",
        "officeId": w.uid(city),
        "lead": {"unitId": w.uid(lead), "task": "牵头制定整改方案", "deadline": str(t + timedelta(60))},
        "deadline": str(t + timedelta(60)),
        "measures": ["梳理事项清单", "每周调度"],
    }
    if coop:
        i["cooperating"] = [
            {"unitId": w.uid(coop), "task": "配合提供数据", "deadline": str(t + timedelta(10))}
        ]
    i.update(kw)
    return i


async def create(gw: Harness, http: httpx.AsyncClient, w: World, **kw: Any) -> dict[str, Any]:
    r = await gw.gql(http, CREATE, {"i": item_input(w, **kw)}, headers=office(gw, w, kw.get("city", "A")))
    p = r["data"]["supervisionItemCreate"]
    assert not p["errors"], p
    return dict(p["node"])


async def act(
    gw: Harness, http: httpx.AsyncClient, hdr: dict[str, str], name: str, item: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """Run a transition mutation; returns its payload (node or errors)."""
    extra, extra_args, variables = "", "", {}
    if "new_deadline" in kw:
        extra, extra_args = ", newDeadline: $d", ", $d: Date!"
        variables["d"] = kw.pop("new_deadline")
    i = {"itemId": item["id"], "expectedVersion": item["version"], **kw}
    r = await gw.gql(http, transition(name, extra, extra_args), {"i": i, **variables}, headers=hdr)
    assert r["_status"] == 200 and not r.get("errors"), r
    return dict(r["data"][name])


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> World:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as http:
        tree = await make_tree(gw, http, tag)
        w = World(tag, tree, datetime.now(UTC).date())

        async def known() -> bool:  # supervision learns units from indicators' unit.changed events
            r = await gw.gql(
                http, CREATE, {"i": item_input(w, city="B", lead="B1", coop=None)}, headers=office(gw, w, "B")
            )
            errors = r["data"]["supervisionItemCreate"]["errors"] if r.get("data") else [r]
            return not errors

        await eventually(known, what="supervision knows the new units", within=30)
    return w


async def test_item_flow_from_assignment_to_verified_closure(gw: Harness, world: World) -> None:
    w = world
    async with httpx.AsyncClient(timeout=30) as http:
        item = await create(gw, http, w)
        assert item["status"] == "assigned" and "督〔" in item["number"]  # 〈office〉督〔year〕n号
        assert item["lead"]["unitId"] == w.uid("A1") and item["cooperating"][0]["role"] == "cooperating"
        lead, coop = unit(gw, w, "A1"), unit(gw, w, "A2")

        p = await act(gw, http, lead, "supervisionItemAccept", item)
        assert not p["errors"] and p["node"]["status"] == "in_progress", p
        item = p["node"]
        p = await act(gw, http, coop, "supervisionItemFeedback", item, reason="已提供两季度数据")
        assert not p["errors"], p
        item = p["node"]
        p = await act(
            gw, http, lead, "supervisionItemClosureRequest", item, reason="已完成", evidence=["ev/a.pdf"]
        )
        assert not p["errors"] and p["node"]["status"] == "closure_requested", p
        item = p["node"]
        assert item["availableActions"] == [], item  # the lead has nothing to do while the office verifies
        got = (await gw.gql(http, ITEM, {"id": item["id"]}, headers=office(gw, w)))["data"]
        assert {"close", "send_back"} <= set(got["supervisionItem"]["availableActions"]), got
        p = await act(gw, http, office(gw, w), "supervisionItemClose", item, reason="核实完成")
        assert not p["errors"] and p["node"]["status"] == "closed", p

        r = await gw.gql(http, ITEM, {"id": item["id"]}, headers=office(gw, w))
        got = r["data"]["supervisionItem"]
        actions = [e["action"] for e in got["timeline"]]
        assert actions[-4:] == ["accept", "report_progress", "request_closure", "verify_closure"], actions
        assert got["timeline"][-1]["toStatus"] == "closed" and got["timeline"][-2]["evidence"] == ["ev/a.pdf"]
        assert len({e["hash"] for e in got["timeline"]}) == len(got["timeline"])
        v = (await gw.gql(http, VERIFY, {"id": item["id"]}, headers=office(gw, w)))["data"]
        assert v["supervisionTimelineVerify"] == {
            "ok": True,
            "entries": len(got["timeline"]),
            "brokenAt": None,
        }

        q = """query($u: String!) { supervisionItems(status: [closed], unitId: $u, unitRole: "cooperating")
          { nodes { id status } pageInfo { hasNextPage } } }"""
        r = await gw.gql(http, q, {"u": w.uid("A2")}, headers=office(gw, w))
        assert item["id"] in [n["id"] for n in r["data"]["supervisionItems"]["nodes"]], r
        r = await gw.gql(http, q.replace("closed", "assigned"), {"u": w.uid("A2")}, headers=office(gw, w))
        assert item["id"] not in [n["id"] for n in r["data"]["supervisionItems"]["nodes"]], r


async def test_refusals_are_typed_errors_and_change_nothing(gw: Harness, world: World) -> None:
    w = world
    async with httpx.AsyncClient(timeout=30) as http:
        item = await create(gw, http, w)
        p = await act(gw, http, office(gw, w), "supervisionItemClose", item, reason="想直接销号")
        assert p["node"] is None and p["errors"][0]["code"] == "transition_refused", p
        p = await act(gw, http, unit(gw, w, "A2"), "supervisionItemAccept", item)  # a cooperating unit
        assert p["node"] is None and p["errors"][0]["code"] == "actor_not_allowed", p
        p = await act(gw, http, unit(gw, w, "A1"), "supervisionItemAccept", {**item, "version": 99})
        assert p["errors"][0]["code"] == "stale_state", p
        lead = unit(gw, w, "A1")
        item = (await act(gw, http, lead, "supervisionItemAccept", item))["node"]
        p = await act(gw, http, lead, "supervisionItemClosureRequest", item, reason="完成")  # no evidence
        assert p["errors"][0]["code"] == "requirement_missing" and p["errors"][0]["field"] == "evidence", p
        r = await gw.gql(http, ITEM, {"id": item["id"]}, headers=office(gw, w))
        assert r["data"]["supervisionItem"]["version"] == item["version"], "a refusal changed the item"
        assert r["data"]["supervisionItem"]["status"] == "in_progress"


async def test_concurrent_transitions_one_wins(gw: Harness, world: World) -> None:
    w = world
    async with httpx.AsyncClient(timeout=30) as http:
        item = await create(gw, http, w)
        lead = unit(gw, w, "A1")
        payloads = await asyncio.gather(
            *(act(gw, http, lead, "supervisionItemAccept", item) for _ in range(4))
        )
        won = [p for p in payloads if not p["errors"]]
        lost = [p["errors"][0]["code"] for p in payloads if p["errors"]]
        assert len(won) == 1 and set(lost) <= {"stale_state", "transition_refused"} and len(lost) == 3, (
            payloads
        )


AUTHZ_READ = """query($id: ID!) { supervisionItem(id: $id) { id number title lead { unitId unitPath } } }"""


@pytest.mark.parametrize(
    ("role", "scope"),
    [("supervisor", "A"), ("leader", "A"), ("assessment_office", "A"), ("reporter", "A1")],
)
async def test_authorization_matrix_inside_outside_nonexistent(
    gw: Harness, world: World, role: str, scope: str
) -> None:
    w = world
    async with httpx.AsyncClient(timeout=30) as http:
        inside = await create(gw, http, w)
        outside = await create(gw, http, w, city="B", lead="B1", coop=None)
        hdr = gw.headers([role], w.path(scope))
        r = await gw.gql(http, AUTHZ_READ, {"id": inside["id"]}, headers=hdr)
        assert r["data"]["supervisionItem"]["id"] == inside["id"], (role, r)
        out = await gw.gql(http, AUTHZ_READ, {"id": outside["id"]}, headers=hdr)
        missing_id = f"no-{uuid.uuid4().hex[:8]}"
        missing = await gw.gql(http, AUTHZ_READ, {"id": missing_id}, headers=hdr)
        for body in (out, missing):
            assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "not_found", body
        out_text = out["errors"][0]["message"].replace(outside["id"], "<id>")
        assert out_text == missing["errors"][0]["message"].replace(missing_id, "<id>"), (out, missing)
        assert w.path("B1") not in json.dumps(out, ensure_ascii=False)
        lst = await gw.gql(
            http, "{ supervisionItems(first: 200) { nodes { id lead { unitPath } } } }", headers=hdr
        )
        ids = [n["id"] for n in lst["data"]["supervisionItems"]["nodes"]]
        assert outside["id"] not in ids and w.path("B1") not in json.dumps(lst, ensure_ascii=False)
        # a transition on the outside item is refused exactly like one on a missing item
        p_out = await act(gw, http, hdr, "supervisionItemWithdraw", outside, reason="越权")
        p_missing = await act(
            gw, http, hdr, "supervisionItemWithdraw", {"id": "no-such-item", "version": 0}, reason="x"
        )
        codes_out = {e["code"] for e in p_out["errors"]}
        assert codes_out and codes_out == {e["code"] for e in p_missing["errors"]}, (p_out, p_missing)
        assert p_out["node"] is None


async def test_a_late_cooperating_unit_gets_the_card_and_a_subscriber_sees_it(
    gw: Harness, world: World
) -> None:
    w = world
    token = gw.token(["supervisor"], w.path("A"))
    ws = await websockets.connect(
        gw.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    try:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        cards = "subscription { supervisionCardIssued { itemId unitId role colour reason } }"
        items = "subscription { supervisionItemChanged { change itemId unitIds } }"
        await ws.send(json.dumps({"id": "cards", "type": "subscribe", "payload": {"query": cards}}))
        await ws.send(json.dumps({"id": "items", "type": "subscribe", "payload": {"query": items}}))
        async with httpx.AsyncClient(timeout=30) as http:
            item = await create(gw, http, w)  # its item.opened proves the subscriptions are live
            seen: list[dict[str, Any]] = []

            async def next_message() -> dict[str, Any]:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
                seen.append(msg)
                return msg

            while not any(
                m.get("id") == "items"
                and m["payload"]["data"]["supervisionItemChanged"]["itemId"] == item["id"]
                for m in seen
            ):
                await next_message()
            lead = unit(gw, w, "A1")
            item = (await act(gw, http, lead, "supervisionItemAccept", item))["node"]
            as_of = datetime.combine(w.today + timedelta(20), datetime.min.time(), UTC)
            sweep = """mutation($t: DateTime!) { supervisionSweepRun(asOf: $t) { cards breaches } }"""
            r = await gw.gql(http, sweep, {"t": as_of.isoformat()}, headers=office(gw, w))
            assert r["data"]["supervisionSweepRun"]["cards"] >= 1, r

            def coop_card() -> dict[str, Any] | None:
                for m in seen:
                    if m.get("id") == "cards":
                        c = m["payload"]["data"]["supervisionCardIssued"]
                        if c["itemId"] == item["id"] and c["unitId"] == w.uid("A2"):
                            return c
                return None

            while coop_card() is None:
                await next_message()
            card = coop_card()
            assert card is not None and card["role"] == "cooperating" and card["colour"] == "yellow", card
            got = (await gw.gql(http, ITEM, {"id": item["id"]}, headers=office(gw, w)))["data"][
                "supervisionItem"
            ]
            parts = [b for b in got["breaches"] if b["kind"] == "part"]
            assert parts and all(b["unitId"] == w.uid("A2") and b["role"] == "cooperating" for b in parts), (
                got
            )
            assert not any(c["unitId"] == w.uid("A1") and c["role"] == "cooperating" for c in got["cards"])
            # 督查结果单独核算: the card costs the cooperating unit points in the card's month
            q = """query($u: [String!]!, $p: String!) { supervisionScores(unitIds: $u, period: $p) {
              unitId score revision details { itemId deduction } } }"""
            month = f"{as_of.year}-{as_of.month:02d}"
            rows: list[dict[str, Any]] = []

            async def scored() -> bool:
                nonlocal rows
                r = await gw.gql(http, q, {"u": [w.uid("A2")], "p": month}, headers=office(gw, w))
                rows = r["data"]["supervisionScores"]
                return bool(rows) and rows[0]["score"] < 100

            await eventually(scored, what="the cooperating unit's supervision score")
            assert any(d["itemId"] == item["id"] and d["deduction"] > 0 for d in rows[0]["details"]), rows
            # the subscriber's subtree is city A: nothing of B1's item or cards reaches it
            assert all(w.uid("B1") not in json.dumps(m) for m in seen), seen
    finally:
        await ws.close()


async def test_board_and_stats_stay_in_the_callers_subtree(gw: Harness, world: World) -> None:
    w = world
    async with httpx.AsyncClient(timeout=30) as http:
        inside = await create(gw, http, w)
        await create(gw, http, w, city="B", lead="B1", coop=None)
        hdr = office(gw, w)
        board = """query($r: String) { supervisionBoard(rootId: $r, perColumn: 50) {
          columns { status count items { id lead { unitId } } } } }"""
        r = await gw.gql(http, board, {"r": w.uid("A")}, headers=hdr)
        cols = {c["status"]: c for c in r["data"]["supervisionBoard"]["columns"]}
        assigned = [i["id"] for i in cols["assigned"]["items"]]
        assert inside["id"] in assigned and cols["assigned"]["count"] >= 1, r
        units = {i["lead"]["unitId"] for c in cols.values() for i in c["items"]}
        assert w.uid("B1") not in units, r
        for root in (w.uid("B"), f"no-{uuid.uuid4().hex[:6]}"):  # outside and missing alike
            r = await gw.gql(http, board, {"r": root}, headers=hdr)
            assert r["data"] is None and r["errors"][0]["extensions"]["code"] == "not_found", r
            assert r["errors"][0]["extensions"]["field"] == "rootId", r
        stats = """query($r: String) { supervisionUnitStats(rootId: $r, first: 50) {
          nodes { unitId unitPath items leadItems } } }"""
        r = await gw.gql(http, stats, {"r": None}, headers=hdr)
        rows = r["data"]["supervisionUnitStats"]["nodes"]
        assert rows and all(n["unitPath"].startswith(w.path("A")) for n in rows), r
        a1 = next(n for n in rows if n["unitId"] == w.uid("A1"))
        assert a1["leadItems"] >= 1 and a1["items"] >= a1["leadItems"], a1


CALENDAR = """query { supervisionCalendar { version coveredYears overrides { day workday reason } }
  supervisionCalendarVersions(first: 5) { version createdAt overrides { day } } }"""


async def test_the_calendar_in_force_and_its_past_versions(gw: Harness, world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        item = await create(gw, http, world)
        r = await gw.gql(http, CALENDAR, {}, headers=unit(gw, world, "A1"))
        assert not r.get("errors"), r
        cal, versions = r["data"]["supervisionCalendar"], r["data"]["supervisionCalendarVersions"]
        assert 2026 in cal["coveredYears"] and versions[0]["version"] == cal["version"]
        q = """query($id: ID!) { supervisionItem(id: $id) { calendarVersion } }"""
        used = (await gw.gql(http, q, {"id": item["id"]}, headers=office(gw, world)))["data"]
        assert used["supervisionItem"]["calendarVersion"] in {v["version"] for v in versions}
        bad = await gw.gql(http, CALENDAR.replace("first: 5", "first: 0"), {}, headers=office(gw, world))
        assert bad["errors"][0]["extensions"]["field"] == "first"
