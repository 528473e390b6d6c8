"""Consequences that are not money: honours (评先评优), cadre consequences (干部结果运用), N-period streaks
(连续N期) and the unit→staff quota (单位+个人联动). Each returns lines and problems, never raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from services.rewards.domain.conditions import UnitCondition
from services.rewards.domain.inputs import Cadre, History, SnapshotRow, previous_period
from services.rewards.domain.proposal import Line, Problem
from services.rewards.domain.rules import CadreRule, HonourRule, LinkageRule, StreakRule

_POST_ORDER = {"主要负责人": 0, "班子成员": 1, "一般干部": 2}
Staff = Mapping[str, Sequence[Cadre]]


def _unit_in(row: SnapshotRow) -> dict[str, Any]:
    return {"grade": row.grade, "rank": row.rank, "of": row.of, "category": row.category}


def _standing(row: SnapshotRow) -> tuple[Fraction, float, str]:
    """Best first across categories: share of the category ranked above, then total, then id."""
    place = Fraction(row.rank, row.of) if row.rank and row.of else Fraction(2)
    return (place, -row.total, row.unit_id)


def honours(
    rule: HonourRule, rows: Sequence[SnapshotRow], *, staff: Staff, period: str, digest: str
) -> list[Line]:
    """Proposals for an honour: qualifying units (or their qualifying staff), best first, up to max_count."""
    units = sorted((r for r in rows if rule.condition.holds(r)), key=_standing)
    out: list[Line] = []
    for row in units:
        if rule.target == "unit":
            out.append(_line(rule, row, None, "honour", rule.honour, _unit_in(row), period, digest))
        else:
            people = [
                c
                for c in staff.get(row.unit_id, ())
                if (rule.person_grades is None or c.grade in rule.person_grades)
                and (rule.posts is None or c.post in rule.posts)
            ]
            people.sort(key=lambda c: (_POST_ORDER.get(c.post, 9), c.person_key))
            for c in people:
                inputs = {**_unit_in(row), "person_grade": c.grade, "post": c.post}
                out.append(_line(rule, row, c.person_key, "honour", rule.honour, inputs, period, digest))
        if rule.max_count is not None and len(out) >= rule.max_count:
            return out[: rule.max_count]
    return out


def cadre_consequences(
    rule: CadreRule,
    rows: Sequence[SnapshotRow],
    *,
    staff: Staff,
    history: History,
    period: str,
    digest: str,
) -> tuple[list[Line], list[Problem]]:
    """Proposals for the cadres in `posts` of units meeting the condition `consecutive` periods running."""
    lines: list[Line] = []
    problems: list[Problem] = []
    for row in rows:
        run = unit_run(
            row,
            past=history.units.get(row.unit_id, ()),
            condition=rule.condition,
            n=rule.consecutive,
            period=period,
        )
        if run is None:
            continue
        people = [c for c in staff.get(row.unit_id, ()) if c.post in rule.posts]
        if not people:
            problems.append(
                Problem(
                    "no_cadre_in_post",
                    f"{rule.consequence}: unit has no cadre in {'/'.join(sorted(rule.posts))}",
                    rule_id=rule.id,
                    unit_id=row.unit_id,
                )
            )
        for c in sorted(people, key=lambda c: (_POST_ORDER.get(c.post, 9), c.person_key)):
            inputs = {**_unit_in(row), "post": c.post, "cadre_rank": c.rank, "consecutive": run}
            lines.append(_line(rule, row, c.person_key, "cadre", rule.consequence, inputs, period, digest))
    return lines, problems


def streaks(
    rule: StreakRule,
    rows: Sequence[SnapshotRow],
    *,
    staff: Staff,
    history: History,
    period: str,
    digest: str,
) -> list[Line]:
    """Proposals after N consecutive periods: of a person's own grade, or of a unit's condition."""
    out: list[Line] = []
    for row in rows:
        if rule.subject == "unit":
            assert rule.condition is not None
            run = unit_run(
                row,
                past=history.units.get(row.unit_id, ()),
                condition=rule.condition,
                n=rule.periods,
                period=period,
            )
            if run is None:
                continue
            if rule.posts is None:
                inputs = {**_unit_in(row), "consecutive": run}
                out.append(_line(rule, row, None, "streak", rule.proposal, inputs, period, digest))
                continue
            people = [c for c in staff.get(row.unit_id, ()) if c.post in rule.posts]
            for c in sorted(people, key=lambda c: (_POST_ORDER.get(c.post, 9), c.person_key)):
                inputs = {**_unit_in(row), "post": c.post, "consecutive": run}
                out.append(_line(rule, row, c.person_key, "streak", rule.proposal, inputs, period, digest))
            continue
        assert rule.grades is not None
        for c in staff.get(row.unit_id, ()):
            if c.grade not in rule.grades or (rule.posts is not None and c.post not in rule.posts):
                continue
            prun = person_run(
                c,
                past=history.persons.get(c.person_key, ()),
                grades=rule.grades,
                n=rule.periods,
                period=period,
            )
            if prun is not None:
                inputs = {**_unit_in(row), "person_grade": c.grade, "post": c.post, "consecutive": prun}
                out.append(_line(rule, row, c.person_key, "streak", rule.proposal, inputs, period, digest))
    return out


def linkage(
    rule: LinkageRule, rows: Sequence[SnapshotRow], *, staff: Staff, period: str, digest: str
) -> tuple[list[Line], list[Problem]]:
    """Each unit's quota of staff rated `person_grade` by its grade; rating more is a problem."""
    lines: list[Line] = []
    problems: list[Problem] = []
    what = f"{rule.person_grade}名额"
    for row in rows:
        people = staff.get(row.unit_id, ())
        quota = rule.quota(row.grade, len(people))
        rated = sum(1 for c in people if c.grade == rule.person_grade)
        share = str(rule.share(row.grade))
        inputs = {**_unit_in(row), "staff": len(people), "share": share, "quota": quota, "rated": rated}
        lines.append(_line(rule, row, None, "quota", what, inputs, period, digest))
        if rated > quota:
            problems.append(
                Problem(
                    "linkage_quota_exceeded",
                    f"{rated} staff rated {rule.person_grade}; a unit graded {row.grade} may rate {quota}",
                    rule_id=rule.id,
                    unit_id=row.unit_id,
                    data={"rated": rated, "quota": quota, "staff": len(people), "unit_grade": row.grade},
                )
            )
    return lines, problems


def unit_run(
    row: SnapshotRow, *, past: Sequence[Any], condition: UnitCondition, n: int, period: str
) -> list[dict[str, Any]] | None:
    """The n periods (this one first) in which the unit met the condition without a gap, or None."""
    if not condition.holds(row):
        return None
    run = [{"period": period, "grade": row.grade, "rank": row.rank, "of": row.of}]
    if n == 1:
        return run
    by_period = {p.period: p for p in past}
    p = period
    for _ in range(n - 1):
        p = previous_period(p)
        got = by_period.get(p)
        if got is None or not condition.holds(got):
            return None
        run.append({"period": p, "grade": got.grade, "rank": got.rank, "of": got.of})
    return run


def person_run(
    c: Cadre, *, past: Sequence[Any], grades: frozenset[str], n: int, period: str
) -> list[dict[str, Any]] | None:
    """The n periods (this one first) in which the person was graded in `grades` without a gap, or None."""
    run = [{"period": period, "grade": c.grade}]
    by_period = {p.period: p.grade for p in past}
    p = period
    for _ in range(n - 1):
        p = previous_period(p)
        g = by_period.get(p)
        if g not in grades:
            return None
        run.append({"period": p, "grade": g})
    return run


def _line(
    rule: Any,
    row: SnapshotRow,
    person: str | None,
    kind: Any,
    what: str,
    inputs: dict[str, Any],
    period: str,
    digest: str,
) -> Line:
    subject = "person" if person is not None else "unit"
    return Line(subject, row.unit_id, person, kind, what, rule.id, rule.basis, None, inputs, period, digest)
