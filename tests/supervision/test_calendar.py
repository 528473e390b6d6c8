"""Working days at the service: a make-up Saturday counts, a holiday weekday does not; a deadline in a year
the calendar does not cover is provisional until the year's notice is added, then recomputed; a local
override moves the deadlines it touches."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from kaohe.workdays import CHINA_TZ, Override, official_calendar
from tests.supervision.harness import OFFICE, SYSTEM, Sup, at, item_params


def due(item: dict[str, Any], kind: str) -> str:
    (c,) = [c for c in item["clocks"] if c["kind"] == kind and c["state"] == "running"] or [
        c for c in item["clocks"] if c["kind"] == kind
    ][:1]
    return c["due_at"][:16]  # type: ignore[no-any-return]


async def test_the_spring_festival_make_up_saturday_counts_and_its_weekdays_do_not(sup: Sup) -> None:
    p = item_params(
        at=at(2026, 2, 13),  # Friday before 春节 (2026-02-15 … 23 off; Saturday 02-14 and 02-28 worked)
        lead={"unit_id": "140501", "task": "t", "deadline": "2026-03-31"},
        cooperating=[],
        deadline="2026-03-31",
    )
    it = await sup.call("item_create", p, SYSTEM)
    assert due(it, "accept") == "2026-02-14T18:00"  # 1 working day: the make-up Saturday
    assert due(it, "first_feedback") == "2026-02-25T18:00"  # 3: 02-14, 02-24, 02-25
    assert it["provisional"] is False


async def test_a_provisional_year_is_recomputed_when_its_notice_is_added(sup: Sup) -> None:
    p = item_params(
        at=at(2026, 12, 1),
        lead={"unit_id": "140501", "task": "t", "deadline": "2030-01-01"},
        cooperating=[],
        deadline="2030-01-01",
    )
    it = await sup.call("item_create", p, SYSTEM)
    assert it["provisional"] is True and due(it, "deadline") == "2030-01-01T18:00"  # weekends only
    before = it["calendar_version"]
    cal = await sup.call(
        "calendar_year_set",
        {"year": 2030, "days_off": ["2030-01-01"], "extra_workdays": [], "source": "国办发明电〔2029〕7号"},
        OFFICE,
    )
    assert 2030 in cal["covered_years"] and cal["recomputed_items"] == 1 and cal["version"] != before
    await sup.call("sweep_run", {}, SYSTEM)
    it = await sup.call("item_get", {"item_id": it["id"]}, OFFICE)
    assert it["provisional"] is False and it["calendar_version"] == cal["version"]
    assert due(it, "deadline") == "2030-01-02T18:00"  # 元旦 is off: the next working day
    cal = await sup.call(
        "calendar_override_set",
        {"overrides": [{"day": "2030-01-02", "workday": False, "reason": "市政府通知 2029-12-20"}]},
        OFFICE,
    )
    assert cal["recomputed_items"] == 1 and [o["day"] for o in cal["overrides"]] == ["2030-01-02"]
    await sup.call("sweep_run", {}, SYSTEM)
    it = await sup.call("item_get", {"item_id": it["id"]}, OFFICE)
    assert due(it, "deadline") == "2030-01-03T18:00" and it["calendar_version"] == cal["version"]


def accepted(item: dict[str, Any]) -> str:
    return next(c["due_at"] for c in item["clocks"] if c["kind"] == "accept")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_future_correction_remaps_the_stored_next_check_as_a_replay_would(sup: Sup) -> None:
    now = datetime.now(CHINA_TZ)
    far = (now + timedelta(days=120)).date().isoformat()
    p = item_params(
        at=now.isoformat(), lead={"unit_id": "140501", "task": "t", "deadline": far}, deadline=far
    )
    p.pop("cooperating", None)
    it = await sup.call("item_create", p, SYSTEM)
    accept_day = date.fromisoformat(due(it, "accept")[:10])  # the next working day: after today
    assert moment(it["next_due"]) == moment(accepted(it))
    cal = await sup.call(
        "calendar_override_set",
        {"overrides": [{"day": accept_day.isoformat(), "workday": False, "reason": "地方调休"}]},
        OFFICE,
    )
    assert cal["recomputed_items"] >= 1
    # no sweep in between: the stored index was remapped, and it is what replaying the timeline gives
    it = await sup.call("item_get", {"item_id": it["id"]}, OFFICE)
    new = official_calendar().with_overrides([Override(accept_day, False, "地方调休")])
    assert moment(accepted(it)) == new.add_workdays(accept_day, 1).at
    assert moment(it["next_due"]) == moment(accepted(it)) and it["calendar_version"] == cal["version"]
    assert (await sup.call("sweep_run", {}, SYSTEM))["items"] == 0  # nothing queued for a replay


async def test_past_calendar_versions_are_listed_newest_first(sup: Sup) -> None:
    first = await sup.call("calendar_get", {}, OFFICE)
    over = {"overrides": [{"day": "2031-03-03", "workday": False, "reason": "市政府通知"}]}
    changed = await sup.call("calendar_override_set", over, OFFICE)
    listed = await sup.call("calendar_versions", {"first": 5}, OFFICE)
    assert [v["version"] for v in listed[:2]] == [changed["version"], first["version"]]
    assert [o["day"] for o in listed[0]["overrides"]] == ["2031-03-03"]
    assert "2031-03-03" not in [o["day"] for o in listed[1]["overrides"]]
