"""Honours, cadre consequences, N-period streaks across years and the unit→staff quota (联动)."""

from services.rewards.domain.apply import apply
from services.rewards.domain.inputs import History, PersonPast, UnitPast
from tests.rewards.unit.factory import cadre, pk, row, ruleset, snap

HEAD, MEMBER = "主要负责人", "班子成员"
YEAR = [row("u1", "优秀", 1, 5), row("u2", "优秀", 2, 5), row("u3", "良好", 3, 5), row("u4", "一般", 4, 5)]
YEAR.append(row("u5", "较差", 5, 5, last_place=True))
ROSTER = [
    cadre("h1", "u1", post=HEAD, grade="优秀"),
    cadre("m1", "u1", post=MEMBER, grade="优秀"),
    cadre("s1", "u1", grade="良好"),
    cadre("h2", "u2", post=HEAD),
    cadre("h3", "u3", post=HEAD),
    cadre("h4", "u4", post=HEAD),
    cadre("m4", "u4", post=MEMBER),
    cadre("h5", "u5", post=HEAD),
]


def run(*rules: dict, history: History | None = None, rows: list | None = None, roster: list | None = None):
    return apply(
        snap(rows or YEAR, period="2026"), rules=ruleset(*rules), roster=roster or ROSTER, history=history
    )


def who(pl, kind: str) -> list[tuple[str, str | None, str]]:
    return [(ln.unit_id, ln.person_key, ln.consequence) for ln in pl.lines if ln.kind == kind]


def test_honours_from_grade_and_rank() -> None:
    units = {
        "kind": "honour",
        "id": "adv",
        "basis": "《先进单位评选办法》",
        "honour": "先进单位",
        "condition": {"grades": ["优秀"]},
        "max_count": 1,
    }
    people = {
        "kind": "honour",
        "id": "advp",
        "basis": "《先进个人评选办法》",
        "honour": "先进个人",
        "target": "person",
        "condition": {"grades": ["优秀"]},
        "person_grades": ["优秀"],
    }
    praise = {
        "kind": "honour",
        "id": "praise",
        "basis": "通报表扬",
        "honour": "通报表扬",
        "condition": {"max_rank": 3},
    }
    pl = run(units, people, praise)
    assert who(pl, "honour") == [
        ("u1", None, "先进单位"),  # best-ranked first, max_count 1
        ("u1", pk("h1"), "先进个人"),  # head before members, then by key
        ("u1", pk("m1"), "先进个人"),
        ("u1", None, "通报表扬"),
        ("u2", None, "通报表扬"),
        ("u3", None, "通报表扬"),
    ]
    line = next(ln for ln in pl.lines if ln.rule_id == "advp")
    assert (
        line.basis == "《先进个人评选办法》"
        and line.inputs["person_grade"] == "优秀"
        and line.inputs["rank"] == 1
    )


def test_talk_for_the_head_of_a_unit_graded_fair_or_poor() -> None:
    talk = {
        "kind": "cadre",
        "id": "talk",
        "basis": "晋城市 考核结果运用办法: 一般、较差单位主要负责人提醒谈话",
        "consequence": "提醒谈话",
        "condition": {"grades": ["一般", "较差"]},
    }
    pl = run(talk)
    assert who(pl, "cadre") == [("u4", pk("h4"), "提醒谈话"), ("u5", pk("h5"), "提醒谈话")]
    # a unit whose head is missing from the roster is a problem for reviewers
    pl = run(talk, roster=[c for c in ROSTER if c.person_key != pk("h5")])
    assert [(p.code, p.unit_id, p.rule_id) for p in pl.problems] == [("no_cadre_in_post", "u5", "talk")]


ADJUST = {
    "kind": "cadre",
    "id": "adjust",
    "basis": "晋城市: 连续两年末位的单位主要负责人予以调整",
    "consequence": "调整建议",
    "condition": {"bottom": 1},
    "consecutive": 2,
}


def test_adjustment_after_two_consecutive_years_at_the_bottom() -> None:
    history = History(
        units={
            "u5": [UnitPast("2025", "较差", 6, 6)],  # bottom last year too → adjustment
            "u4": [UnitPast("2025", "较差", 6, 6)],  # bottom last year, not this year → none
        }
    )
    pl = run(ADJUST, history=history)
    assert who(pl, "cadre") == [("u5", pk("h5"), "调整建议")]
    line = next(ln for ln in pl.lines if ln.kind == "cadre")
    assert line.inputs["consecutive"] == [
        {"period": "2026", "grade": "较差", "rank": 5, "of": 5},
        {"period": "2025", "grade": "较差", "rank": 6, "of": 6},
    ]


def test_a_gap_or_a_better_year_breaks_the_run() -> None:
    gap = History(units={"u5": [UnitPast("2024", "较差", 6, 6)]})  # 2025 missing: not consecutive
    assert who(run(ADJUST, history=gap), "cadre") == []
    better = History(units={"u5": [UnitPast("2025", "良好", 2, 6), UnitPast("2024", "较差", 6, 6)]})
    assert who(run(ADJUST, history=better), "cadre") == []


def test_heads_of_top_units_enter_the_cadre_pool() -> None:
    pool = {
        "kind": "cadre",
        "id": "pool",
        "basis": "晋城市: 优秀单位主要负责人纳入\u201c两型\u201d干部库",
        "consequence": "入选干部库",
        "condition": {"grades": ["优秀"], "top_share": "0.2"},  # top 20% of 5 = rank 1
        "posts": [HEAD, MEMBER],
    }
    assert who(run(pool), "cadre") == [("u1", pk("h1"), "入选干部库"), ("u1", pk("m1"), "入选干部库")]


MERIT = {
    "kind": "streak",
    "id": "merit",
    "basis": "《公务员奖励规定》连续三年优秀记三等功",
    "subject": "person",
    "proposal": "记三等功",
    "periods": 3,
    "grades": ["优秀"],
}


def test_three_consecutive_excellent_years_propose_a_merit_even_across_a_move() -> None:
    history = History(
        persons={
            # h1 was 优秀 in another unit in 2025 and 2024: the person's own record follows them
            pk("h1"): [PersonPast("2025", "优秀"), PersonPast("2024", "优秀")],
            pk("m1"): [PersonPast("2025", "优秀"), PersonPast("2024", "良好")],
            pk("s1"): [PersonPast("2025", "优秀"), PersonPast("2024", "优秀")],  # 良好 this year
        }
    )
    pl = run(MERIT, history=history)
    assert who(pl, "streak") == [("u1", pk("h1"), "记三等功")]
    assert [r["period"] for r in pl.lines[0].inputs["consecutive"]] == ["2026", "2025", "2024"]


def test_unit_streaks_go_to_the_unit_or_its_cadres() -> None:
    unit = {
        "kind": "streak",
        "id": "collective",
        "basis": "连续三年优秀单位记功集体",
        "subject": "unit",
        "proposal": "记功集体",
        "periods": 3,
        "condition": {"grades": ["优秀"]},
    }
    history = History(units={"u1": [UnitPast("2025", "优秀"), UnitPast("2024", "优秀")]})
    assert who(run(unit, history=history), "streak") == [("u1", None, "记功集体")]
    heads = {**unit, "id": "heads", "proposal": "优先提拔", "posts": [HEAD]}
    assert who(run(heads, history=history), "streak") == [("u1", pk("h1"), "优先提拔")]


def test_quarterly_streaks_count_quarters_across_the_year_end() -> None:
    quarterly = {**MERIT, "period_kind": "quarter", "periods": 2}
    rows = [row("u1", "优秀", 1, 1)]
    history = History(
        persons={pk("h1"): [PersonPast("2025-Q4", "优秀")], pk("m1"): [PersonPast("2025-Q3", "优秀")]}
    )
    pl = apply(snap(rows, period="2026-Q1"), rules=ruleset(quarterly), roster=ROSTER, history=history)
    assert who(pl, "streak") == [("u1", pk("h1"), "记三等功")]


def test_unit_grade_sets_the_share_of_staff_rated_excellent() -> None:
    link = {
        "kind": "linkage",
        "id": "link",
        "basis": "辽阳县 单位+个人联动",
        "share_by_unit_grade": {"优秀": "0.25", "良好": "0.20", "一般": "0.15", "较差": "0.10"},
    }
    rows = [row("u1", "良好", 1, 2), row("u2", "优秀", 2, 2)]
    roster = [
        cadre(f"a{i}", "u1", grade="优秀" if i < 3 else "良好") for i in range(10)
    ]  # 3 of 10 rated 优秀
    roster += [cadre(f"b{i}", "u2", grade="优秀" if i < 2 else "良好") for i in range(8)]  # 2 of 8
    pl = apply(snap(rows, period="2026"), rules=ruleset(link), roster=roster)
    quotas = {ln.unit_id: (ln.inputs["quota"], ln.inputs["rated"]) for ln in pl.lines if ln.kind == "quota"}
    assert quotas == {"u1": (2, 3), "u2": (2, 2)}  # ⌊20% × 10⌋ = 2, ⌊25% × 8⌋ = 2
    assert [(p.code, p.unit_id, p.data["quota"], p.data["rated"]) for p in pl.problems] == [
        ("linkage_quota_exceeded", "u1", 2, 3)
    ]


def test_rules_of_another_period_kind_do_not_apply() -> None:
    pl = apply(snap(YEAR, period="2026-Q2"), rules=ruleset(MERIT, ADJUST), roster=ROSTER)
    assert pl.lines == [] and pl.problems == []
