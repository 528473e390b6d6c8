"""督考合一 from scoring: warnings open one item per (unit, indicator) whatever the duplicates and order,
a cleared warning is flagged for the office (never 销号), poor published grades open one 整改 item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kaohe.contracts.scoring import PublishedUnit, ResultsPublished, WarningCleared, WarningRaised
from tests.conftest import eventually
from tests.supervision.harness import OFFICE, SYSTEM, Sup

T0 = datetime(2026, 6, 1, 2, tzinfo=UTC)


def warning(cls: type, level: str = "red", period: str = "2026-05", **over: Any) -> Any:
    zh = {"red": "红", "orange": "橙", "yellow": "黄", "green": "绿"}[level]
    fields = dict(
        unit_id="140501",
        unit_path="/14/1405/140501/",
        unit_name="甲镇",
        scheme_id="s1",
        code="FAI",
        period=period,
        level=level,
        level_zh=zh,
        expected=0.42,
        actual=0.2,
        lag=0.22,
    )
    return cls(**(fields | over))


async def items(sup: Sup, **filters: Any) -> list[dict[str, Any]]:
    page = await sup.call("item_list", {"first": 100, **filters}, SYSTEM)
    return page["items"]  # type: ignore[no-any-return]


async def settled(sup: Sup, n: int) -> None:
    """Wait until the consumer has taken n events (its inbox)."""

    async def done() -> bool:
        return len(await sup.sql("SELECT event_id FROM inbox")) >= n

    await eventually(done, what=f"{n} events consumed")


async def test_duplicated_warnings_open_one_item_and_repeats_attach(sup: Sup) -> None:
    base = len(await sup.sql("SELECT event_id FROM inbox"))
    ev = await sup.send(warning(WarningRaised), "140501:FAI:2026-05", time=T0)
    await sup.js.publish(f"{sup.ns.prefix}.scoring.warning.raised", ev.to_bytes())  # the same event again
    await sup.send(
        warning(WarningRaised, level="orange", period="2026-Q2"), "q", time=T0 + timedelta(hours=1)
    )
    await sup.send(warning(WarningRaised, level="yellow", code="GDP"), "y", time=T0)  # below the levels
    await settled(sup, base + 3)
    (it,) = await items(sup, source=["assessment"])
    assert (it["lead"]["unit_id"], it["indicator_code"], it["status"]) == ("140501", "FAI", "assigned")
    assert it["office_id"] == "1405" and it["priority"] == "high"
    detail = await sup.call("item_get", {"item_id": it["id"]}, OFFICE)
    assert [e["action"] for e in detail["timeline"]] == ["assign", "record_signal"]  # the quarter's attached
    opened = sup.of("kaohe.supervision.item.opened", item_id=it["id"])
    assert len(opened) == 1


async def test_a_clear_before_its_older_raise_opens_nothing(sup: Sup) -> None:
    base = len(await sup.sql("SELECT event_id FROM inbox"))
    await sup.send(warning(WarningCleared, level="green"), "c", time=T0 + timedelta(hours=2))
    await sup.send(warning(WarningRaised), "r", time=T0)  # older, delivered later
    await settled(sup, base + 2)
    assert await items(sup, source=["assessment"]) == []


async def test_a_cleared_warning_flags_the_item_for_the_office_and_never_closes_it(sup: Sup) -> None:
    base = len(await sup.sql("SELECT event_id FROM inbox"))
    await sup.send(warning(WarningRaised), "r", time=T0)
    await sup.send(warning(WarningCleared, level="green"), "c", time=T0 + timedelta(hours=2))
    await settled(sup, base + 2)
    (it,) = await items(sup, source=["assessment"])
    assert it["cleared_by_data"] is True and it["status"] == "assigned"  # the office verifies; no 销号


async def test_a_poor_grade_opens_one_rectification_item(sup: Sup) -> None:
    base = len(await sup.sql("SELECT event_id FROM inbox"))
    units = [
        PublishedUnit(unit_id="140501", unit_path="/14/1405/140501/", total=61.0, rank=3, of=3, grade="较差"),
        PublishedUnit(unit_id="140502", unit_path="/14/1405/140502/", total=90.0, rank=1, of=3, grade="优秀"),
    ]
    ev = ResultsPublished(scheme_id="s1", period="2026-Q1", snapshot_id="snap", digest="d", units=units)
    for _ in range(2):  # two distinct deliveries of the same publication (a replay)
        await sup.send(ev, "s1:2026-Q1")
    await settled(sup, base + 2)
    (it,) = await items(sup, source=["rectification"])
    assert it["lead"]["unit_id"] == "140501" and "较差" in it["title"]
