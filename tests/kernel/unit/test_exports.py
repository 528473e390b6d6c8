import pytest

from kaohe.exports import safe_cell, safe_dict, safe_row


@pytest.mark.parametrize(
    "raw",
    ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"],
)
def test_formula_leading_strings_become_text(raw: str) -> None:
    assert safe_cell(raw) == "'" + raw


def test_plain_text_and_numbers_unchanged() -> None:
    assert safe_row(["城区", -3.5, 0, None, "a=b"]) == ["城区", -3.5, 0, None, "a=b"]
    assert safe_dict({"name": "@x", "score": -1}) == {"name": "'@x", "score": -1}
