"""The bulk fast paths give exactly what their plain versions give (hypothesis).

round6 is round(x, 6); rank_columns places and grades like rank_category; group_rows, gather and
Values.build_parts match straightforward reference implementations.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kaohe.contracts.scheme import Scheme
from services.scoring.domain.batch import Values, gather
from services.scoring.domain.book import BookModel, build_model
from services.scoring.domain.config import ScoringConfig
from services.scoring.domain.ranking import Candidate, GradeRules, rank_category, rank_columns, round6
from services.scoring.repository.values import ROW
from tests.support.scoring import SCHEME

SETTINGS = settings(database=None, deadline=None, max_examples=200)

halves = st.integers(-300_000_000, 300_000_000).map(lambda k: k / 2e6)  # exact and near ties
scores = st.floats(allow_nan=False, allow_infinity=False) | st.floats(-5000, 5000) | halves


@SETTINGS
@given(st.lists(scores, max_size=60))
def test_round6_is_round(xs: list[float]) -> None:
    got = round6(xs)
    want = [round(x, 6) for x in xs]
    assert [(g, str(g)) for g in got] == [(w, str(w)) for w in want]  # str tells −0.0 from 0.0


def test_round6_is_round_on_many_scores_and_their_neighbours() -> None:
    rng = np.random.default_rng(6)
    ties = rng.integers(0, 300_000_000, 50_000) / 2e6
    xs = np.concatenate(
        [rng.random(100_000) * 150, ties, np.nextafter(ties, 0), np.nextafter(ties, 200), -ties]
    ).tolist()
    assert round6(xs) == [round(x, 6) for x in xs]


candidates = st.lists(
    st.builds(
        Candidate,
        unit_code=st.text("abcdef", min_size=1, max_size=3),
        score=st.floats(0, 100) | st.sampled_from([90.0, 80.0, 60.0, 89.9999995, 90.0000005]) | halves,
        exempt=st.booleans() | st.just(False),
        veto_cap=st.none() | st.none() | st.sampled_from(["良好", "一般", "较差"]),
    ),
    max_size=40,
    unique_by=lambda c: c.unit_code,
)
rules = st.builds(
    GradeRules,
    excellent_share=st.floats(0, 1),
    excellent_min=st.integers(0, 5),
    last_place_count=st.integers(0, 3),
    last_place_min_units=st.integers(0, 4),
)


@SETTINGS
@given(candidates, rules)
def test_rank_columns_place_like_rank_category(cands: list[Candidate], rule: GradeRules) -> None:
    places = rank_columns(
        [c.unit_code for c in cands],
        [c.score for c in cands],
        [c.exempt for c in cands],
        [c.veto_cap for c in cands],
        rule,
    )
    for explain in (True, False):
        want = rank_category(cands, rule, explain=explain)
        got = [(cands[i].unit_code, rank, grade, tg, q, last) for i, rank, grade, tg, q, last in places]
        assert got == [
            (r.unit_code, r.rank, r.grade, r.threshold_grade, r.in_quota, r.last_place) for r in want
        ]


UNITS = [(i, f"U{i}", f"单位{i}", f"/1/U{i}/", ["乡镇", "部门"][i % 2]) for i in range(0, 40, 3)]
CODES = {c: i for i, c in enumerate(["ECO", "GDP", "FAI", "GOV", "SAFE", "REV", "HONOR", "VETO"])}


def book() -> BookModel:
    scheme = Scheme.model_validate(
        {**SCHEME, "coefficients": [{"unit_id": "U3", "kind": "assessment", "value": 1.2}]}
    )
    return build_model(book=1, scheme_id="s", scheme=scheme, config=ScoringConfig(), units=UNITS, codes=CODES)


def group_rows_reference(model: BookModel, unit_nos: list[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for no in sorted(unit_nos):
        u = model.units.get(no)
        if u is not None and u.group in model.groups:
            out.setdefault(model.tree_of[u.group], []).append(no)
    return out


@SETTINGS
@given(st.lists(st.integers(-3, 45), max_size=50))
def test_group_rows_groups_like_a_plain_loop(unit_nos: list[int]) -> None:
    m = book()
    got = m.group_rows(unit_nos)
    want = group_rows_reference(m, unit_nos)
    assert list(got.items()) == list(want.items())  # same groups, same order, same lists
    assert all(type(no) is int for nos in got.values() for no in nos)


@SETTINGS
@given(st.lists(st.integers(-1, 9), max_size=12), st.lists(st.integers(0, 5), max_size=6))
def test_gather_is_fancy_indexing(rows: list[int], cols: list[int]) -> None:
    matrix = np.arange(60, dtype=np.float64).reshape(10, 6)
    r = np.array(rows, dtype=np.int64)
    got = gather(matrix, r, cols, np.nan)
    want = np.full((len(rows), len(cols)), np.nan)
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            if row >= 0:
                want[i, j] = matrix[row, col]
    assert np.array_equal(got, want, equal_nan=True)


cells = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 30), st.integers(0, 9), st.floats(-1e9, 1e9)),
    max_size=80,
    unique_by=lambda x: x[:3],  # (period, unit, code) is the value table's key
)


@SETTINGS
@given(cells)
def test_build_parts_is_build(rows: list[tuple[int, int, int, float]]) -> None:
    periods = ["2026-01", "2026-02", "2026-03", "2026-Q1"]
    n_codes = 8  # codes 8 and 9 are not the book's (dropped)
    parts = []
    for p in range(len(periods)):
        mine = [r for r in rows if r[0] == p]
        rec = np.zeros(len(mine), dtype=ROW)
        rec["u"] = [r[1] for r in mine]
        rec["c"] = [r[2] for r in mine]
        rec["v"] = [r[3] for r in mine]
        parts.append(rec)
    got = Values.build_parts(periods, n_codes, parts)
    want = Values.build(
        periods,
        n_codes,
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.float64),
    )
    assert np.array_equal(got.unit_nos, want.unit_nos)
    assert np.array_equal(got.row, want.row)
    assert np.array_equal(got.value, want.value, equal_nan=True)
    assert np.array_equal(got.present, want.present)


def test_bulk_work_pauses_the_cyclic_collector_and_restores_it() -> None:
    import gc

    from kaohe.gcpause import paused as _gc_paused

    assert gc.isenabled()
    with _gc_paused():
        assert not gc.isenabled()
        with _gc_paused():  # a second job at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first one still runs
    assert gc.isenabled()
    gc.disable()
    try:
        with _gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # someone else's choice is kept
    finally:
        gc.enable()


def test_bulk_events_are_cloudevents_with_fresh_version_4_ids() -> None:
    import uuid

    from kaohe.events import CloudEvent
    from services.scoring.service.events import bulk_event

    events = [
        bulk_event("score", "updated", f"U{i}:2026-03", {"total": i / 7, "名": "城区"}) for i in range(5000)
    ]
    ids = [e.id for e in events]
    assert len(set(ids)) == len(ids)  # more than one draw of 4,096
    for e in events[:50] + events[-50:]:
        assert uuid.UUID(e.id).version == 4
        parsed = CloudEvent.from_bytes(e.to_bytes())
        assert (parsed.id, parsed.type, parsed.subject, parsed.data) == (e.id, e.type, e.subject, e.data)
        assert parsed.source == "/kaohe/scoring"
