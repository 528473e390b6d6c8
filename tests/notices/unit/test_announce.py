"""notice.created: one event per rule, unit, urgency and title of a fan-out's new rows; user ids only."""

from datetime import UTC, datetime

from kaohe.contracts.notices import NoticeCreated, PushedNotice
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


def test_rows_are_announced_per_unit_with_their_recipients() -> None:
    rows = [row(1, "a", "140501"), row(2, "b", "140501"), row(3, "c", "140502"), row(4, "d", "140501")]
    events = created_events(rows)
    assert [e.subject for e in events] == ["warning:140501", "warning:140502"]
    first, second = (NoticeCreated.from_event(e) for e in events)
    assert (first.user_ids, first.notice_ids) == (["a", "b", "d"], ["1", "2", "4"])
    assert (second.user_ids, second.unit_path, second.rule_zh) == (["c"], "/14/1405/140502/", "预警提醒")
    assert all(e.type == "kaohe.notices.notice.created" for e in events)


def test_nothing_new_announces_nothing() -> None:
    assert created_events([]) == []
