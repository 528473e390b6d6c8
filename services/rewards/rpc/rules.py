"""Rule-set RPC (结果运用规则): drafts, activation, reads; thin handlers over service.rulesets."""

from __future__ import annotations

from typing import Any

from kaohe.contracts import rewards as c
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.rewards.rpc.common import conn
from services.rewards.service import rulesets


def register(rt: Runtime) -> None:
    server = rt.rpc_server()

    @server.method("ruleset_create", c.RuleSetCreate)
    async def ruleset_create(caller: Caller, p: c.RuleSetCreate) -> c.RuleSetPublic:
        async with conn(rt) as cx:
            return c.RuleSetPublic.model_validate(await rulesets.create(cx, caller, p))

    @server.method("ruleset_update", c.RuleSetUpdate)
    async def ruleset_update(caller: Caller, p: c.RuleSetUpdate) -> c.RuleSetPublic:
        async with conn(rt) as cx:
            return c.RuleSetPublic.model_validate(await rulesets.update(cx, caller, p))

    @server.method("ruleset_activate", c.RuleSetActivate)
    async def ruleset_activate(caller: Caller, p: c.RuleSetActivate) -> c.RuleSetPublic:
        async with conn(rt) as cx:
            return c.RuleSetPublic.model_validate(await rulesets.activate(cx, caller, p))

    @server.method("ruleset_get", c.RuleSetGet)
    async def ruleset_get(caller: Caller, p: c.RuleSetGet) -> c.RuleSetPublic:
        async with conn(rt, readonly=True) as cx:
            return c.RuleSetPublic.model_validate(await rulesets.get(cx, caller, p))

    @server.method("rulesets_list", c.RuleSetsList)
    async def rulesets_list(caller: Caller, p: c.RuleSetsList) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            got = await rulesets.page(cx, caller, p)
        return {"items": [c.RuleSetPublic.model_validate(i) for i in got["items"]], "next": got["next"]}
