"""Lists with every filter and keyset pages, the 督办清单 board and per-unit statistics."""

from __future__ import annotations

from typing import Any

from tests.supervision.harness import LEAD, OFFICE, SYSTEM, Sup, at, item_params


async def backdated(sup: Sup, coop: str, *, source: str = "leader") -> dict[str, Any]:
    p = item_params(
        at=at(2026, 5, 6),
        source=source,
        lead={"unit_id": "140501", "task": "t", "deadline": "2026-06-30"},
        cooperating=[{"unit_id": coop, "task": "c", "deadline": "2026-05-20"}],
        deadline="2026-06-30",
    )
    return await sup.call("item_create", p, SYSTEM)  # type: ignore[no-any-return]


async def ids(sup: Sup, **f: Any) -> set[str]:
    return {x["id"] for x in (await sup.call("item_list", f, OFFICE))["items"]}


async def test_filters_pages_board_and_statistics(sup: Sup) -> None:
    a = await backdated(sup, "140502")
    b = await backdated(sup, "140503", source="superior")
    c = await backdated(sup, "140503")
    lead = {"item_id": c["id"], "unit_id": "140501"}
    await sup.call("item_accept", lead | {"expected_version": 1, "at": at(2026, 5, 7)}, SYSTEM)
    await sup.call(
        "item_feedback", lead | {"expected_version": 2, "reason": "已部署", "at": at(2026, 5, 8)}, SYSTEM
    )
    await sup.call(
        "item_closure_request",
        lead | {"expected_version": 3, "reason": "完成", "evidence": ["k"], "at": at(2026, 5, 12)},
        SYSTEM,
    )
    await sup.call(
        "item_close",
        {"item_id": c["id"], "expected_version": 4, "reason": "核实", "at": at(2026, 5, 13)},
        SYSTEM,
    )
    await sup.call("sweep_run", {"as_of": at(2026, 5, 22, 10)}, SYSTEM)  # a and b: parts late → yellow
    assert await ids(sup, source=["superior"]) == {b["id"]}
    assert await ids(sup, status=["closed"]) == {c["id"]}
    assert await ids(sup, overdue=True) == {a["id"], b["id"]}
    assert await ids(sup, card="yellow") == {a["id"], b["id"]} and await ids(sup, card="red") == set()
    assert await ids(sup, unit_path="/14/1405/140502/") == {a["id"]}
    assert await ids(sup, unit_path="/14/1405/140503/", unit_role="lead") == set()
    assert await ids(sup, unit_path="/14/1405/140501/", unit_role="lead") == {a["id"], b["id"], c["id"]}
    assert await ids(sup, period="2026-05") == {a["id"], b["id"], c["id"]}
    assert await ids(sup, period="2026-04") == set()
    first = await sup.call("item_list", {"first": 2}, OFFICE)
    rest = await sup.call("item_list", {"first": 2, "after": first["next"]}, OFFICE)
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next"] is None
    assert {x["id"] for x in first["items"] + rest["items"]} == {a["id"], b["id"], c["id"]}
    board = {col["status"]: col for col in (await sup.call("board", {}, LEAD))["columns"]}
    assert board["assigned"]["count"] == 2 and board["closed"]["count"] == 1
    assert board["assigned"]["status_zh"] == "待签收"
    stats = {r["unit_id"]: r for r in (await sup.call("unit_stats", {"period": "2026-05"}, OFFICE))["items"]}
    s1, s3 = stats["140501"], stats["140503"]
    assert (s1["items"], s1["lead_items"], s1["closed"], s1["overdue"]) == (3, 3, 1, 2)
    # 05-06 → 05-13: 7, 8, 9 (a make-up Saturday), 11, 12, 13
    assert s1["on_time_rate"] == 1.0 and s1["avg_workdays_to_close"] == 6.0
    assert (s3["items"], s3["yellow_cards"], s3["red_cards"]) == (2, 1, 0)
    assert stats["140502"]["yellow_cards"] == 1
