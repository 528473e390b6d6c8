"""督办事项: number formatting and parsing, and the checks an item makes on itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.supervision.domain import ItemInvalid, ItemNumber, NumberInvalid, Role, UnitTask

from .builders import COOP, LEAD, make_item


def test_number_is_written_as_gb9704_and_read_back_in_common_variants() -> None:
    n = ItemNumber(2026, 12)
    assert str(n) == "督〔2026〕12号"
    assert str(ItemNumber(2026, 3, "晋市督")) == "晋市督〔2026〕3号"
    for text in ("督〔2026〕12号", "督[2026]12号", "督【2026】第12号", " 督（2026）012号 ", "督［2026］12号"):
        assert ItemNumber.parse(text) == n
    assert ItemNumber.parse("市委督〔2025〕7号") == ItemNumber(2025, 7, "市委督")


@pytest.mark.parametrize(
    "text", ["督2026-12", "督〔26〕12号", "〔2026〕12号", "督〔2026〕0号", "督〔2026〕12", "DB〔2026〕1号"]
)
def test_number_rejects_what_is_not_one(text: str) -> None:
    with pytest.raises(NumberInvalid) as err:
        ItemNumber.parse(text)
    assert err.value.field == "number"


@given(
    st.integers(min_value=1900, max_value=9999),
    st.integers(min_value=1, max_value=9_999_999),
    st.text(alphabet="督查市县委办政府", min_size=1, max_size=6),
)
def test_number_round_trips(year: int, seq: int, prefix: str) -> None:
    n = ItemNumber(year, seq, prefix)
    assert ItemNumber.parse(str(n)) == n


def test_numbers_sort_by_year_then_sequence() -> None:
    assert sorted([ItemNumber(2026, 2), ItemNumber(2025, 9), ItemNumber(2026, 10)]) == [
        ItemNumber(2025, 9),
        ItemNumber(2026, 2),
        ItemNumber(2026, 10),
    ]


def test_item_knows_its_units_and_roles() -> None:
    item = make_item()
    assert item.unit_ids == (LEAD, COOP)
    assert item.role_of(LEAD) is Role.LEAD and item.role_of(COOP) is Role.COOPERATING
    assert item.role_of("someone-else") is None
    assert item.task_of(COOP).deadline == date(2026, 3, 20)  # type: ignore[union-attr]


def test_item_checks() -> None:
    with pytest.raises(ItemInvalid) as err:
        make_item(parts={COOP: date(2026, 4, 2)})
    assert err.value.field == "cooperating[0].deadline"
    with pytest.raises(ItemInvalid) as err:
        make_item(parts={LEAD: date(2026, 3, 2)})
    assert err.value.field == "cooperating[0]"
    item = make_item()
    with pytest.raises(ItemInvalid):
        replace(item, title=" ")
    with pytest.raises(ItemInvalid):
        replace(item, lead=UnitTask(LEAD, Role.COOPERATING, "x", date(2026, 3, 1)))
    with pytest.raises(ItemInvalid) as err:
        replace(item, source=replace(item.source, ref=""))
    assert err.value.field == "source.ref"
