"""Authorization matrix of every RPC method: a caller inside the item's or office's subtree, one outside,
and a nonexistent item or unit. Outside reads as not found (existence not disclosed) or an empty list."""

from __future__ import annotations

from typing import Any

import pytest

from kaohe.errors import KaoheError
from kaohe.identity import Caller
from services.supervision.rpc.items import TRANSITIONS
from tests.supervision.harness import (
    KAOHEBAN,
    LEAD,
    LEADER,
    OFFICE,
    OUT_OFFICE,
    OUT_UNIT,
    SYSTEM,
    Sup,
    future,
)

GHOST = "00000000-0000-0000-0000-000000000000"


async def code_of(sup: Sup, method: str, params: dict[str, Any], caller: Caller) -> str:
    with pytest.raises(KaoheError) as e:
        await sup.call(method, params, caller)
    return e.value.code


async def an_item(sup: Sup) -> dict[str, Any]:
    return await sup.create(
        lead={"unit_id": "140501", "task": "t", "deadline": future(30)},
        cooperating=[{"unit_id": "140502", "task": "c", "deadline": future(20)}],
        deadline=future(30),
    )


@pytest.mark.parametrize(
    "method", sorted([*TRANSITIONS, "item_escalate", "item_assign", "item_get", "timeline_verify"])
)
async def test_item_methods_outside_and_nonexistent_read_as_not_found(sup: Sup, method: str) -> None:
    it = await an_item(sup)
    params: dict[str, Any] = {"item_id": it["id"]}
    if method not in ("item_get", "timeline_verify"):
        params |= {"expected_version": it["version"], "reason": "r"}
        if method == "item_assign":
            params |= {
                "lead": {"unit_id": "140501", "task": "t", "deadline": future(30)},
                "deadline": future(30),
            }
        elif method in ("item_extension_request", "item_extension_approve", "item_reopen"):
            params["new_deadline"] = future(40)
        elif method in ("item_part_submit", "item_closure_request"):
            params["evidence"] = ["k"]
    for outsider in (OUT_OFFICE, OUT_UNIT):
        if method == "timeline_verify" and outsider is OUT_UNIT:
            assert await code_of(sup, method, params, outsider) == "forbidden_role"
            continue
        if method in ("item_assign", "item_escalate") and outsider is OUT_UNIT:
            assert await code_of(sup, method, params, outsider) == "forbidden_role"
            continue
        assert await code_of(sup, method, params, outsider) == "not_found", outsider.user_id
    ghost = {**params, "item_id": GHOST}
    assert await code_of(sup, method, ghost, OFFICE) == "not_found"
    after = await sup.call("item_get", {"item_id": it["id"]}, OFFICE)
    assert after["version"] == it["version"]  # nothing changed
    if method in ("item_get", "timeline_verify"):
        assert (await sup.call(method, {"item_id": it["id"]}, LEADER))[
            "item_id" if method != "item_get" else "id"
        ]


async def test_create_import_intake_need_the_office_of_that_subtree(sup: Sup) -> None:
    body = {
        "title": "t",
        "problem": "p",
        "source": "leader",
        "source_ref": "r",
        "office_id": "1405",
        "lead": {"unit_id": "140501", "task": "t", "deadline": future(9)},
        "deadline": future(9),
    }
    assert await code_of(sup, "item_create", body, OUT_OFFICE) == "forbidden_scope"
    assert await code_of(sup, "item_create", body, LEAD) == "forbidden_role"
    assert await code_of(sup, "item_create", body | {"office_id": "nope"}, OFFICE) == "unit_unknown"
    imp = {"office_id": "1405", "content_base64": "UEsDBA==", "dry_run": True}
    assert await code_of(sup, "items_import", imp, OUT_OFFICE) == "forbidden_scope"
    assert await code_of(sup, "items_import", imp, LEAD) == "forbidden_role"
    assert await code_of(sup, "items_import", imp | {"office_id": "nope"}, OFFICE) == "unit_unknown"
    assert await code_of(sup, "items_import", imp, OFFICE) == "import_invalid"
    intake = {"channel": "hotline", "text": "x", "category": "c", "office_id": "1405", "client_key": "k" * 10}
    assert await code_of(sup, "intake_create", intake, OUT_OFFICE) == "forbidden_scope"
    assert await code_of(sup, "intake_create", intake, LEAD) == "forbidden_role"
    assert await code_of(sup, "intake_create", intake | {"office_id": "nope"}, OFFICE) == "unit_unknown"


async def test_lists_boards_stats_scores_and_exports_leave_out_what_is_outside(sup: Sup) -> None:
    it = await an_item(sup)
    for caller in (OFFICE, LEAD, LEADER, KAOHEBAN):
        assert [x["id"] for x in (await sup.call("item_list", {}, caller))["items"]] == [it["id"]]
    for caller in (OUT_OFFICE, OUT_UNIT):
        assert (await sup.call("item_list", {}, caller))["items"] == []
        board = await sup.call("board", {}, caller)
        assert sum(c["count"] for c in board["columns"]) == 0
    inside = await sup.call("board", {}, LEAD)
    assert {c["status"]: c["count"] for c in inside["columns"]}["assigned"] == 1
    stats = await sup.call("unit_stats", {}, OFFICE)
    lead_row = next(r for r in stats["items"] if r["unit_id"] == "140501")
    assert (lead_row["items"], lead_row["lead_items"]) == (1, 1)
    assert await code_of(sup, "unit_stats", {"root_path": "/14/1405/"}, OUT_OFFICE) == "forbidden_scope"
    assert await code_of(sup, "unit_stats", {}, LEAD) == "forbidden_role"
    assert (await sup.call("unit_stats", {}, OUT_OFFICE))["items"][0]["unit_id"] in ("1406", "140601")
    assert (
        await code_of(sup, "scores_list", {"unit_ids": ["140501"], "period": "2026-06"}, LEAD)
        == "forbidden_role"
    )
    assert await sup.call("scores_list", {"unit_ids": ["nope"], "period": "2026-06"}, OFFICE) == []
    assert (await sup.call("items_export", {}, OUT_OFFICE))["rows"] == 0
    assert (await sup.call("items_export", {}, OFFICE))["rows"] == 1
    assert await code_of(sup, "items_export", {}, LEAD) == "forbidden_role"
    assert await sup.call("signals_by_units", {"ids": ["140501"]}, OUT_UNIT) == {"140501": []}


async def test_sweep_and_calendar_are_the_offices_and_the_sweep_is_refused_in_production(sup: Sup) -> None:
    assert await code_of(sup, "sweep_run", {}, LEAD) == "forbidden_role"
    year = {"year": 2031, "days_off": ["2031-01-01"], "source": "s"}
    assert await code_of(sup, "calendar_year_set", year, LEAD) == "forbidden_role"
    over = {"overrides": [{"day": "2031-01-02", "workday": False, "reason": "r"}]}
    assert await code_of(sup, "calendar_override_set", over, LEADER) == "forbidden_role"
    assert (await sup.call("calendar_get", {}, OUT_UNIT))["covered_years"][-1] >= 2026
    ctx = sup.rt.state["ctx"]
    ctx.settings = ctx.settings.model_copy(update={"environment": "production"})
    assert await code_of(sup, "sweep_run", {}, SYSTEM) == "sweep_forbidden"
