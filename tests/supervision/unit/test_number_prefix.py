"""Each office's own 机关代字: the first character of its place name + 督, so two offices' 1号 differ."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.supervision.domain import ItemNumber, office_prefix
from services.supervision.settings import SupervisionSettings


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("晋城市", "晋督"),
        ("泽州县", "泽督"),
        ("中共晋城市委督查室", "晋督"),  # the party's name before the place is not the place
        (" 阳城县人民政府督查室", "阳督"),
        ("督查室", "督"),  # no place name: the bare 督
        ("1405", "督"),  # a unit known only by its id
        ("", "督"),
    ],
)
def test_the_default_prefix_is_the_place_names_first_character(name: str, prefix: str) -> None:
    assert office_prefix(name) == prefix


def test_two_offices_first_numbers_differ_and_old_numbers_still_read() -> None:
    a, b = ItemNumber(2026, 1, office_prefix("晋城市")), ItemNumber(2026, 1, office_prefix("泽州县"))
    assert (str(a), str(b)) == ("晋督〔2026〕1号", "泽督〔2026〕1号") and a != b
    assert ItemNumber.parse("督〔2026〕1号") == ItemNumber(2026, 1)  # numbers issued before: still valid


def test_a_set_prefix_must_be_chinese_characters() -> None:
    ok = SupervisionSettings(number_prefixes={"1405": "晋市督"})
    assert ok.number_prefixes == {"1405": "晋市督"}
    with pytest.raises(ValidationError, match="1405"):
        SupervisionSettings(number_prefixes={"1405": "JC"})
