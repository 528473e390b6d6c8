"""A list row (`item_list`, the board's columns) is the item as `item_get` shows it to the same caller.

List rows are built from one statement that carries each item's units (and on a plain autocommit
connection), item reads from the item and a separate query of its units: the two paths must agree on every
`ItemPublic` field — units in order with their names and part-submitted times, the contact phone masked or
not, the actions this caller may take.
"""

from __future__ import annotations

from typing import Any

from kaohe.contracts.supervision import ItemPublic
from kaohe.identity import Caller, Role
from tests.supervision.harness import COOP, LEAD, OFFICE, Sup, future

KIOSK = Caller(
    user_id="kiosk",
    roles=frozenset({Role.integration}),
    org_path="/",
    scopes=frozenset({"supervision:intake"}),
)
FIELDS = set(ItemPublic.model_fields)


async def step(sup: Sup, method: str, item: dict[str, Any], caller: Caller, **p: Any) -> dict[str, Any]:
    params = {"item_id": item["id"], "expected_version": item["version"], **p}
    return await sup.call(method, params, caller)  # type: ignore[no-any-return]


async def same_as_read_alone(sup: Sup, caller: Caller, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        alone = await sup.call("item_get", {"item_id": row["id"]}, caller)
        assert set(row) == FIELDS
        assert row == {k: alone[k] for k in FIELDS}, row["id"]


async def test_list_and_board_rows_match_the_item_read_alone(sup: Sup) -> None:
    it = await sup.create(
        lead={"unit_id": "140501", "task": "牵头整改", "deadline": future(60)},
        cooperating=[
            {"unit_id": "140503", "task": "配合排查", "deadline": future(20)},
            {"unit_id": "140502", "task": "配合疏通", "deadline": future(30)},
        ],
        deadline=future(60),
        milestones=[{"title": "完成排查", "due": future(10)}],
    )
    it = await step(sup, "item_accept", it, LEAD)
    it = await step(sup, "item_part_submit", it, COOP, evidence=["s3://ev/part.pdf"])
    await sup.call(
        "intake_create",
        {
            "channel": "hotline",
            "text": "路灯不亮",
            "category": "市政",
            "office_id": "1405",
            "contact_phone": "13812345678",
            "client_key": "kiosk-list-0001",
        },
        KIOSK,
    )

    listed = {}
    for caller in (OFFICE, LEAD, COOP):
        listed[caller.user_id] = (await sup.call("item_list", {"first": 50}, caller))["items"]
    assert len(listed["duchashi"]) == 2  # the office sees its draft intake too
    row = next(r for r in listed["duchashi"] if r["id"] == it["id"])
    assert [t["unit_id"] for t in [row["lead"], *row["cooperating"]]] == ["140501", "140503", "140502"]
    assert all(t["unit_name"] for t in [row["lead"], *row["cooperating"]])
    done = {t["unit_id"]: t["done_at"] for t in row["cooperating"]}
    assert done["140502"] is not None and done["140503"] is None
    assert row["milestones"] == [{"title": "完成排查", "due": future(10)}]
    draft = next(r for r in listed["duchashi"] if r["id"] != it["id"])
    assert draft["contact_phone"] == "13812345678"  # the office reads the phone in full
    # each caller's own actions: the office, the lead and a cooperating unit differ on the same item
    actions = {
        who: next(r for r in rows if r["id"] == it["id"])["available_actions"] for who, rows in listed.items()
    }
    assert len({tuple(a) for a in actions.values()}) == 3
    assert "closure_request" in actions["jia"] and "closure_request" not in actions["yi"]
    assert "withdraw" in actions["duchashi"] and "withdraw" not in actions["jia"]
    for caller in (OFFICE, LEAD, COOP):
        await same_as_read_alone(sup, caller, listed[caller.user_id])

    # one status (read in keyset order from its own index) or several
    one = await sup.call("item_list", {"status": ["in_progress"]}, OFFICE)
    both = await sup.call("item_list", {"status": ["draft", "in_progress"]}, OFFICE)
    assert [r["id"] for r in one["items"]] == [it["id"]]
    assert [r["id"] for r in both["items"]] == [r["id"] for r in listed["duchashi"]]
    # a filtered page, then the board's columns
    first = await sup.call("item_list", {"first": 1, "unit_path": "/14/1405/140502/"}, OFFICE)
    assert [r["id"] for r in first["items"]] == [it["id"]] and first["next"] is None
    board = await sup.call("board", {}, OFFICE)
    columns = {c["status"]: c["items"] for c in board["columns"]}
    assert [r["id"] for r in columns["in_progress"]] == [it["id"]] and len(columns["draft"]) == 1
    await same_as_read_alone(sup, OFFICE, [r for rows in columns.values() for r in rows])
