"""Who hears what: each rule's audience, urgency and the source that keys its notices."""

from datetime import UTC, date, datetime

from kaohe.contracts.indicators import SubmissionSubmitted
from kaohe.contracts.scoring import WarningRaised
from kaohe.contracts.supervision import CardIssued, ItemChanged, ItemClosed, ItemOpened
from kaohe.workdays import official_calendar
from services.notices.domain import rules, supervision
from services.notices.domain.deadlines import Deadline, day_zh

CAL = official_calendar()


def warning(level: str) -> WarningRaised:
    return WarningRaised(
        unit_id="140501",
        unit_path="/14/1405/140501/",
        unit_name="甲镇",
        code="GDP",
        period="2026-05",
        level=level,
        level_zh={"yellow": "黄", "red": "红"}[level],
        expected=0.4,
        actual=0.25,
        lag=0.15,
    )


def test_a_warning_reaches_the_units_reporters_and_head_and_only_red_is_urgent() -> None:
    d = rules.warning("ev-1", warning("yellow"))
    assert d.audience.roles == {"reporter", "leader"} and d.audience.units == ("140501",)
    assert d.source == "ev-1" and not d.urgent
    assert "甲镇" in d.title and "黄色预警" in d.title
    assert "应完成 40.0%" in d.body and "实际完成 25.0%" in d.body
    assert rules.warning("ev-2", warning("red")).urgent


def test_a_submission_waits_for_the_departments_responsible_for_its_code_over_the_unit() -> None:
    s = SubmissionSubmitted(
        submission_id="s1",
        unit_id="140501",
        unit_path="/14/1405/140501/",
        year=2026,
        code="GDP",
        period="2026-05",
        revision=1,
        actor="u1",
        at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    d = rules.review("ev-3", s)
    assert d.audience.roles == {"department"}
    assert d.audience.covering == "/14/1405/140501/" and d.audience.code == "GDP"


def test_a_reminder_names_each_units_missing_leaves_and_the_due_day() -> None:
    dl = Deadline("2026-09", date(2026, 10, 12), date(2026, 10, 9))
    d = rules.reminder("S1", dl, {"A": ["FAI", "GDP"], "C": ["GDP"]}, {"A": "甲镇", "C": "丙镇"}, CAL)
    assert d.source == "S1:2026-09" and d.audience.units == ("A", "C") and d.audience.roles == {"reporter"}
    assert (
        d.per_unit["A"].startswith("甲镇")
        and "FAI、GDP" in d.per_unit["A"]
        and "请于 2026年10月12日（星期一）前报送" in d.per_unit["A"]
    )
    assert "10月12日截止" in d.title


def test_supervision_items_reach_lead_and_cooperating_units_and_a_red_card_is_urgent() -> None:
    opened = ItemOpened(
        item_id="i1",
        number="督〔2026〕7号",
        status="assigned",
        version=1,
        office_id="1405",
        office_path="/14/1405/",
        unit_ids=["140501", "140502"],
        unit_paths=["/14/1405/140501/", "/14/1405/140502/"],
        source="leader",
        at=datetime(2026, 12, 1, tzinfo=UTC),
        title="背街小巷整治",
        deadline=date(2026, 12, 20),
        priority="normal",
    )
    d = supervision.item_opened("ev-9", opened)
    assert d.audience.units == ("140501", "140502") and d.audience.roles == {"leader", "reporter"}
    assert not d.urgent and "2026-12-20" in d.body
    card = CardIssued(
        key="k",
        colour="red",
        item_id="i1",
        number="督〔2026〕7号",
        unit_id="140502",
        unit_path="/14/1405/140502/",
        role="cooperating",
        at=datetime(2026, 12, 21, tzinfo=UTC),
        reason="逾期未反馈",
        breach_key="b",
    )
    c = supervision.card_issued("ev-10", card)
    assert c.urgent and c.audience.units == ("140502",) and "配合单位" in c.body and "红牌" in c.title
    assert not supervision.card_issued("ev-11", card.model_copy(update={"colour": "yellow"})).urgent


def objection(**kw: object) -> dict[str, object]:
    return {
        "scheme_id": "S1",
        "period": "2026-Q1",
        "objection_id": "o1",
        "unit_id": "140501",
        "unit_path": "/14/1405/140501/",
        "unit_name": "甲镇",
        "codes": ["GDP", "FAI"],
        **kw,
    }


def test_an_objection_goes_to_the_offices_covering_the_unit_and_its_answer_to_the_unit() -> None:
    from kaohe.contracts.scoring import ObjectionAnswered, ObjectionFiled

    d = rules.objection_filed("ev-9", ObjectionFiled.model_validate(objection()))
    assert d.rule == "objection" and d.source == "ev-9" and not d.urgent
    assert d.audience.roles == {"assessment_office"} and d.audience.covering == "/14/1405/140501/"
    assert d.audience.units is None and "甲镇" in d.title and "GDP、FAI" in d.body
    a = rules.objection_answered("ev-10", ObjectionAnswered.model_validate(objection(decision="upheld")))
    assert a.audience.roles == {"reporter", "leader"} and a.audience.units == ("140501",)
    assert "申诉成立" in a.title and a.source == "ev-10"


def test_a_due_day_names_its_weekday_and_a_tiaoxiu_working_day() -> None:
    assert day_zh(date(2026, 10, 10), CAL) == "2026年10月10日（星期六，调休工作日）"
    assert day_zh(date(2026, 10, 12), CAL) == "2026年10月12日（星期一）"
    assert day_zh(date(2026, 10, 1), CAL) == "2026年10月1日（星期四，休息日）"  # 国庆节


ITEM = {
    "item_id": "i1",
    "number": "督〔2026〕12号",
    "status": "in_progress",
    "version": 5,
    "office_id": "1405",
    "office_path": "/14/1405/",
    "unit_ids": ["140501", "140502"],
    "unit_paths": ["/14/1405/140501/", "/14/1405/140502/"],
    "unit_deadlines": ["2026-10-30", "2026-10-10"],
    "source": "leader",
    "at": "2026-10-09T10:00:00+08:00",
}


def test_an_opened_item_tells_a_cooperating_unit_its_own_sub_deadline() -> None:
    e = ItemOpened.model_validate(
        ITEM | {"title": "背街小巷整治", "deadline": "2026-10-30", "priority": "high"}
    )
    d = supervision.item_opened("ev-1", e)
    assert "办理时限 2026-10-30" in d.body and set(d.per_unit) == {"140502"}
    assert "分项任务时限 2026-10-10" in d.per_unit["140502"]


def test_changes_the_units_must_act_on_reach_every_unit_with_its_own_due_day_and_others_none() -> None:
    e = ItemChanged.model_validate(
        ITEM
        | {
            "action": "approve_extension",
            "from_status": "extension_requested",
            "actor": "office",
            "deadline": "2026-10-30",
        }
    )
    d = supervision.item_changed("ev-2", e, "背街小巷整治", CAL)
    assert d is not None and d.audience.units == ("140501", "140502") and not d.urgent
    assert d.title == "督办事项 督〔2026〕12号：延期已批准"
    assert d.per_unit["140502"] == (
        "督办事项 督〔2026〕12号「背街小巷整治」的延期申请已获批准。"
        "贵单位（配合单位）办理时限：2026年10月10日（星期六，调休工作日）。"
    )
    assert "（牵头单位）办理时限：2026年10月30日（星期五）" in d.per_unit["140501"]
    back = supervision.item_changed("ev-3", e.model_copy(update={"action": "send_back"}), "", CAL)
    assert back is not None and back.body.startswith("督办事项 督〔2026〕12号被督查室退回")
    assert supervision.item_changed("ev-4", e.model_copy(update={"action": "accept"}), "x", CAL) is None
    assert (
        supervision.item_changed("ev-5", e.model_copy(update={"action": "report_progress"}), "x", CAL) is None
    )


def test_an_old_event_without_unit_deadlines_gives_every_unit_the_items_deadline() -> None:
    old = {k: v for k, v in ITEM.items() if k != "unit_deadlines"}
    e = ItemChanged.model_validate(
        old | {"action": "reopen", "from_status": "closed", "actor": "office", "deadline": "2026-11-30"}
    )
    assert supervision.unit_dues(e) == [date(2026, 11, 30)] * 2


def test_a_closed_item_tells_every_unit_and_a_due_reminder_is_keyed_by_item_unit_and_day() -> None:
    e = ItemClosed.model_validate(
        ITEM | {"status": "withdrawn", "outcome": "withdrawn", "reason": "重复交办"}
    )
    d = supervision.item_closed("ev-6", e, "背街小巷整治")
    assert d is not None and d.audience.units == ("140501", "140502")
    assert d.body == "督办事项 督〔2026〕12号「背街小巷整治」已撤销（重复交办），无需继续办理。"
    r = supervision.item_due(
        "i1", "督〔2026〕12号", "背街小巷整治", "140502", "/p/", False, date(2026, 10, 10), CAL
    )
    assert r.source == "due:i1:140502:2026-10-10" and r.audience.units == ("140502",)
    assert "配合单位）的分项任务时限将于 2026年10月10日（星期六，调休工作日）到期" in r.body
    assert r.title == "时限临近：督办事项 督〔2026〕12号 10月10日到期"
