"""Rule-set use cases (结果运用规则): drafts validated by the domain, activated once, immutable after."""

from __future__ import annotations

from typing import Any

import asyncpg

from kaohe.contracts.pages import decode_cursor, encode_cursor
from kaohe.contracts.rewards import RuleSetActivate, RuleSetCreate, RuleSetGet, RuleSetsList, RuleSetUpdate
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from services.rewards.domain.rules import RuleSet, RuleSetInvalid, parse_ruleset
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import rulesets as repo
from services.rewards.repository.connection import js
from services.rewards.service import access


def checked(assessing_unit: str, year: int, version: int, rules: list[dict[str, Any]]) -> RuleSet:
    """The domain's rule set, or `ruleset_invalid` naming each rule and field."""
    try:
        return parse_ruleset(
            {"assessing_unit": assessing_unit, "year": year, "version": version, "rules": rules}
        )
    except RuleSetInvalid as e:
        first = e.problems[0]
        raise ValidationFailed(
            f"rules: {e}",
            field=f"rules.{first.rule}.{first.field}" if first.rule else f"rules.{first.field}",
            code=E.RULESET_INVALID,
            details=[p.model_dump() for p in e.problems],
        ) from None


def of_record(r: asyncpg.Record) -> RuleSet:
    return checked(r["assessing_unit"], r["year"], r["version"], js(r["rules"]))


def public(r: asyncpg.Record) -> dict[str, Any]:
    d = dict(r)
    d["rules"] = js(d["rules"])
    d["ref"] = f"{d['assessing_unit']}/{d['year']}/v{d['version']}"
    return d


async def create(conn: asyncpg.Connection, caller: Caller, p: RuleSetCreate) -> dict[str, Any]:
    access.require(caller, *access.MANAGERS)
    await access.require_assessing(conn, caller, p.assessing_unit, "assessing_unit")
    rs = checked(p.assessing_unit, p.year, 1, p.rules)
    rules = [r.model_dump(mode="json") for r in rs.rules]
    row = await repo.create(
        conn, assessing_unit=p.assessing_unit, year=p.year, rules=rules, digest=rs.digest, by=caller.user_id
    )
    return public(row)


async def _draft(
    conn: asyncpg.Connection, caller: Caller, p: RuleSetUpdate | RuleSetActivate
) -> asyncpg.Record:
    access.require(caller, *access.MANAGERS)
    await access.require_assessing(conn, caller, p.assessing_unit, "assessing_unit")
    row = await repo.get(conn, p.assessing_unit, p.year, p.version, lock=True)
    if row is None:
        raise NotFound(
            f"rule set {p.assessing_unit}/{p.year}/v{p.version} not found", field="version", code=E.NOT_FOUND
        )
    if row["status"] != "draft":
        raise Conflict(
            f"rule set {p.assessing_unit}/{p.year}/v{p.version} is {row['status']}: a new version is needed",
            field="version",
            code=E.RULESET_IMMUTABLE,
        )
    if row["revision"] != p.expected_revision:
        raise Conflict(
            f"the draft changed (revision {row['revision']}, expected {p.expected_revision})",
            field="expected_revision",
            code=E.VERSION_CONFLICT,
        )
    return row


async def update(conn: asyncpg.Connection, caller: Caller, p: RuleSetUpdate) -> dict[str, Any]:
    await _draft(conn, caller, p)
    rs = checked(p.assessing_unit, p.year, p.version, p.rules)
    rules = [r.model_dump(mode="json") for r in rs.rules]
    return public(await repo.update(conn, (p.assessing_unit, p.year, p.version), rules, rs.digest))


async def activate(conn: asyncpg.Connection, caller: Caller, p: RuleSetActivate) -> dict[str, Any]:
    row = await _draft(conn, caller, p)
    of_record(row)  # still valid under today's domain rules
    return public(await repo.activate(conn, (p.assessing_unit, p.year, p.version)))


async def get(conn: asyncpg.Connection, caller: Caller, p: RuleSetGet) -> dict[str, Any]:
    access.require(caller, *access.READERS)
    row = await repo.get(conn, p.assessing_unit, p.year, p.version)
    if row is None or not await access.covers_assessing(conn, caller, p.assessing_unit):
        what = f"v{p.version}" if p.version else "active"
        raise NotFound(
            f"rule set {p.assessing_unit}/{p.year}/{what} not found", field="version", code=E.NOT_FOUND
        )
    return public(row)


async def page(conn: asyncpg.Connection, caller: Caller, p: RuleSetsList) -> dict[str, Any]:
    access.require(caller, *access.READERS)
    key = decode_cursor(p.after, 3)
    after = (str(key[0]), int(key[1]), int(key[2])) if key else None
    items: list[dict[str, Any]] = []
    while True:  # rule sets of assessing units outside the caller's subtree are skipped, not counted
        rows = await repo.page(conn, assessing_unit=p.assessing_unit, year=p.year, after=after, limit=200)
        for r in rows:
            after = (r["assessing_unit"], r["year"], r["version"])
            if await access.covers_assessing(conn, caller, r["assessing_unit"]):
                items.append(public(r))
                if len(items) > p.first:
                    break
        if len(items) > p.first or len(rows) < 200:
            break
    more = len(items) > p.first
    items = items[: p.first]
    last = items[-1] if items else None
    nxt = encode_cursor(last["assessing_unit"], last["year"], last["version"]) if more and last else None
    return {"items": items, "next": nxt}
