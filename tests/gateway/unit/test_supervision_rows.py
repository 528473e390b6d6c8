"""督办事项 rows built lazily (gateway.graphql.supervision_rows) read as the contract model reads them.

The reference is the model itself: `ItemDetail.model_validate(row)` gives every field typed (enum members,
dates, datetimes, nested tasks and milestones, defaults for fields left out); the lazy object must give the
same values field by field, through a small schema as well as by attribute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry

from gateway.graphql.common import _fields
from gateway.graphql.supervision_types import SupervisionItem, item
from kaohe.contracts import supervision as c

TASK = {"unit_path": "/14/1405/", "task": "牵头", "deadline": "2026-06-30"}
DONE = datetime(2026, 5, 9, 2, 30, tzinfo=UTC)


def row() -> dict[str, Any]:
    detail = c.ItemDetail(
        id="it1",
        number="晋督〔2026〕3号",
        title="城区道路积水整治",
        problem="积水",
        source="leader",
        source_zh="领导批示",
        source_ref="市长批示〔2026〕3号",
        office_id="1405",
        office_path="/14/1405/",
        lead=c.TaskPublic(unit_id="140501", role="lead", **TASK),
        cooperating=[
            c.TaskPublic(unit_id="140502", role="cooperating", done_at=DONE, **TASK),
            c.TaskPublic(unit_id="140503", role="cooperating", unit_name="三局", late=True, **TASK),
        ],
        deadline=date(2026, 6, 30),
        deadlines=[date(2026, 6, 20), date(2026, 6, 30)],
        measures=["排查"],
        milestones=[c.MilestonePublic(title="完成排查", due=date(2026, 5, 31))],
        priority="urgent",
        status="in_progress",
        status_zh="办理中",
        cycle=1,
        version=3,
        next_due=datetime(2026, 5, 12, 1, 0, 0, 123456, tzinfo=UTC),
        yellow_cards=1,
        contact_phone="138****5678",
        available_actions=["feedback"],
        created_at=datetime(2026, 5, 6, 1, 0, tzinfo=UTC),
        updated_at=DONE,
        timeline=[],
        clocks=[],
        breaches=[],
        cards=[],
    ).model_dump(mode="json")
    for defaulted in ("provisional", "attachments", "red_cards", "channel"):  # a service may leave these out
        del detail[defaulted]
    return detail


def typed(value: Any) -> Any:
    """A value as comparable data: the type of each leaf kept (an enum member is not its string)."""
    if hasattr(value, "_row") or hasattr(value, "model_fields"):
        return {k: typed(getattr(value, k)) for k in _fields(type(value)) if hasattr(value, k)}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__mro__[1] if isinstance(value, Enum) else type(value), value)


@pytest.mark.parametrize("detail", [False, True])
def test_every_field_reads_as_the_contract_model_reads_it(detail: bool) -> None:
    d = row()
    got = item(d, detail=detail)
    want = (c.ItemDetail if detail else c.ItemPublic).model_validate(d)
    for name in _fields(SupervisionItem):
        assert typed(getattr(got, name)) == typed(getattr(want, name)), name
    assert got.status is c.ItemStatus.in_progress and got.lead.role is c.UnitRole.lead
    assert got.cooperating[0].done_at == datetime.fromisoformat("2026-05-09T02:30:00+00:00")
    assert got.provisional is False and got.attachments == [] and got.red_cards == 0 and got.channel is None
    assert got._detail == (d if detail else None)


def test_a_query_reads_the_lazy_rows() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[SupervisionItem]:
            return [item(row())]

    result = strawberry.Schema(query=Query).execute_sync(
        "{ items { id status deadline nextDue deadlines lead { role unitId }"
        " cooperating { unitId doneAt late } milestones { due } provisional channel } }"
    )
    assert result.errors is None
    assert result.data == {
        "items": [
            {
                "id": "it1",
                "status": "in_progress",
                "deadline": "2026-06-30",
                "nextDue": "2026-05-12T01:00:00.123456+00:00",
                "deadlines": ["2026-06-20", "2026-06-30"],
                "lead": {"role": "lead", "unitId": "140501"},
                "cooperating": [
                    {"unitId": "140502", "doneAt": "2026-05-09T02:30:00+00:00", "late": False},
                    {"unitId": "140503", "doneAt": None, "late": True},
                ],
                "milestones": [{"due": "2026-05-31"}],
                "provisional": False,
                "channel": None,
            }
        ]
    }
