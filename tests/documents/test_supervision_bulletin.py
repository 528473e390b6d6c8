"""督办通报: supervision's records by unit, rendered from its `unit_stats` as the office sees them."""

from __future__ import annotations

from typing import Any

import pytest

from kaohe.errors import KaoheError
from kaohe.identity import Caller, Role
from tests.documents.conftest import OFFICE, office, reporter
from tests.documents.test_issue import download, text_of
from tests.support.gateway import Scored

SUPERVISOR = Caller(user_id="ducha", roles=frozenset({Role.supervisor, Role.system}), org_path="/")


def item(world: Scored, lead: str, coop: str, deadline: str, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "problem": "群众反映强烈",
        "source": "leader",
        "source_ref": "市长批示〔2026〕3号",
        "office_id": world.tree["A"]["id"],
        "lead": {"unit_id": world.tree[lead]["id"], "task": "牵头整改", "deadline": deadline},
        "cooperating": [{"unit_id": world.tree[coop]["id"], "task": "配合", "deadline": deadline}],
        "deadline": deadline,
        "measures": ["排查", "整改"],
        "at": "2026-05-04T09:00:00+08:00",
    }


async def test_supervision_bulletin_lists_each_units_items_closed_overdue_and_cards(
    call: Any, world: Scored
) -> None:
    for lead, coop, deadline, title in (
        ("A1", "A2", "2026-05-15", "城区道路积水整治"),
        ("A2", "A1", "2026-12-30", "老旧小区改造"),
        ("A1", "A3", "2026-12-30", "农贸市场提升"),
    ):
        await call("item_create", item(world, lead, coop, deadline, title), SUPERVISOR, service="supervision")
    city = world.tree["A"]
    stats = await call(
        "unit_stats",
        {"root_path": city["path"], "period": "2026-05", "first": 500},
        office(),
        service="supervision",
    )
    rows = {r["unit_id"]: r for r in stats["items"]}
    a1 = rows[world.tree["A1"]["id"]]
    assert a1["lead_items"] == 2 and a1["items"] >= 2
    doc = await call(
        "supervision_bulletin_issue", {"unit_id": city["id"], "period": "2026-05", **OFFICE}, office()
    )
    assert doc["kind"] == "supervision_bulletin" and doc["status"] == "published"
    text = text_of(await download(doc))
    assert "督查督办工作情况的通报" in text and doc["number"] in text and "初步结果" not in text
    lead_total = sum(r["lead_items"] for r in stats["items"])
    assert f"在办督办事项{lead_total}项" in text
    for r in stats["items"]:  # each unit's line: name, items, lead items, closed, overdue
        line = f"{r['unit_name']}{r['items']}{r['lead_items']}{r['closed']}{r['overdue']}"
        assert line in text, line
    # a unit reported in it sees it
    got = await call("document_get", {"document_id": doc["document_id"]}, reporter(world.tree["A1"]["path"]))
    assert got["number"] == doc["number"]
    with pytest.raises(KaoheError) as e:  # another city's office cannot report on city A
        await call(
            "supervision_bulletin_issue",
            {"unit_id": city["id"], "period": "2026-05", **OFFICE},
            office(world.tree["B"]["path"]),
        )
    assert e.value.code in ("not_found", "forbidden_scope")
