"""Ranking and grades (排名、等次): thresholds, the 优秀 quota, exemptions, veto caps and 末位."""

from __future__ import annotations

import math
from typing import Any

import pytest

from services.scoring.domain.ranking import (
    Candidate,
    GradeRules,
    Ranked,
    RankingError,
    excellent_quota,
    rank_category,
)

SCORES = {"A": 95, "B": 93, "C": 92, "D": 91, "E": 90, "F": 85, "G": 75, "H": 65, "I": 55, "J": 50}


def ranked(**changes: dict[str, Any]) -> dict[str, Ranked]:
    """The ten units of SCORES, some with `exempt` or `veto_cap` set."""
    cands = [Candidate(code, float(score), **changes.get(code, {})) for code, score in SCORES.items()]
    return {r.unit_code: r for r in rank_category(cands)}


def codes(r: Ranked) -> list[str]:
    return [x.code for x in r.reasons]


def test_thresholds_and_quota() -> None:
    # 10 units × 30 % → 3 优秀 places; A–E reach 90 but only A, B, C keep 优秀
    out = ranked()
    grades = {c: out[c].grade for c in SCORES}
    assert grades == {
        "A": "优秀",
        "B": "优秀",
        "C": "优秀",
        "D": "良好",
        "E": "良好",
        "F": "良好",
        "G": "一般",
        "H": "一般",
        "I": "较差",
        "J": "较差",
    }
    assert [out[c].rank for c in SCORES] == list(range(1, 11))
    assert "quota_exceeded" in codes(out["D"]) and out["D"].threshold_grade == "优秀"
    assert any("超出优秀比例" in x.text for x in out["D"].reasons)
    assert out["C"].in_quota and not out["D"].in_quota


def test_exemption_is_excellent_outside_the_quota() -> None:
    out = ranked(D={"exempt": True}, J={"exempt": True})
    assert out["D"].grade == "优秀" and not out["D"].in_quota
    assert out["J"].grade == "优秀" and "special_first" in codes(out["J"])  # 专项考核第一 whatever its score
    assert [c for c in SCORES if out[c].in_quota] == ["A", "B", "C"]  # the quota still holds 3
    assert out["E"].grade == "良好"


def test_veto_caps_the_grade_and_frees_a_quota_place() -> None:
    out = ranked(B={"veto_cap": "良好"}, A={"veto_cap": "较差", "exempt": True})
    assert out["A"].grade == "较差" and "veto_cap" in codes(out["A"])  # the veto overrides the exemption
    assert out["B"].grade == "良好"
    assert [c for c in SCORES if out[c].grade == "优秀"] == ["C", "D", "E"]
    low = ranked(J={"veto_cap": "良好"})
    assert low["J"].grade == "较差"  # a cap never raises a grade


def test_last_place_flag() -> None:
    out = ranked()
    assert [c for c in SCORES if out[c].last_place] == ["J"]
    assert "last_place" in codes(out["J"])
    two = rank_category([Candidate("a", 80.0), Candidate("b", 70.0)], GradeRules(last_place_count=0))
    assert not any(r.last_place for r in two)
    alone = rank_category([Candidate("a", 10.0)])
    assert not alone[0].last_place  # a category of one has no 末位


def test_ties_are_broken_by_unit_code_and_reported() -> None:
    out = rank_category([Candidate("z9", 88.0), Candidate("a1", 88.0 + 1e-9), Candidate("m5", 90.0)])
    assert [(r.unit_code, r.rank) for r in out] == [("m5", 1), ("a1", 2), ("z9", 3)]
    assert "tie_broken" in codes(out[1]) and "tie_broken" in codes(out[2])
    assert "tie_broken" not in codes(out[0])


def test_quota_rounds_down_with_a_minimum() -> None:
    assert excellent_quota(100, GradeRules(excellent_share=0.29)) == 29  # not 28 from 28.999…
    assert excellent_quota(10, GradeRules(excellent_share=0.25)) == 2  # 2.5 rounded down
    assert excellent_quota(5, GradeRules(excellent_share=0.1, excellent_min=1)) == 1  # 0.5 → 0, min 1
    assert excellent_quota(5, GradeRules(excellent_share=0.1, excellent_min=0)) == 0
    assert excellent_quota(2, GradeRules(excellent_share=0.1, excellent_min=5)) == 2  # never above n
    nobody = rank_category([Candidate("a", 99.0)], GradeRules(excellent_share=0.0, excellent_min=0))
    assert nobody[0].grade == "良好"


def test_custom_thresholds() -> None:
    rules = GradeRules(thresholds=(("优秀", 95.0), ("良好", 85.0)), excellent_share=1.0)
    out = {
        r.unit_code: r.grade
        for r in rank_category([Candidate("a", 96), Candidate("b", 90), Candidate("c", 84.99)], rules)
    }
    assert out == {"a": "优秀", "b": "良好", "c": "较差"}  # no 一般 threshold: below 良好 is 较差


def test_invalid_input() -> None:
    with pytest.raises(RankingError, match="best first"):
        rank_category([], GradeRules(thresholds=(("良好", 80.0), ("优秀", 90.0))))
    with pytest.raises(RankingError, match="not increase"):
        rank_category([], GradeRules(thresholds=(("优秀", 80.0), ("良好", 90.0))))
    with pytest.raises(RankingError, match="twice"):
        rank_category([Candidate("a", 1.0), Candidate("a", 2.0)])
    with pytest.raises(RankingError, match="non-finite"):
        rank_category([Candidate("a", math.nan)])
    with pytest.raises(RankingError, match="unknown veto grade"):
        rank_category([Candidate("a", 1.0, veto_cap="差")])
