"""结果运用 reads: the cadre registry, rule sets, snapshots, proposal sets with explained lines, the ledger
(实绩档案) per unit and per person with its verification, and what-if (模拟测算, writes nothing)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, call, connection, decode_cursor, page_size
from gateway.graphql.rewards import (
    RewardCadre,
    RewardLedgerEntry,
    RewardLedgerVerdict,
    RewardPerson,
    RewardProposalLine,
    RewardProposalSet,
    RewardRuleSet,
    RewardSnapshot,
    RewardWhatIf,
    cadre_of,
    entry_of,
    line_of,
    person_of,
    ruleset_of,
    set_of,
    snapshot_of,
    verdict_of,
    whatif_of,
)
from gateway.graphql.rewards_common import contract
from gateway.policy import Op
from kaohe.contracts import rewards as c
from kaohe.errors import ValidationFailed


def _page(info: Info[Context, None], first: int | None, after: str | None) -> dict[str, Any]:
    return {"first": page_size(info, first), "after": decode_cursor(after)}


async def _rewards(info: Info[Context, None], op: Op, method: str, params: dict[str, Any]) -> Any:
    return await call(info, op, "rewards", method, params)


@strawberry.type
class RewardsQuery:
    @strawberry.field(description="干部名册: a person with post history, if one of their units is yours")
    async def reward_person(self, info: Info[Context, None], person_key: str) -> RewardPerson:
        p = contract(c.PersonGet, person_key=person_key)
        return person_of(await _rewards(info, Op.rewards_own, "person_get", p))

    @strawberry.field(
        description="干部名册: the cadres of a unit (or its subtree) as of a date, by person key"
    )
    async def reward_cadres(
        self,
        info: Info[Context, None],
        unit_id: str,
        as_of: str | None = None,
        subtree: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RewardCadre]:
        p = contract(c.CadresList, unit_id=unit_id, as_of=as_of, subtree=subtree, **_page(info, first, after))
        r = await _rewards(info, Op.rewards_read, "cadres_list", p)
        return connection(r["items"], r.get("next"), cadre_of, key="person_key")

    @strawberry.field(
        description="结果运用规则: one version of an assessing unit's rule set (default: active)"
    )
    async def reward_rule_set(
        self, info: Info[Context, None], assessing_unit: str, year: int, version: int | None = None
    ) -> RewardRuleSet:
        p = contract(c.RuleSetGet, assessing_unit=assessing_unit, year=year, version=version)
        return ruleset_of(await _rewards(info, Op.rewards_read, "ruleset_get", p))

    @strawberry.field(description="结果运用规则: rule-set versions in your subtree")
    async def reward_rule_sets(
        self,
        info: Info[Context, None],
        assessing_unit: str | None = None,
        year: int | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RewardRuleSet]:
        p = contract(c.RuleSetsList, assessing_unit=assessing_unit, year=year, **_page(info, first, after))
        r = await _rewards(info, Op.rewards_read, "rulesets_list", p)
        return connection(r["items"], r.get("next"), ruleset_of, key="ref")

    @strawberry.field(description="Published snapshots rewards received (and their current proposal set)")
    async def reward_snapshots(
        self,
        info: Info[Context, None],
        scheme_id: str | None = None,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RewardSnapshot]:
        p = contract(c.SnapshotsList, scheme_id=scheme_id, period=period, **_page(info, first, after))
        r = await _rewards(info, Op.rewards_read, "snapshots_list", p)
        return connection(r["items"], r.get("next"), snapshot_of, key="snapshot_id")

    @strawberry.field(
        description="拟运用清单: proposal sets, newest first; awaitingMe: those you may review now"
    )
    async def reward_proposal_sets(
        self,
        info: Info[Context, None],
        assessing_unit: str | None = None,
        period: str | None = None,
        status: str | None = None,
        awaiting_me: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RewardProposalSet]:
        p = contract(
            c.ProposalSetsList,
            assessing_unit=assessing_unit,
            period=period,
            status=status,
            awaiting_me=awaiting_me,
            **_page(info, first, after),
        )
        r = await _rewards(info, Op.rewards_read, "proposal_sets_list", p)
        return connection(r["items"], r.get("next"), set_of, key="set_id")

    @strawberry.field(description="拟运用清单: one proposal set with its problems and reviews")
    async def reward_proposal_set(self, info: Info[Context, None], set_id: int) -> RewardProposalSet:
        p = contract(c.SetRef, set_id=set_id)
        return set_of(await _rewards(info, Op.rewards_read, "proposal_set_get", p))

    @strawberry.field(
        description="Lines of a proposal set, each explained (rule, 文件依据, inputs, snapshot digest);"
        " filter by unit (its lines and its staff's), person or kind"
    )
    async def reward_proposal_lines(
        self,
        info: Info[Context, None],
        set_id: int,
        unit_id: str | None = None,
        person_key: str | None = None,
        kind: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RewardProposalLine]:
        p = contract(
            c.ProposalLines,
            set_id=set_id,
            unit_id=unit_id,
            person_key=person_key,
            kind=kind,
            **_page(info, first, after),
        )
        r = await _rewards(info, Op.rewards_read, "proposal_lines", p)
        return connection(r["items"], r.get("next"), line_of, key="line_id")

    @strawberry.field(description="实绩档案 of a unit (give unitId) or a person (personKey), in chain order")
    async def reward_ledger(
        self,
        info: Info[Context, None],
        unit_id: str | None = None,
        person_key: str | None = None,
        period: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RewardLedgerEntry]:
        page = _page(info, first, after)
        if (unit_id is None) == (person_key is None):
            raise ValidationFailed("give exactly one of unitId and personKey", field="unit_id", code="one_of")
        if unit_id is not None:
            p = contract(c.LedgerUnit, unit_id=unit_id, period=period, **page)
            r = await _rewards(info, Op.rewards_read, "ledger_unit", p)
        else:
            p = contract(c.LedgerPerson, person_key=person_key, period=period, **page)
            r = await _rewards(info, Op.rewards_own, "ledger_person", p)
        return connection(r["items"], r.get("next"), entry_of, key="seq")

    @strawberry.field(
        description="Verify 实绩档案 chains: one unit's or person's, or every chain in your subtree"
    )
    async def reward_ledger_verify(
        self, info: Info[Context, None], unit_id: str | None = None, person_key: str | None = None
    ) -> RewardLedgerVerdict:
        p = contract(c.LedgerVerify, unit_id=unit_id, person_key=person_key)
        return verdict_of(await _rewards(info, Op.rewards_manage, "ledger_verify", p))

    @strawberry.field(
        description="模拟测算: a draft rule-set version (or inline rules) against a published snapshot,"
        " compared with the active rules — who gains, who loses, the pool balance. Writes nothing."
    )
    async def reward_what_if(
        self,
        info: Info[Context, None],
        snapshot_id: str,
        version: int | None = None,
        rules: JSON | None = None,
        top: int = 50,
    ) -> RewardWhatIf:
        p = contract(c.WhatIfRun, snapshot_id=snapshot_id, version=version, rules=rules, top=top)
        # a whole snapshot computed twice: the batch deadline
        return whatif_of(await call(info, Op.rewards_manage, "rewards", "whatif_run", p, batch=True))
