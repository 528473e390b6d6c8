"""Versioned org hierarchy (组织沿革): as-of queries survive merges and moves; scope on every method."""

from __future__ import annotations

import json
from datetime import date

import pytest
from nats.js import JetStreamContext

from kaohe.contracts.events import payload_of
from kaohe.errors import KaoheError
from kaohe.events import CloudEvent
from kaohe.identity import Role
from tests.conftest import eventually
from tests.support.indicators import OFFICE, Running, caller

D0, D1, D2 = date(2025, 1, 1), date(2026, 3, 1), date(2026, 7, 1)


async def _tree(svc: Running) -> None:
    """省 14 → 市 1405 → 区 140502, 140525; each county with two townships, each township with a village."""

    async def mk(i: str, name: str, kind: str, parent: str | None) -> None:
        await svc.call(
            "unit_create", OFFICE, id=i, name=name, kind=kind, parent_id=parent, valid_from=D0.isoformat()
        )

    await mk("14", "山西省", "province", None)
    await mk("1405", "晋城市", "city", "14")
    for c, cn in (("140502", "城区"), ("140525", "泽州县")):
        await mk(c, cn, "county", "1405")
        for t in ("01", "02"):
            await mk(f"{c}{t}", f"{cn}{t}镇", "township", c)
            await mk(f"{c}{t}v1", f"{cn}{t}村", "village", f"{c}{t}")


def ids(page: dict) -> list[str]:
    return [u["id"] for u in page["items"]]


async def test_merge_and_move_keep_history(svc: Running) -> None:
    await _tree(svc)
    # 2026-03-01: township 14050202 is merged into 14050201 (its village moves along)
    await svc.call("unit_merge", OFFICE, sources=["14050202"], into="14050201", effective=D1.isoformat())
    # 2026-07-01: township 14052501 moves from 泽州县 to 城区
    await svc.call("unit_move", OFFICE, unit_id="14052501", parent_id="140502", effective=D2.isoformat())

    before = await svc.call("unit_subtree", OFFICE, root_id="140502", as_of="2026-01-01")
    assert ids(before) == ["140502", "14050201", "14050201v1", "14050202", "14050202v1"]
    mid = await svc.call("unit_subtree", OFFICE, root_id="140502", as_of="2026-05-01")
    assert ids(mid) == ["140502", "14050201", "14050201v1", "14050202v1"]
    after = await svc.call("unit_subtree", OFFICE, root_id="140502", as_of="2026-08-01")
    assert ids(after) == ["140502", "14050201", "14050201v1", "14050202v1", "14052501", "14052501v1"]
    # the village that moved with the merge has a path under its new township only from D1
    v_then = await svc.call("unit_get", OFFICE, unit_id="14050202v1", as_of="2026-01-01")
    v_now = await svc.call("unit_get", OFFICE, unit_id="14050202v1", as_of="2026-05-01")
    assert v_then["path"] == "/14/1405/140502/14050202/14050202v1/"
    assert v_now["path"] == "/14/1405/140502/14050201/14050202v1/"
    anc = await svc.call("unit_ancestors", OFFICE, unit_id="14052501v1", as_of="2026-01-01")
    assert [u["id"] for u in anc] == ["14", "1405", "140525", "14052501"]
    anc = await svc.call("unit_ancestors", OFFICE, unit_id="14052501v1", as_of="2026-08-01")
    assert [u["id"] for u in anc] == ["14", "1405", "140502", "14052501"]
    # 泽州县 before and after the move
    zz = await svc.call("unit_children", OFFICE, parent_id="140525", as_of="2026-01-01")
    assert ids(zz) == ["14052501", "14052502"]
    zz = await svc.call("unit_children", OFFICE, parent_id="140525", as_of="2026-08-01")
    assert ids(zz) == ["14052502"]
    # the merged township is closed from D1 and its history records the lineage
    hist = await svc.call("unit_history", OFFICE, unit_id="14050202")
    assert [(h["valid_from"], h["valid_to"]) for h in hist] == [("2025-01-01", "2026-03-01")]
    assert hist[0]["lineage"]["merged_into"] == "14050201"
    gone = await svc.call("units_by_ids", OFFICE, ids=["14050202"], as_of="2026-05-01")
    assert gone == [None]
    [current] = await svc.call("units_by_ids", OFFICE, ids=["14050202"])
    assert current["status"] == "closed"


async def test_rename_split_close_and_search(svc: Running) -> None:
    await _tree(svc)
    await svc.call("unit_rename", OFFICE, unit_id="140502", name="城区（新）", effective=D1.isoformat())
    assert (await svc.call("unit_get", OFFICE, unit_id="140502", as_of="2026-01-01"))["name"] == "城区"
    assert (await svc.call("unit_get", OFFICE, unit_id="140502", as_of="2026-04-01"))["name"] == "城区（新）"
    new = await svc.call(
        "unit_split",
        OFFICE,
        unit_id="14052501",
        into=[{"id": "14052591", "name": "东镇"}, {"id": "14052592", "name": "西镇"}],
        children={"14052501v1": "14052592"},
        effective=D1.isoformat(),
    )
    assert [u["path"] for u in new] == ["/14/1405/140525/14052591/", "/14/1405/140525/14052592/"]
    kids = await svc.call("unit_children", OFFICE, parent_id="14052592", as_of="2026-04-01")
    assert ids(kids) == ["14052501v1"]
    found = await svc.call("unit_subtree", OFFICE, root_id="1405", search="西", as_of="2026-04-01")
    assert ids(found) == ["14052592"]
    with pytest.raises(KaoheError) as e:
        await svc.call("unit_close", OFFICE, unit_id="14052592", effective=D2.isoformat())
    assert e.value.code == "unit_has_children"
    await svc.call("unit_close", OFFICE, unit_id="14052591", effective=D2.isoformat())
    assert ids(await svc.call("unit_children", OFFICE, parent_id="140525", as_of="2026-08-01")) == [
        "14052502",
        "14052592",
    ]
    with pytest.raises(KaoheError) as e:
        await svc.call("unit_rename", OFFICE, unit_id="140502", name="x", effective="2026-01-01")
    assert e.value.code == "validation_failed" and e.value.field == "effective"
    with pytest.raises(KaoheError) as e:
        await svc.call("unit_move", OFFICE, unit_id="140525", parent_id="14052502")
    assert e.value.code == "move_into_own_subtree"


async def test_pagination_is_keyset_and_complete(svc: Running) -> None:
    await svc.call("unit_create", OFFICE, id="14", name="山西省", kind="province", valid_from="2025-01-01")
    for i in range(23):
        await svc.call(
            "unit_create",
            OFFICE,
            id=f"14{i:02d}",
            name=f"市{i}",
            kind="city",
            parent_id="14",
            valid_from="2025-01-01",
        )
    seen, after = [], None
    while True:
        pg = await svc.call("unit_subtree", OFFICE, root_id="14", include_root=False, first=5, after=after)
        seen += ids(pg)
        after = pg["next"]
        if after is None:
            break
    assert seen == [f"14{i:02d}" for i in range(23)]
    with pytest.raises(KaoheError) as e:
        await svc.call("unit_children", OFFICE, parent_id="14", first=501)
    assert e.value.code == "validation_failed"


async def test_out_of_scope_access_is_denied(svc: Running) -> None:
    await _tree(svc)
    zezhou = caller(Role.assessment_office, org="/14/1405/140525/")
    reporter = caller(Role.reporter, org="/14/1405/140525/")
    reads = [
        ("unit_get", {"unit_id": "140502"}),
        ("unit_children", {"parent_id": "140502"}),
        ("unit_ancestors", {"unit_id": "14050201v1"}),
        ("unit_subtree", {"root_id": "1405"}),
        ("unit_history", {"unit_id": "140502"}),
    ]
    for method, params in reads:
        with pytest.raises(KaoheError) as e:
            await svc.call(method, zezhou, **params)
        assert e.value.code == "not_found", method
    assert await svc.call("units_by_ids", zezhou, ids=["140502", "140525"]) == [
        None,
        await svc.call("unit_get", OFFICE, unit_id="140525"),
    ]
    writes = [
        ("unit_create", {"id": "x1", "name": "x", "kind": "township", "parent_id": "140502"}),
        ("unit_rename", {"unit_id": "140502", "name": "x"}),
        ("unit_move", {"unit_id": "14052501", "parent_id": "140502"}),
        ("unit_merge", {"sources": ["14052501"], "into": "14050201"}),
        (
            "unit_split",
            {"unit_id": "14050201", "into": [{"id": "a1", "name": "a"}, {"id": "a2", "name": "b"}]},
        ),
        ("unit_close", {"unit_id": "14050201v1"}),
    ]
    for method, params in writes:
        with pytest.raises(KaoheError) as e:
            await svc.call(method, zezhou, **params)
        assert e.value.code == "not_found", method
        with pytest.raises(KaoheError) as e:
            await svc.call(method, reporter, **params)
        assert e.value.code == "forbidden_role", method
    # inside its own subtree the county office may restructure; ancestors above its root stay hidden
    await svc.call("unit_rename", zezhou, unit_id="14052501", name="新名")
    anc = await svc.call("unit_ancestors", zezhou, unit_id="14052501v1")
    assert [u["id"] for u in anc] == ["140525", "14052501"]


async def test_unit_changed_events_follow_the_contract(svc: Running, js: JetStreamContext) -> None:
    await _tree(svc)
    await svc.call("unit_move", OFFICE, unit_id="14052501", parent_id="140502", effective=D2.isoformat())
    prefix = svc.rt.settings.event_prefix
    sub = await js.pull_subscribe(f"{prefix}.indicators.unit.changed", durable=None)
    got: list[dict] = []

    async def moved() -> bool:
        try:
            for m in await sub.fetch(50, timeout=0.5):
                got.append(json.loads(m.data))
                await m.ack()
        except TimeoutError:
            pass
        return any(e["data"]["change"] == "moved" for e in got)

    await eventually(moved, what="unit.changed moved event")
    ev = next(e for e in got if e["data"]["change"] == "moved")
    assert ev["subject"] == "14052501"
    d = ev["data"]
    assert d["version"]["path"] == "/14/1405/140502/14052501/" and d["version"]["valid_from"] == "2026-07-01"
    assert d["previous"]["path"] == "/14/1405/140525/14052501/"
    assert d["descendants_moved"] == 1
    assert sum(e["data"]["change"] == "created" for e in got) == 12  # 1 + 1 + 2 counties × (1 + 2 × 2)
    assert all(type(payload_of(CloudEvent.model_validate(e))).TYPE == e["type"] for e in got)  # the contract
