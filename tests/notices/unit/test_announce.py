"""notice.created: one event per rule, unit, urgency and title of a fan-out's new rows; user ids only."""

from datetime import UTC, datetime

from kaohe.contracts.notices import CREATED_UNITS, NoticeCreated, PushedNotice
from services.notices.service.push import created_events

AT = datetime(2026, 12, 9, 2, tzinfo=UTC)


def row(i: int, user: str, unit: str, rule: str = "warning", urgent: bool = False) -> PushedNotice:
    return PushedNotice(
        notice_id=str(i),
        user_id=user,
        rule=rule,  # type: ignore[arg-type]
        title=f"{unit} 提醒",
        urgent=urgent,
        created_at=AT,
        unit_id=unit,
        unit_path=f"/14/1405/{unit}/",
    )


def test_rows_are_announced_grouped_by_unit_with_their_recipients() -> None:
    rows = [row(1, "a", "140501"), row(2, "b", "140501"), row(3, "c", "140502"), row(4, "d", "140501")]
    [event] = created_events(rows)
    assert event.type == "kaohe.notices.notice.created" and event.subject == "warning"
    first, second = NoticeCreated.from_event(event).units
    assert (first.unit_id, first.user_ids, first.notice_ids) == ("140501", ["a", "b", "d"], ["1", "2", "4"])
    assert (second.user_ids, second.unit_path, second.rule_zh) == (["c"], "/14/1405/140502/", "预警提醒")


def test_a_wave_is_split_into_events_of_at_most_the_group_limit_and_rules_mixed_say_so() -> None:
    rows = [row(i, f"u{i}", f"U{i}") for i in range(CREATED_UNITS * 2 + 1)]
    events = created_events(rows)
    sizes = [len(NoticeCreated.from_event(e).units) for e in events]
    assert sizes == [CREATED_UNITS, CREATED_UNITS, 1]
    assert sorted(g.notice_ids[0] for e in events for g in NoticeCreated.from_event(e).units) == sorted(
        str(i) for i in range(CREATED_UNITS * 2 + 1)
    )
    [mixed] = created_events([row(1, "a", "X"), row(2, "a", "X", rule="objection")])
    assert mixed.subject == "mixed" and len(NoticeCreated.from_event(mixed).units) == 2


def test_nothing_new_announces_nothing() -> None:
    assert created_events([]) == []
