"""填报截止提醒 on the working-day calendar, by each scheme's own 报送时限: the Friday before the 调休
Saturday of National Day 2026."""

from __future__ import annotations

from datetime import UTC, datetime

from kaohe.contracts.indicators import RosterUnit, SchemePublished, SubmissionSubmitted
from kaohe.contracts.scheme import Scheme
from kaohe.identity import Role
from kaohe.workdays import CHINA_TZ
from services.notices.repository.connection import raw
from services.notices.service import reminders
from tests.conftest import Infra, Namespace, eventually
from tests.notices.harness import Clock, SmtpInbox, caller, recipient, running
from tests.support.scoring import SCHEME, UNITS

OFFICE = caller("office-14", Role.assessment_office, "/14/")
THURSDAY = datetime(2026, 10, 8, 10, 0, tzinfo=CHINA_TZ)  # first working day after 国庆
FRIDAY = datetime(2026, 10, 9, 10, 0, tzinfo=CHINA_TZ)  # before Saturday 10 Oct, a 调休 working day
# 1405's scheme: September's values due on the 4th working day after 30 Sep, reminded 2 working days before
RULE_1405 = {"due_workdays": 4, "remind_workdays": 2}
# 1406's scheme: due on the 3rd working day (the 调休 Saturday itself), reminded 1 working day before
RULE_1406 = {"due_workdays": 3, "remind_workdays": 1}
UNITS_1406 = [{"unit_id": "140601", "name": "戊镇", "path": "/14/1406/140601/", "category": "乡镇"}]


def published(
    scheme_id: str, assessing_unit: str, rule: dict[str, int], units: list[dict]
) -> SchemePublished:
    return SchemePublished(
        scheme_id=scheme_id,
        assessing_unit=assessing_unit,
        year=2026,
        version=1,
        scheme=Scheme.model_validate(SCHEME | {"assessing_unit": assessing_unit, "reporting": rule}),
        units=[RosterUnit.model_validate(u) for u in units],
        published_at=datetime(2026, 1, 15, tzinfo=UTC),
        published_by="office",
    )


async def test_a_reminder_goes_out_on_the_friday_before_a_tiaoxiu_saturday_to_units_that_have_not_submitted(
    infra: Infra, database_url: str, ns: Namespace, nc, js, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    clock = Clock(THURSDAY)
    # 1405: September's values are due on the 4th working day after 30 Sep: Thu 8, Fri 9, Sat 10 (调休),
    # Mon 12. Reminded 2 working days before the due day: Friday 9 Oct (Thursday by weekdays, Saturday by
    # the clock). 1406: due Saturday 10 Oct, reminded 1 working day before, also Friday.
    async with running(infra, database_url, ns, nc, js, clock, port) as n:
        await n.call(
            "recipients_import",
            {
                "recipients": [
                    recipient(f"r-{u['unit_id']}", u["unit_id"], u["path"], ["reporter"])
                    for u in UNITS + UNITS_1406
                ]
            },
            OFFICE,
        )
        await n.send(published("S-2026", "1405", RULE_1405, UNITS), "S-2026")
        await n.send(published("S-1406", "1406", RULE_1406, UNITS_1406), "S-1406")
        for code in ("GDP", "FAI", "SAFE", "REV"):  # 甲镇 hands in every scored leaf of September
            sub = SubmissionSubmitted(
                submission_id=f"s-{code}",
                unit_id="140501",
                unit_path="/14/1405/140501/",
                scheme_id="S-2026",
                year=2026,
                code=code,
                period="2026-09",
                revision=1,
                actor="r-140501",
                at=datetime(2026, 10, 8, tzinfo=UTC),
            )
            await n.send(sub, sub.submission_id)
        # 乙镇 hands in only part of it (REV, the last one above)
        part = sub.model_copy(
            update={"submission_id": "s-yi", "unit_id": "140502", "unit_path": "/14/1405/140502/"}
        )
        await n.send(part, "s-yi")

        async def filed() -> bool:
            return len(await n.sql("SELECT 1 FROM filed WHERE period = '2026-09'")) == 5

        await eventually(filed, what="the roster and five handed-in leaves stored")
        assert len(await n.sql("SELECT 1 FROM roster WHERE scheme_id = 'S-2026'")) == 4
        rules = await n.sql("SELECT DISTINCT scheme_id, due_workdays, remind_workdays FROM roster ORDER BY 1")
        assert [tuple(r) for r in rules] == [("S-1406", 3, 1), ("S-2026", 4, 2)]
        # Thursday: a sweep (the worker's own step, run here on the same database) reminds nobody
        assert n.rt.db is not None
        async with n.rt.db.uow() as s:
            pushed = await reminders.sweep(await raw(s), now=clock(), timing=n.rt.state["timing"])
        assert pushed == []
        assert await n.sql("SELECT 1 FROM notice WHERE rule = 'deadline'") == []
        # Friday: the worker reminds the three units of 1405 that have not handed in everything, and 戊镇
        clock.set(FRIDAY)

        async def reminded() -> bool:
            return len(await n.sql("SELECT 1 FROM notice WHERE rule = 'deadline'")) == 4

        await eventually(reminded, what="four deadline reminders")
        rows = await n.sql("SELECT user_id, title, body FROM notice WHERE rule = 'deadline' ORDER BY user_id")
        assert [r["user_id"] for r in rows] == ["r-140502", "r-140503", "r-140504", "r-140601"]
        assert all("10月12日截止" in r["title"] for r in rows[:3])
        yi = rows[0]["body"]
        assert yi.startswith("乙镇") and "尚未提交的指标：FAI、GDP、SAFE。" in yi  # it handed in REV only
        assert "请于 2026年10月12日（星期一）前报送" in yi
        wu = rows[3]  # its own scheme's due day: the 调休 Saturday
        assert (
            "10月10日截止" in wu["title"] and "请于 2026年10月10日（星期六，调休工作日）前报送" in wu["body"]
        )

        # a working-hours Friday: the emails go out now, once each, however often the sweep runs
        async def mailed() -> bool:
            return len(inbox.mails) == 4

        await eventually(mailed, what="four reminder emails")
        async with n.rt.db.uow() as s:
            again = await reminders.sweep(await raw(s), now=clock(), timing=n.rt.state["timing"])
        assert again == []
        assert len(await n.sql("SELECT 1 FROM notice WHERE rule = 'deadline'")) == 4


async def test_a_reminder_written_after_hours_on_that_friday_is_emailed_on_the_tiaoxiu_saturday_morning(
    infra: Infra, database_url: str, ns: Namespace, nc, js, smtp: tuple[SmtpInbox, int]
) -> None:
    _, port = smtp
    clock = Clock(datetime(2026, 10, 9, 19, 0, tzinfo=CHINA_TZ))  # Friday, after office hours
    async with running(infra, database_url, ns, nc, js, clock, port) as n:
        await n.call(
            "recipients_import",
            {"recipients": [recipient("r-140504", "140504", "/14/1405/140504/", ["reporter"])]},
            OFFICE,
        )
        await n.send(published("S-2026", "1405", RULE_1405, UNITS), "S-2026")

        async def reminded() -> bool:
            return bool(await n.sql("SELECT 1 FROM delivery"))

        await eventually(reminded, what="the reminder's email delivery")
        row = (await n.sql("SELECT status, not_before FROM delivery"))[0]
        # the next working moment is Saturday 10 Oct 09:00 (调休上班), not Monday 12 Oct
        assert row["status"] == "pending"
        assert row["not_before"] == datetime(2026, 10, 10, 9, 0, tzinfo=CHINA_TZ)
