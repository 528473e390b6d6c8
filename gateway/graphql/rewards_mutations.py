"""结果运用 writes, `<Entity><Verb>` with typed errors: registry (person, post), rule sets (create, update a
draft, activate), proposals (compute, adjust a line with a reason, resolve a problem, approve a level,
reject) with compare-and-set on the set's version, and the exports (payroll, 备案) as presigned URLs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, call
from gateway.graphql.rewards import (
    RewardExportPayload,
    RewardPersonPayload,
    RewardPostPayload,
    RewardProposalSetPayload,
    RewardRuleSetPayload,
    export_of,
    person_of,
    post_of,
    ruleset_of,
    set_of,
)
from gateway.graphql.rewards_common import Fen, contract, read
from gateway.policy import Op, authorize
from kaohe.contracts import rewards as c
from kaohe.errors import KaoheError

P = TypeVar("P")


async def _run(
    info: Info[Context, None],
    payload: type[P],
    op: Op,
    method: str,
    params: Callable[[], dict[str, Any]],
    build: Callable[[Any], Any],
    *,
    batch: bool = False,
) -> P:
    """Validate with the contract, call, build `node`; domain errors (and bad input) become typed errors."""
    try:
        authorize(info.context.caller, op)  # the role first: bad input of a refused caller stays refused
        result: Awaitable[Any] = call(info, op, "rewards", method, params(), batch=batch)
        return payload(node=build(await result))  # type: ignore[call-arg]
    except KaoheError as e:
        return payload(errors=[UserError.of(e)])  # type: ignore[call-arg]


@strawberry.input(description="A person of the 干部名册: the ID number is stored only as a keyed hash")
class RewardPersonInput:
    id_number: str = strawberry.field(description="居民身份证号码 (never returned, never in events or logs)")
    name: str = strawberry.field(description="姓名 (shown masked to authorised readers)")
    account: str | None = strawberry.field(default=None, description="login user id: their own ledger")


@strawberry.input(description="任职: put a person into a post from validFrom (their open posts end that day)")
class RewardPostInput:
    person_key: str
    unit_id: str
    post: str = strawberry.field(description="主要负责人 | 班子成员 | 一般干部")
    rank: str = strawberry.field(description="职级")
    monthly_pay_fen: Fen = strawberry.field(description="月奖励性绩效工资基数 (分)")  # type: ignore[valid-type]
    valid_from: date
    keep_others: bool = strawberry.field(default=False, description="a concurrent post (兼职)")


@strawberry.type
class RewardsMutation:
    @strawberry.mutation(
        description="登记干部: register a person (or update name/account), found by ID number"
    )
    async def reward_person_upsert(
        self, info: Info[Context, None], input: RewardPersonInput
    ) -> RewardPersonPayload:
        def params() -> dict[str, Any]:
            return contract(c.PersonUpsert, id_number=input.id_number, name=input.name, account=input.account)

        return await _run(info, RewardPersonPayload, Op.rewards_registry, "person_upsert", params, person_of)

    @strawberry.mutation(description="任职: a post from a date; history is kept across moves")
    async def reward_post_upsert(
        self, info: Info[Context, None], input: RewardPostInput
    ) -> RewardPostPayload:
        def params() -> dict[str, Any]:
            return contract(c.PostUpsert, **vars(input))

        def build(d: Any) -> Any:
            return post_of(read(c.PostPublic, d))

        return await _run(info, RewardPostPayload, Op.rewards_registry, "post_upsert", params, build)

    @strawberry.mutation(description="免职: end a post on a date")
    async def reward_post_end(
        self, info: Info[Context, None], post_id: int, valid_to: date
    ) -> RewardPostPayload:
        def build(d: Any) -> Any:
            return post_of(read(c.PostPublic, d))

        params = partial(contract, c.PostEnd, post_id=post_id, valid_to=valid_to)
        return await _run(info, RewardPostPayload, Op.rewards_registry, "post_end", params, build)

    @strawberry.mutation(description="新建规则版本: a draft version of an assessing unit's rules for a year")
    async def reward_rule_set_create(
        self, info: Info[Context, None], assessing_unit: str, year: int, rules: JSON
    ) -> RewardRuleSetPayload:
        params = partial(contract, c.RuleSetCreate, assessing_unit=assessing_unit, year=year, rules=rules)
        return await _run(info, RewardRuleSetPayload, Op.rewards_manage, "ruleset_create", params, ruleset_of)

    @strawberry.mutation(description="修改草稿: replace a draft's rules (compare-and-set on revision)")
    async def reward_rule_set_update(
        self,
        info: Info[Context, None],
        assessing_unit: str,
        year: int,
        version: int,
        rules: JSON,
        expected_revision: int,
    ) -> RewardRuleSetPayload:
        def params() -> dict[str, Any]:
            return contract(
                c.RuleSetUpdate,
                assessing_unit=assessing_unit,
                year=year,
                version=version,
                rules=rules,
                expected_revision=expected_revision,
            )

        return await _run(info, RewardRuleSetPayload, Op.rewards_manage, "ruleset_update", params, ruleset_of)

    @strawberry.mutation(description="启用: activate a draft (the active version before it is retired)")
    async def reward_rule_set_activate(
        self, info: Info[Context, None], assessing_unit: str, year: int, version: int, expected_revision: int
    ) -> RewardRuleSetPayload:
        def params() -> dict[str, Any]:
            return contract(
                c.RuleSetActivate,
                assessing_unit=assessing_unit,
                year=year,
                version=version,
                expected_revision=expected_revision,
            )

        return await _run(
            info, RewardRuleSetPayload, Op.rewards_manage, "ruleset_activate", params, ruleset_of
        )

    @strawberry.mutation(description="重新测算: (re)compute a snapshot's proposals with the active rule set")
    async def reward_proposals_compute(
        self, info: Info[Context, None], snapshot_id: str
    ) -> RewardProposalSetPayload:
        params = partial(contract, c.ProposalsCompute, snapshot_id=snapshot_id)
        return await _run(
            info, RewardProposalSetPayload, Op.rewards_manage, "proposals_compute", params, set_of, batch=True
        )

    @strawberry.mutation(
        description="调整: change a line's amount or drop it — a reason is required (reason_required); the"
        " difference moves to or from the unit's withheld amount so the pool still balances"
    )
    async def reward_proposal_adjust(
        self,
        info: Info[Context, None],
        set_id: int,
        line_id: int,
        expected_version: int,
        reason: str,
        amount_fen: Fen | None = None,  # type: ignore[valid-type]
        drop: bool = False,
    ) -> RewardProposalSetPayload:
        def params() -> dict[str, Any]:
            return contract(
                c.LineAdjust,
                set_id=set_id,
                line_id=line_id,
                expected_version=expected_version,
                amount_fen=amount_fen,
                drop=drop,
                reason=reason,
            )

        return await _run(
            info, RewardProposalSetPayload, Op.rewards_manage, "proposal_line_adjust", params, set_of
        )

    @strawberry.mutation(
        description="处理问题: settle a problem of the set (cap, quota, staff) with a reason"
    )
    async def reward_proposal_resolve(
        self, info: Info[Context, None], set_id: int, problem_id: int, expected_version: int, reason: str
    ) -> RewardProposalSetPayload:
        def params() -> dict[str, Any]:
            return contract(
                c.ProblemResolve,
                set_id=set_id,
                problem_id=problem_id,
                expected_version=expected_version,
                reason=reason,
            )

        return await _run(
            info, RewardProposalSetPayload, Op.rewards_manage, "proposal_problem_resolve", params, set_of
        )

    @strawberry.mutation(
        description="审批: pass level 1 (初审) or 2 (复审) of a set (compare-and-set on version); the last"
        " level applies it to the 实绩档案 and announces proposal.approved and pay.approved"
    )
    async def reward_proposal_approve(
        self,
        info: Info[Context, None],
        set_id: int,
        expected_version: int,
        level: int,
        comment: str | None = None,
    ) -> RewardProposalSetPayload:
        def params() -> dict[str, Any]:
            return contract(
                c.SetApprove, set_id=set_id, expected_version=expected_version, level=level, comment=comment
            )

        return await _run(
            info,
            RewardProposalSetPayload,
            Op.rewards_manage,
            "proposal_set_approve",
            params,
            set_of,
            batch=True,
        )

    @strawberry.mutation(description="退回: reject a set with a reason")
    async def reward_proposal_reject(
        self, info: Info[Context, None], set_id: int, expected_version: int, reason: str
    ) -> RewardProposalSetPayload:
        params = partial(
            contract, c.SetReject, set_id=set_id, expected_version=expected_version, reason=reason
        )
        return await _run(
            info, RewardProposalSetPayload, Op.rewards_manage, "proposal_set_reject", params, set_of
        )

    @strawberry.mutation(description="工资发放导出: approved pay lines as CSV or XLSX (a short-lived URL)")
    async def reward_payroll_export(
        self, info: Info[Context, None], set_id: int, format: str = "csv", unit_id: str | None = None
    ) -> RewardExportPayload:
        params = partial(contract, c.PayrollExport, set_id=set_id, format=format, unit_id=unit_id)
        return await _run(
            info, RewardExportPayload, Op.rewards_payroll, "payroll_export", params, export_of, batch=True
        )

    @strawberry.mutation(
        description="备案导出: a unit's or a person's 实绩档案 as XLSX or PDF (a short-lived URL)"
    )
    async def reward_ledger_export(
        self,
        info: Info[Context, None],
        unit_id: str | None = None,
        person_key: str | None = None,
        format: str = "xlsx",
    ) -> RewardExportPayload:
        def params() -> dict[str, Any]:
            return contract(c.LedgerExport, unit_id=unit_id, person_key=person_key, format=format)

        return await _run(
            info, RewardExportPayload, Op.rewards_own, "ledger_export", params, export_of, batch=True
        )
