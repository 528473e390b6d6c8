"""The one keyset cursor codec and the page helpers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kaohe.contracts.pages import Page, PageRequest, decode_cursor, decode_offset, encode_cursor, page
from kaohe.errors import ValidationFailed

keys = st.lists(st.one_of(st.text(), st.integers(-(2**53), 2**53), st.booleans(), st.none()), max_size=4)


@given(keys)
def test_a_cursor_holds_its_key(key: list[object]) -> None:
    cursor = encode_cursor(*key)
    assert "=" not in cursor and cursor.isascii()
    assert decode_cursor(cursor, len(key)) == key


@pytest.mark.parametrize(
    "bad", ["%%%", "bm90IGpzb24", encode_cursor("a", "b"), encode_cursor("a")[:-1] + "!!"]
)
def test_a_foreign_cursor_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        decode_cursor(bad, 3, field="after")
    assert e.value.field == "after" and e.value.code == "bad_cursor"


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None) is None


def test_page_keeps_first_items_and_points_after_the_last() -> None:
    got = page([{"id": i} for i in range(4)], 3, lambda d: (d["id"],))
    assert [d["id"] for d in got["items"]] == [0, 1, 2]
    assert decode_cursor(got["next"], 1) == [2]
    assert page([{"id": 0}], 3, lambda d: (d["id"],))["next"] is None
    assert Page[int](items=[1], next=None).items == [1]


def test_page_request_limits() -> None:
    assert PageRequest().first == 100
    with pytest.raises(ValidationError):
        PageRequest(first=501)
    with pytest.raises(ValidationError):
        PageRequest.model_validate({"first": 1, "unknown": 1})


@pytest.mark.parametrize(
    "bad", [encode_cursor(-1), encode_cursor("3"), encode_cursor(True), encode_cursor(1.5)]
)
def test_an_offset_cursor_is_a_non_negative_integer(bad: str) -> None:
    assert decode_offset(None) == 0 and decode_offset(encode_cursor(40)) == 40
    with pytest.raises(ValidationFailed) as e:
        decode_offset(bad)
    assert e.value.code == "bad_cursor"
