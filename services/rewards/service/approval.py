"""Approval (审批) of a proposal set: adjustments with reasons, problems settled, levels passed by CAS.

Every write locks the set row (FOR UPDATE) and compares `expected_version`: of two concurrent approvals
of one version, the second finds the version moved on and gets `version_conflict`. Passing the last level
appends the set's lines to the ledger (reversing what a superseded snapshot's approval entered) and emits
`proposal.approved` (≤ 500 units an event) and `pay.approved` (≤ 5,000 lines an event) in the same
transaction; the payloads name persons by their opaque key only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.rewards import (
    EventUnit,
    LineAdjust,
    PayApproved,
    ProblemResolve,
    ProposalApproved,
    SetApprove,
    SetReject,
)
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.events import Outbox
from kaohe.identity import Caller
from services.rewards.domain import ledger as chain
from services.rewards.domain.proposal import Line
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import ledger as ledger_repo
from services.rewards.repository import proposals as repo
from services.rewards.repository.connection import js, raw
from services.rewards.service import access
from services.rewards.service.inputs import announce

UNITS_PER_EVENT = 500
LINES_PER_EVENT = 5000
OPEN = ("pending", "reviewed")


async def _open_set(conn: asyncpg.Connection, caller: Caller, set_id: int, expected: int) -> asyncpg.Record:
    access.require(caller, *access.MANAGERS)
    row = await repo.get_set(conn, set_id, lock=True)
    if row is None or not await access.covers_assessing(conn, caller, row["assessing_unit"]):
        raise NotFound(f"proposal set {set_id} not found", field="set_id", code=E.NOT_FOUND)
    if row["status"] not in OPEN:
        raise Conflict(f"proposal set {set_id} is {row['status']}", field="set_id", code=E.SET_CLOSED)
    if row["version"] != expected:
        raise Conflict(
            f"proposal set {set_id} changed (version {row['version']}, expected {expected})",
            field="expected_version",
            code=E.VERSION_CONFLICT,
        )
    return row


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if len(reason) < 2:
        raise ValidationFailed(
            "reason: an adjustment needs a reason (调整理由, at least 2 characters)",
            field="reason",
            code=E.REASON_REQUIRED,
        )
    return reason


async def adjust(s: AsyncSession, caller: Caller, p: LineAdjust) -> None:
    conn = await raw(s)
    reason = _reason(p.reason)
    row = await _open_set(conn, caller, p.set_id, p.expected_version)
    line = await repo.line(conn, p.set_id, p.line_id)
    if line is None:
        raise NotFound(f"line {p.line_id} not found in set {p.set_id}", field="line_id", code=E.NOT_FOUND)
    if line["dropped"]:
        raise Conflict(f"line {p.line_id} was dropped", field="line_id", code=E.SET_CLOSED)
    current = line["amount_fen"]
    if line["kind"] == "pay":
        target = 0 if p.drop else p.amount_fen
        assert target is not None
        delta = target - (current or 0)
        unit = await repo.unit_balance(conn, p.set_id, line["unit_id"])
        assert unit is not None
        if delta > unit["withheld_fen"]:
            raise Conflict(
                f"amount_fen: {target} would pay {delta - unit['withheld_fen']} fen more than unit"
                f" {line['unit_id']}'s pool has left ({unit['withheld_fen']} fen withheld or unallocated)",
                field="amount_fen",
                code=E.POOL_EXCEEDED,
            )
        await repo.move_pay(conn, p.set_id, line["unit_id"], delta)
        await repo.set_line(conn, p.set_id, p.line_id, target, p.drop)
    elif p.amount_fen is not None:
        raise ValidationFailed(
            f"amount_fen: line {p.line_id} ({line['kind']}) is not a pay line; it can only be dropped",
            field="amount_fen",
            code=E.NOT_MONEY,
        )
    else:
        await repo.set_line(conn, p.set_id, p.line_id, current, True)
    new = 0 if p.drop and line["kind"] == "pay" else p.amount_fen
    await repo.add_review(
        conn,
        p.set_id,
        level=row["level"] + 1,
        decision="adjusted",
        by=caller.user_id,
        comment=reason,
        line_no=p.line_id,
        from_fen=current,
        to_fen=new,
        dropped=p.drop,
    )
    await repo.bump(conn, p.set_id)


async def resolve(s: AsyncSession, caller: Caller, p: ProblemResolve) -> None:
    conn = await raw(s)
    reason = _reason(p.reason)
    row = await _open_set(conn, caller, p.set_id, p.expected_version)
    if not await repo.resolve(conn, p.set_id, p.problem_id, caller.user_id, reason):
        raise NotFound(
            f"open problem {p.problem_id} not found in set {p.set_id}", field="problem_id", code=E.NOT_FOUND
        )
    await repo.add_review(
        conn, p.set_id, level=row["level"] + 1, decision="resolved", by=caller.user_id, comment=reason
    )
    await repo.bump(conn, p.set_id)


async def reject(s: AsyncSession, caller: Caller, p: SetReject) -> None:
    conn = await raw(s)
    reason = _reason(p.reason)
    row = await _open_set(conn, caller, p.set_id, p.expected_version)
    await repo.add_review(
        conn, p.set_id, level=row["level"] + 1, decision="rejected", by=caller.user_id, comment=reason
    )
    await repo.bump(conn, p.set_id, status="rejected")


async def approve(s: AsyncSession, caller: Caller, p: SetApprove, *, outbox: Outbox) -> None:
    conn = await raw(s)
    row = await _open_set(conn, caller, p.set_id, p.expected_version)
    if p.level != row["level"] + 1:
        raise Conflict(
            f"level: set {p.set_id} awaits level {row['level'] + 1}",
            field="level",
            code=E.WRONG_LEVEL,
            details=[{"expected": row["level"] + 1}],
        )
    passed = [r for r in await repo.reviews(conn, p.set_id) if r["decision"] == "approved"]
    if any(r["by_user"] == caller.user_id for r in passed):
        raise Conflict(
            "one reviewer may not pass two levels of the same set", field="level", code=E.SAME_REVIEWER
        )
    open_ = [r["problem_id"] for r in await repo.problems(conn, p.set_id) if r["resolved_by"] is None]
    if open_:
        raise Conflict(
            f"{len(open_)} problem(s) must be resolved before approval",
            field="set_id",
            code=E.PROBLEMS_OPEN,
            details=[{"problem_id": i} for i in open_],
        )
    await repo.add_review(
        conn, p.set_id, level=p.level, decision="approved", by=caller.user_id, comment=p.comment
    )
    final = p.level >= row["levels"]
    await repo.bump(conn, p.set_id, level=p.level, status="approved" if final else "reviewed")
    if not final:
        await announce(s, conn, outbox, p.set_id, problems=0)
        return
    await _apply(s, conn, row, outbox)


async def _apply(s: AsyncSession, conn: asyncpg.Connection, row: asyncpg.Record, outbox: Outbox) -> None:
    """Ledger entries for the set's lines (reversals of what changed), then the events."""
    set_id, scope, period = row["set_id"], row["assessing_unit"], row["period"]
    rows = await repo.live_lines(conn, set_id)
    lines = [
        Line(
            r["subject"],
            r["unit_id"],
            r["person_key"],
            r["kind"],
            r["consequence"],
            r["rule_id"],
            r["basis"],
            r["amount_fen"],
            js(r["inputs"]),
            period,
            row["snapshot_digest"],
        )
        for r in rows
    ]
    existing = await ledger_repo.of_scope(conn, scope, period)
    holders = {x.holder for x in lines} | {e.holder for e in existing}
    heads = await ledger_repo.heads(conn, sorted(holders))
    earlier = await repo.approved_of(conn, scope, row["scheme_id"], period, set_id)
    reason = f"重新发布的考核结果 (snapshot {row['snapshot_id']})" if earlier else None
    new = chain.record(
        [*heads, *existing],
        lines,
        scope=scope,
        period=period,
        ruleset_ref=row["ruleset_ref"],
        recorded_at=datetime.now(UTC),
        reason=reason,
    )
    if new:
        await ledger_repo.append(conn, new, set_id)
    for old in earlier:
        await conn.execute("UPDATE proposal_set SET superseded_by = $2 WHERE set_id = $1", old, set_id)
    await _events(s, conn, row, rows, outbox)


async def _events(
    s: AsyncSession,
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    lines: list[asyncpg.Record],
    outbox: Outbox,
) -> None:
    subject = f"{row['assessing_unit']}:{row['period']}"
    balances = await repo.units(conn, row["set_id"])
    path_of = {u["unit_id"]: u["unit_path"] for u in balances}
    consequences: dict[str, list[dict[str, str | None]]] = {}
    pay: list[dict[str, Any]] = []  # PayLine's fields, validated a batch at a time by PayApproved
    for r in lines:
        if r["kind"] == "pay":
            pay.append(
                {"person_key": r["person_key"], "unit_id": r["unit_id"], "amount_fen": r["amount_fen"] or 0,
                 "rule_id": r["rule_id"], "unit_path": path_of.get(r["unit_id"])}
            )  # fmt: skip
        elif r["kind"] in ("honour", "cadre", "streak", "zeroed"):
            consequences.setdefault(r["unit_id"], []).append(
                {"person_key": r["person_key"], "consequence": r["consequence"], "rule_id": r["rule_id"]}
            )
    units = [
        EventUnit(
            unit_id=u["unit_id"],
            unit_path=u["unit_path"],
            pool_fen=u["pool_fen"],
            paid_fen=u["paid_fen"],
            withheld_fen=u["withheld_fen"],
            consequences=consequences.get(u["unit_id"], []),
        )
        for u in balances
    ]
    common: dict[str, Any] = {
        "set_id": row["set_id"],
        "assessing_unit": row["assessing_unit"],
        "period": row["period"],
    }
    batches = max(1, -(-len(units) // UNITS_PER_EVENT))
    for i in range(batches):
        payload = ProposalApproved(
            **common,
            scheme_id=row["scheme_id"],
            snapshot_id=row["snapshot_id"],
            snapshot_digest=row["snapshot_digest"],
            ruleset_ref=row["ruleset_ref"],
            batch=i + 1,
            batches=batches,
            units=units[i * UNITS_PER_EVENT : (i + 1) * UNITS_PER_EVENT],
        )
        await outbox.emit(s, payload.event(subject=subject))
    batches = -(-len(pay) // LINES_PER_EVENT)
    for i in range(batches):
        chunk = pay[i * LINES_PER_EVENT : (i + 1) * LINES_PER_EVENT]
        payload2 = PayApproved.model_validate(
            {
                **common,
                "snapshot_digest": row["snapshot_digest"],
                "batch": i + 1,
                "batches": batches,
                "lines": chunk,
            }
        )
        await outbox.emit(s, payload2.event(subject=subject))
