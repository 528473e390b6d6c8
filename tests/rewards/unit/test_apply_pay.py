"""Pay rules on hand-computed units, and pool conservation over random snapshots (hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rewards.domain.apply import apply
from services.rewards.domain.inputs import Cadre
from tests.rewards.unit.factory import (
    COEF,
    DIGEST,
    QPAY,
    WITHHOLD,
    ZERO,
    cadre,
    pay_of,
    pk,
    row,
    ruleset,
    snap,
)

STAFF = [cadre("a", "u1", grade="优秀"), cadre("b", "u1", grade="良好"), cadre("c", "u1", grade="较差")]


def test_person_grade_moves_pay_within_the_pool() -> None:
    # base 1000 fen a month × 3 months each: pool 9000; weights 3300 : 3000 : 2700 (优秀 +10%, 较差 −10%)
    pl = apply(snap([row("u1", "良好", 1, 2)]), rules=ruleset(QPAY), roster=STAFF)
    assert pay_of(pl) == {pk("a"): 3300, pk("b"): 3000, pk("c"): 2700}
    assert pl.pools["u1"].pool_fen == 9000 and pl.pools["u1"].balanced
    line = next(ln for ln in pl.lines if ln.person_key == pk("a"))
    assert (line.rule_id, line.basis, line.snapshot_digest, line.period) == (
        "qpay",
        QPAY["basis"],
        DIGEST,
        "2026-Q1",
    )
    assert (
        line.inputs["grade"] == "优秀" and line.inputs["factor"] == "1.10" and line.inputs["base_fen"] == 3000
    )
    assert line.inputs["unit_grade"] == "良好" and line.inputs["category"] == "乡镇"


def test_coefficient_raises_a_front_line_units_pool() -> None:
    rows = [row("u1", "良好", 1, 2, unit_kind="招商"), row("u2", "良好", 2, 2, unit_kind="保障服务")]
    roster = [*STAFF, cadre("d", "u2", grade="良好")]
    pl = apply(snap(rows), rules=ruleset(COEF, QPAY), roster=roster)
    assert pl.pools["u1"].pool_fen == 10800  # 9000 × 1.2
    assert pay_of(pl, "u1") == {pk("a"): 3960, pk("b"): 3600, pk("c"): 3240}
    assert pay_of(pl, "u2") == {pk("d"): 3000}  # default coefficient 1
    pool = next(ln for ln in pl.lines if ln.kind == "pool" and ln.unit_id == "u1")
    assert pool.inputs["coefficient"] == "1.2" and pool.inputs["coefficient_rule"] == "coef"


def test_withheld_pay_is_released_by_the_quarter_result() -> None:
    # pool 9000; 30% withheld = 2700; unit graded 一般 gets 80% back = 2160; 540 stays withheld
    pl = apply(snap([row("u1", "一般", 2, 2)]), rules=ruleset(QPAY, WITHHOLD), roster=STAFF)
    b = pl.pools["u1"]
    assert (b.pool_fen, b.paid_fen, b.withheld_fen) == (9000, 8460, 540)
    # 8460 over 11 : 10 : 9 = 3102, 2820, 2538 exactly
    assert pay_of(pl) == {pk("a"): 3102, pk("b"): 2820, pk("c"): 2538}
    amounts = {ln.kind: ln.amount_fen for ln in pl.lines if ln.subject == "unit"}
    assert amounts == {"pool": 9000, "withheld": 2700, "released": 2160}
    # an 优秀 unit gets all of it back
    pl = apply(snap([row("u1", "优秀", 1, 2)]), rules=ruleset(QPAY, WITHHOLD), roster=STAFF)
    assert pl.pools["u1"].withheld_fen == 0 and pl.pools["u1"].paid_fen == 9000


def test_last_place_gets_no_performance_pay() -> None:
    rows = [row("u1", "较差", 2, 2, last_place=True), row("u2", "良好", 1, 2)]
    roster = [*STAFF, cadre("d", "u2")]
    pl = apply(snap(rows), rules=ruleset(QPAY, WITHHOLD, ZERO), roster=roster)
    assert pay_of(pl, "u1") == {pk("a"): 0, pk("b"): 0, pk("c"): 0}
    b = pl.pools["u1"]
    assert (b.pool_fen, b.paid_fen, b.withheld_fen) == (9000, 0, 9000)
    zeroed = [ln for ln in pl.lines if ln.kind == "zeroed"]
    assert [(z.unit_id, z.rule_id, z.amount_fen) for z in zeroed] == [("u1", "zero", 9000)]
    assert pay_of(pl, "u2") == {pk("d"): 3000}  # u2: 900 withheld, 良好 releases all of it
    assert pl.pools["u2"].paid_fen == 3000


def test_unit_grade_scales_the_pool_when_the_rule_grades_units() -> None:
    rules = ruleset({**QPAY, "graded_by": "unit"})
    pl = apply(
        snap([row("u1", "优秀", 1, 2), row("u2", "较差", 2, 2)]),
        rules=rules,
        roster=[
            cadre("a", "u1"),
            cadre("b", "u2"),
        ],
    )
    assert pay_of(pl) == {pk("a"): 3300, pk("b"): 2700}


def test_given_pools_replace_the_roster_base() -> None:
    pl = apply(snap([row("u1", "良好", 1, 1)]), rules=ruleset(QPAY), roster=STAFF, pools={"u1": 100})
    assert sum(pay_of(pl).values()) == 100 and pay_of(pl) == {pk("a"): 37, pk("b"): 33, pk("c"): 30}
    pool = next(ln for ln in pl.lines if ln.kind == "pool")
    assert pool.inputs["base_from"] == "given"


def test_annual_bonus_tier_by_unit_grade() -> None:
    tiers = {
        "kind": "annual_bonus",
        "id": "bonus",
        "basis": "《年度考核奖励办法》",
        "tiers": [
            {"name": "一档", "grades": ["优秀"], "multiplier": "1.2"},
            {"name": "二档", "grades": ["良好"], "multiplier": "1.1"},
            {"name": "三档", "grades": ["一般", "较差"], "multiplier": "1.0"},
        ],
    }
    rows = [row("u1", "优秀", 1, 3), row("u2", "良好", 2, 3), row("u3", "较差", 3, 3)]
    roster = [cadre("a", "u1"), cadre("b", "u2"), cadre("c", "u3")]
    pl = apply(snap(rows, period="2026"), rules=ruleset(tiers, QPAY), roster=roster)
    assert pay_of(pl) == {pk("a"): 14400, pk("b"): 13200, pk("c"): 12000}  # 12 months × 1000 × tier
    assert {ln.unit_id: ln.inputs["tier"] for ln in pl.lines if ln.kind == "pool"} == {
        "u1": "一档",
        "u2": "二档",
        "u3": "三档",
    }
    assert {ln.rule_id for ln in pl.lines if ln.kind == "pay"} == {"bonus"}  # the quarterly rule is not used


def test_headcount_caps_are_reported_not_enforced() -> None:
    capped = {
        **QPAY,
        "caps": [{"grade": "优秀", "max_share": "0.34"}, {"grade": "较差", "max_count": 0, "scope": "all"}],
    }
    roster = [cadre("a", "u1", grade="优秀"), cadre("b", "u1", grade="优秀"), cadre("c", "u1", grade="较差")]
    pl = apply(snap([row("u1", "良好", 1, 1)]), rules=ruleset(capped), roster=roster)
    got = [(p.code, p.unit_id, p.data["grade"], p.data["count"], p.data["limit"]) for p in pl.problems]
    assert got == [("cap_exceeded", "u1", "优秀", 2, 1), ("cap_exceeded", None, "较差", 1, 0)]
    assert pl.pools["u1"].balanced  # the lines are still there for reviewers to adjust


def test_unusable_roster_rows_are_problems_and_identifiers_stay_out() -> None:
    roster = [
        *STAFF,
        Cadre("110105194912310021", "u1", "一般干部", "科员", 1000),
        Cadre("张三", "u1", "一般干部", "科员", 1000),
        cadre("a", "u1"),  # listed twice
        Cadre("pk-x-0000", "u1", "处长", "科员", 1000, "优"),
    ]
    pl = apply(snap([row("u1", "良好", 1, 1), row("u9", "良好", 1, 1)]), rules=ruleset(QPAY), roster=roster)
    codes = sorted(p.code for p in pl.problems)
    assert codes == [
        "duplicate_person",
        "person_key_not_opaque",
        "person_key_not_opaque",
        "unknown_grade",
        "unknown_post",
    ]
    text = repr(pl.problems) + repr(pl.lines)
    assert "110105194912310021" not in text and "张三" not in text
    assert set(pay_of(pl)) == {pk("a"), pk("b"), pk("c"), "pk-x-0000"}
    assert pl.pools["u9"].withheld_fen == 0 and pl.pools["u9"].pool_fen == 0  # no staff, no base


def test_a_pool_with_nobody_to_pay_stays_withheld() -> None:
    pl = apply(snap([row("u9", "良好", 1, 1)]), rules=ruleset(QPAY), roster=[], pools={"u9": 5000})
    assert [p.code for p in pl.problems] == ["no_staff"]
    b = pl.pools["u9"]
    assert (b.pool_fen, b.paid_fen, b.withheld_fen) == (5000, 0, 5000)


def test_a_unit_listed_twice_is_paid_once() -> None:
    pl = apply(snap([row("u1", "良好", 1, 1), row("u1", "优秀", 1, 1)]), rules=ruleset(QPAY), roster=STAFF)
    assert [(p.code, p.unit_id) for p in pl.problems] == [("duplicate_unit", "u1")]
    assert len([ln for ln in pl.lines if ln.kind == "pool"]) == 1 and pl.pools["u1"].paid_fen == 9000


def test_a_rule_set_of_another_year_is_refused() -> None:
    with pytest.raises(ValueError):
        apply(snap([row("u1", "良好", 1, 1)], period="2025-Q4"), rules=ruleset(QPAY), roster=STAFF)


GRADE = st.sampled_from(["优秀", "良好", "一般", "较差", None])


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 8))
    rows = []
    for i in range(n):
        rows.append(
            row(
                f"u{i}",
                draw(GRADE),
                i + 1,
                n,
                unit_kind=draw(st.sampled_from(["招商", "产业", ""])),
                last_place=i == n - 1 and draw(st.booleans()),
            )
        )
    roster = [
        Cadre(
            f"pk-{j:06d}",
            f"u{draw(st.integers(0, n))}",
            "一般干部",
            "科员",
            draw(st.integers(0, 10**6)),
            draw(GRADE),
        )
        for j in range(draw(st.integers(0, 30)))
    ]
    pools = draw(st.dictionaries(st.sampled_from([r.unit_id for r in rows]), st.integers(0, 10**9)))
    adjust = {
        g: str(draw(st.decimals(-1, 1, places=3))) for g in draw(st.sets(GRADE.filter(bool), min_size=1))
    }
    rules = [{**QPAY, "adjust": adjust, "graded_by": draw(st.sampled_from(["person", "unit"]))}]
    if draw(st.booleans()):
        share = str(draw(st.decimals("0.001", 1, places=3)))
        rel = {g: str(draw(st.decimals(0, 1, places=2))) for g in ["优秀", "良好", "一般", "较差"]}
        rules.append({**WITHHOLD, "share": share, "release": rel})
    if draw(st.booleans()):
        rules.append(ZERO)
    if draw(st.booleans()):
        rules.append({**COEF, "by_unit_kind": {"招商": str(draw(st.decimals("0.5", 3, places=2)))}})
    return rows, roster, pools, ruleset(*rules)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_every_pool_is_conserved_to_the_fen(case: tuple) -> None:
    rows, roster, pools, rules = case
    pl = apply(snap(rows), rules=rules, roster=roster, pools=pools)
    assert pl.pool_error_fen() == 0
    assert set(pl.pools) == {r.unit_id for r in rows}
    for uid, b in pl.pools.items():
        paid = pay_of(pl, uid)
        assert sum(paid.values()) == b.paid_fen and b.paid_fen + b.withheld_fen == b.pool_fen
        assert all(a >= 0 for a in paid.values()) and b.withheld_fen >= 0
        pool_line = next(ln for ln in pl.lines if ln.kind == "pool" and ln.unit_id == uid)
        assert pool_line.amount_fen == b.pool_fen
    # deterministic: the same inputs give the same lines
    again = apply(snap(rows), rules=rules, roster=list(reversed(roster)), pools=pools)
    assert [(ln.key, ln.amount_fen) for ln in again.lines] == [(ln.key, ln.amount_fen) for ln in pl.lines]


def test_person_factor_is_exact_not_floating() -> None:
    # 0.1 + 0.2 style factors stay exact: 1.3 : 1.0 over 2300 fen → 1300 and 1000
    rules = ruleset({**QPAY, "adjust": {"优秀": "0.3"}})
    pl = apply(snap([row("u1", "良好", 1, 1)]), rules=rules, roster=STAFF[:2], pools={"u1": 2300})
    assert pay_of(pl) == {pk("a"): 1300, pk("b"): 1000}
    assert Decimal(next(ln for ln in pl.lines if ln.person_key == pk("a")).inputs["factor"]) == Decimal("1.3")
