"""In-memory category standings (places.py) agree with engine.ranking.rank_category after any updates."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.domain.ranking import Candidate, GradeRules, rank_category
from services.scoring.service.standings import PeriodStandings

GRADE = st.sampled_from([None, None, None, "优秀", "良好", "一般", "较差"])
SCORE = st.sampled_from([55.0, 60.0, 79.999999, 80.0, 85.5, 90.0, 90.0000004, 95.0, 100.0])
OPS = st.lists(
    st.tuples(
        st.integers(0, 14),  # unit no
        st.sampled_from(["a", "b"]),  # category
        SCORE,
        GRADE,
        st.booleans(),  # drop instead of put
    ),
    max_size=60,
)


def model(n: int) -> Any:
    return SimpleNamespace(units={no: SimpleNamespace(unit_id=f"U{(no * 7) % 15:03d}") for no in range(n)})


@settings(max_examples=200, deadline=None)
@given(
    ops=OPS,
    exempt=st.sets(st.integers(0, 14), max_size=4),
    share=st.sampled_from([0.0, 0.2, 0.3, 1.0]),
    last=st.integers(0, 2),
)
def test_places_match_rank_category(ops: list[Any], exempt: set[int], share: float, last: int) -> None:
    rules = GradeRules(excellent_share=share, last_place_count=last)
    m = model(15)
    standings = PeriodStandings(seq=0, stamp=0, rules=rules)
    state: dict[int, tuple[str, float, str | None]] = {}
    for i, (no, cat, score, veto, drop) in enumerate(ops):
        if drop:
            standings.drop(no)
            state.pop(no, None)
        else:
            standings.put(m, no, cat, score, veto)
            state[no] = (cat, score, veto)
        if i % 7 == 0:  # read in between, so cached places must be dropped on change
            for c in ("a", "b"):
                standings.category(c)
    standings.set_exempt(exempt)
    for cat in ("a", "b"):
        members = {no: v for no, v in state.items() if v[0] == cat}
        cands = [Candidate(m.units[no].unit_id, s, no in exempt, v) for no, (_, s, v) in members.items()]
        expected = {r.unit_code: r for r in rank_category(cands, rules, explain=False)} if cands else {}
        got = standings.category(cat)
        assert set(got) == set(members)
        for no, pl in got.items():
            r = expected[m.units[no].unit_id]
            assert (pl.rank, pl.of, pl.grade, pl.threshold_grade, pl.in_quota, pl.last_place) == (
                r.rank,
                len(members),
                r.grade,
                r.threshold_grade,
                r.in_quota,
                r.last_place,
            )
            assert pl.exempt == (no in exempt)
        assert standings.ordered(cat) == sorted(got, key=lambda no: got[no].rank)


@settings(max_examples=300, deadline=None)
@given(
    ops=OPS,
    exempt=st.sets(st.integers(0, 14), max_size=4),
    share=st.sampled_from([0.0, 0.2, 0.3, 1.0]),
    last=st.integers(0, 2),
    thresholds=st.sampled_from(
        [
            (("优秀", 90.0), ("良好", 80.0), ("一般", 60.0)),
            (("优秀", 85.5), ("良好", 80.0)),
            (("良好", 80.0), ("优秀", 90.0), ("一般", 60.0)),  # unusual order: the full placing decides
        ]
    ),
)
def test_one_unit_place_matches_the_category(
    ops: list[Any], exempt: set[int], share: float, last: int, thresholds: Any
) -> None:
    """The scorer places a batch's units one by one; readers place whole categories: they agree."""
    rules = GradeRules(thresholds=thresholds, excellent_share=share, last_place_count=last)
    m = model(15)
    standings = PeriodStandings(seq=0, stamp=0, rules=rules)
    for no, cat, score, veto, drop in ops:
        if drop:
            standings.drop(no)
        else:
            standings.put(m, no, cat, score, veto)
    standings.set_exempt(exempt)
    alone = {no: standings.place(no) for no in standings.cat_of}  # nothing placed yet: one by one
    for cat in ("a", "b"):
        for no, pl in standings.category(cat).items():
            assert alone[no] == pl
