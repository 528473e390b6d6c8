"""Pure parts of the supervision service: reading a 督办清单 row, the scope rules, event periods."""

from __future__ import annotations

from datetime import date

from kaohe.identity import Caller, Role
from services.supervision.repository.scope import acting_units, can_read, is_office, visible
from services.supervision.service.clocks import periods_of
from services.supervision.service.sheets import to_params


def row(**over: object) -> dict[str, object]:
    r: dict[str, object] = {
        "title": "积水整治",
        "problem": "积水",
        "source": "领导批示",
        "source_ref": "批示1",
        "lead": "140501",
        "lead_task": "牵头",
        "coop": "140502、140503",
        "coop_task": "配合一;配合二",
        "deadline": date(2026, 6, 30),
        "measures": "措施一；措施二",
        "priority": "特急",
    }
    return r | over


def test_a_row_reads_chinese_labels_separators_and_dates() -> None:
    p, problems = to_params("1405", row())
    assert problems == []
    assert (p["source"], p["priority"], p["deadline"]) == ("leader", "urgent", date(2026, 6, 30))
    assert [c["unit_id"] for c in p["cooperating"]] == ["140502", "140503"]
    assert p["measures"] == ["措施一", "措施二"] and p["cooperating"][1]["deadline"] == date(2026, 6, 30)
    p, _ = to_params("1405", row(deadline="2026/7/1", source="hotline", priority=None))
    assert (p["deadline"], p["source"], p["priority"]) == (date(2026, 7, 1), "hotline", "normal")
    assert to_params("1405", row(deadline="2026年7月2日"))[0]["deadline"] == date(2026, 7, 2)


def test_a_bad_row_lists_every_problem() -> None:
    _, problems = to_params("1405", row(title=" ", source="传闻", deadline="下周", coop_task="只有一条"))
    assert {f for f, _ in problems} == {"title", "source", "deadline", "coop_task"}


def test_scope_rules() -> None:
    office = Caller(user_id="o", roles=frozenset({Role.supervisor}), org_path="/14/1405/")
    unit = Caller(user_id="u", roles=frozenset({Role.reporter}), org_path="/14/1405/140502/")
    leader = Caller(user_id="l", roles=frozenset({Role.leader}), org_path="/14/1405/")
    units = [("140501", "/14/1405/140501/"), ("140502", "/14/1405/140502/")]
    assert is_office(office, "/14/1405/") and not is_office(office, "/14/")  # its level and below only
    assert not is_office(leader, "/14/1405/") and can_read(leader, "/14/", [p for _, p in units])
    assert acting_units(unit, units) == ["140502"] and acting_units(leader, units) == []
    assert not can_read(unit, "/14/1406/", ["/14/1406/140601/"])
    sql, params = visible(unit)
    assert "item_unit" in sql and params == {"scope_lo": "/14/1405/140502/", "scope_hi": "/14/1405/1405020"}
    assert visible(Caller(user_id="k", roles=frozenset({Role.integration}), org_path="/"))[0] == "FALSE"


def test_a_card_counts_in_its_month_and_quarter() -> None:
    assert periods_of(date(2026, 6, 17)) == ["2026-06", "2026-Q2"]
    assert periods_of(date(2026, 1, 1)) == ["2026-01", "2026-Q1"]
