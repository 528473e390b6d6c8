"""Snapshot × rules × cadre roster × history → the proposal list (拟运用清单).

One pass over the roster groups staff by unit; one pass over the snapshot computes each unit's pool and
pay lines; honours, cadre consequences, streaks and the unit→staff quota follow. Quotas and caps are
checked and reported as problems. Pure and deterministic: the same inputs give the same lines in the same
order (units in snapshot order, staff by person key), so a what-if and a re-run compare line by line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kaohe.contracts.standards import GRADES
from kaohe.gcpause import paused
from services.rewards.domain import consequences as cq
from services.rewards.domain.inputs import (
    POSTS,
    Cadre,
    History,
    Snapshot,
    SnapshotRow,
    months_in,
    opaque_key_problem,
    period_kind,
)
from services.rewards.domain.pay import PayRules, check_caps, int_factors, pay_unit
from services.rewards.domain.proposal import Line, PoolBalance, Problem, ProposalList
from services.rewards.domain.rules import (
    CadreRule,
    HonourRule,
    LinkageRule,
    QuarterlyPayRule,
    RuleSet,
    StreakRule,
)

_GRADES = frozenset(GRADES)
Grouped = tuple[dict[str, list[Cadre]], list[Problem]]  # what group_staff returns
_POSTS = frozenset(POSTS)


def apply(
    snapshot: Snapshot,
    *,
    rules: RuleSet,
    roster: Sequence[Cadre],
    history: History | None = None,
    pools: Mapping[str, int] | None = None,
    grouped: Grouped | None = None,
) -> ProposalList:
    """All proposals of a published period under a rule set; `pools` are base pools in fen by unit id.

    `grouped`: `group_staff(roster, units=…)` of this snapshot's units when the caller applies several
    rule sets to the same roster (a what-if), so the roster is checked and grouped once.

    Raises ValueError only for a call that cannot mean anything (a rule set of another year, a period
    that is not a period); everything about the data is reported as a problem.
    """
    period = snapshot.period
    kind = period_kind(period)
    if int(period[:4]) != rules.year:
        raise ValueError(f"rule set {rules.ref} is for {rules.year}, the snapshot is of {period}")
    history = history or History()
    with paused():  # hundreds of thousands of acyclic lines: let reference counting free them
        return _apply(
            snapshot, period, kind, rules=rules, roster=roster, history=history, pools=pools, grouped=grouped
        )


def _apply(
    snapshot: Snapshot,
    period: str,
    kind: str,
    *,
    rules: RuleSet,
    roster: Sequence[Cadre],
    history: History,
    pools: Mapping[str, int] | None,
    grouped: Grouped | None,
) -> ProposalList:
    pools = pools or {}
    digest = snapshot.digest
    problems: list[Problem] = []
    rows = _unique_units(snapshot.rows, problems)
    staff, trouble = grouped if grouped is not None else group_staff(roster, units={r.unit_id for r in rows})
    problems.extend(trouble)
    active = rules.for_period(kind)
    lines: list[Line] = []
    balances: dict[str, PoolBalance] = {}

    money = PayRules.of(active)
    if money.primary is not None:
        months = months_in(period)
        factors = money.person_factors()
        weights = int_factors(factors)
        counted: dict[str, tuple[int, dict[str, int]]] = {}
        pay = money.pay
        for row in rows:
            people = staff.get(row.unit_id, ())
            base = pools.get(row.unit_id)
            if base is not None and base < 0:
                problems.append(Problem("negative_pool", "base pool below 0; 0 used", unit_id=row.unit_id))
                base = 0
            got, balance, trouble = pay_unit(
                row,
                staff=people,
                rules=money,
                months=months,
                base_pool=base,
                factors=factors,
                weights_by_grade=weights,
                period=period,
                digest=digest,
            )
            lines.extend(got)
            problems.extend(trouble)
            balances[row.unit_id] = balance
            if isinstance(pay, QuarterlyPayRule) and pay.caps:
                counted[row.unit_id] = _adjusted(pay, row.grade, people)
        if isinstance(pay, QuarterlyPayRule) and pay.caps:
            problems.extend(check_caps(pay, counted=counted))

    for rule in active:
        if isinstance(rule, HonourRule):
            lines.extend(cq.honours(rule, rows, staff=staff, period=period, digest=digest))
        elif isinstance(rule, CadreRule):
            got, trouble = cq.cadre_consequences(
                rule, rows, staff=staff, history=history, period=period, digest=digest
            )
            lines.extend(got)
            problems.extend(trouble)
        elif isinstance(rule, StreakRule):
            lines.extend(cq.streaks(rule, rows, staff=staff, history=history, period=period, digest=digest))
        elif isinstance(rule, LinkageRule):
            got, trouble = cq.linkage(rule, rows, staff=staff, period=period, digest=digest)
            lines.extend(got)
            problems.extend(trouble)

    return ProposalList(
        period=period,
        snapshot_id=snapshot.snapshot_id,
        snapshot_digest=digest,
        ruleset_ref=rules.ref,
        ruleset_digest=rules.digest,
        lines=lines,
        pools=balances,
        problems=problems,
    )


def _unique_units(rows: Sequence[SnapshotRow], problems: list[Problem]) -> list[SnapshotRow]:
    """Each unit once (a unit listed twice would have two pools): later rows are dropped as problems."""
    seen: set[str] = set()
    out = []
    for r in rows:
        if r.unit_id in seen:
            problems.append(
                Problem(
                    "duplicate_unit", "the unit is listed twice; the first row is used", unit_id=r.unit_id
                )
            )
            continue
        seen.add(r.unit_id)
        out.append(r)
    return out


def _adjusted(
    rule: QuarterlyPayRule, unit_grade: str | None, people: Sequence[Cadre]
) -> tuple[int, dict[str, int]]:
    """Staff count and how many of them get each grade's adjustment (their own grade or the unit's)."""
    if rule.graded_by == "unit":
        return len(people), ({unit_grade: len(people)} if unit_grade in rule.adjust else {})
    by: dict[str, int] = {}
    for c in people:
        if c.grade in rule.adjust:
            by[c.grade] = by.get(c.grade, 0) + 1  # type: ignore[index]
    return len(people), by


def group_staff(roster: Sequence[Cadre], *, units: set[str]) -> tuple[dict[str, list[Cadre]], list[Problem]]:
    """Usable roster rows of the snapshot's units, by unit and person key; unusable rows become problems.

    A key that is not opaque (a name, an ID-card number) is dropped and reported by its row number only,
    so the identifier never reaches a line, a ledger entry or a log.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    out: dict[str, list[Cadre]] = {}
    for i, c in enumerate(roster):
        if c.unit_id not in units:
            continue  # staff of units this snapshot does not assess
        if (why := opaque_key_problem(c.person_key)) is not None:
            problems.append(Problem("person_key_not_opaque", f"roster row {i}: {why}", data={"row": i}))
            continue
        if c.person_key in seen:
            problems.append(_row(i, c, "duplicate_person", "listed twice; the first row is used"))
            continue
        if c.monthly_pay_fen < 0:
            problems.append(_row(i, c, "negative_pay", "a monthly pay base is negative; row dropped"))
            continue
        seen.add(c.person_key)
        if c.post not in _POSTS:
            problems.append(_row(i, c, "unknown_post", f"post {c.post!r} is none of {', '.join(POSTS)}"))
        if c.grade is not None and c.grade not in _GRADES:
            problems.append(_row(i, c, "unknown_grade", f"grade {c.grade!r} is none of {', '.join(GRADES)}"))
            c = Cadre(c.person_key, c.unit_id, c.post, c.rank, c.monthly_pay_fen, None)
        out.setdefault(c.unit_id, []).append(c)
    for people in out.values():
        people.sort(key=_by_key)
    return out, problems


def _by_key(c: Cadre) -> str:
    return c.person_key


def _row(i: int, c: Cadre, code: str, message: str) -> Problem:
    data: dict[str, Any] = {"row": i}
    return Problem(code, f"roster row {i}: {message}", unit_id=c.unit_id, person_key=c.person_key, data=data)
