"""The supervision test harness: a running supervision component, a unit tree, callers, event helpers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import text

from kaohe.contracts.events import EventPayload, payload_of
from kaohe.contracts.indicators import UnitChanged, UnitVersion
from kaohe.events import CloudEvent
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from kaohe.workdays import CHINA_TZ
from tests.conftest import Infra, Namespace, eventually

# 14 省 → 1405 市 (督查室) → 140501 甲镇 (lead), 140502 乙镇, 140503 丙镇; 1406 another city
UNITS = [
    ("14", "/14/", "省", None),
    ("1405", "/14/1405/", "晋城市", "14"),
    ("140501", "/14/1405/140501/", "甲镇", "1405"),
    ("140502", "/14/1405/140502/", "乙镇", "1405"),
    ("140503", "/14/1405/140503/", "丙镇", "1405"),
    ("1406", "/14/1406/", "长治市", "14"),
    ("140601", "/14/1406/140601/", "丁镇", "1406"),
]
OFFICE = Caller(user_id="duchashi", roles=frozenset({Role.supervisor}), org_path="/14/1405/")
PROVINCE = Caller(user_id="sheng", roles=frozenset({Role.supervisor}), org_path="/14/")
LEAD = Caller(user_id="jia", roles=frozenset({Role.reporter}), org_path="/14/1405/140501/")
COOP = Caller(user_id="yi", roles=frozenset({Role.reporter}), org_path="/14/1405/140502/")
THIRD = Caller(user_id="bing", roles=frozenset({Role.reporter}), org_path="/14/1405/140503/")
LEADER = Caller(user_id="shizhang", roles=frozenset({Role.leader}), org_path="/14/1405/")
KAOHEBAN = Caller(user_id="kaoheban", roles=frozenset({Role.assessment_office}), org_path="/14/1405/")
OUT_OFFICE = Caller(user_id="other", roles=frozenset({Role.supervisor}), org_path="/14/1406/")
OUT_UNIT = Caller(user_id="ding", roles=frozenset({Role.reporter}), org_path="/14/1406/140601/")
SYSTEM = Caller.system()


def at(y: int, m: int, d: int, h: int = 9) -> str:
    """A moment in Beijing time (UTC+8), as the RPC takes it."""
    return datetime(y, m, d, h, tzinfo=CHINA_TZ).isoformat()


def future(days: int) -> str:
    """A date `days` from today (deadlines of items created at the real now)."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def item_params(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "title": "城区道路积水整治",
        "problem": "雨后积水严重, 群众反映强烈",
        "source": "leader",
        "source_ref": "市长批示〔2026〕3号",
        "office_id": "1405",
        "lead": {"unit_id": "140501", "task": "牵头制定方案并组织整改", "deadline": "2026-06-30"},
        "cooperating": [{"unit_id": "140502", "task": "配合疏通管网", "deadline": "2026-06-15"}],
        "deadline": "2026-06-30",
        "measures": ["排查积水点", "疏通管网"],
    }
    p.update(over)
    return p


@dataclass
class Sup:
    rt: Runtime
    js: JetStreamContext
    client: RpcClient
    ns: Namespace
    events: list[CloudEvent] = field(default_factory=list)

    async def call(self, method: str, params: dict[str, Any], caller: Caller = OFFICE) -> Any:
        return await self.client.call("supervision", method, params, caller)

    async def send(self, payload: EventPayload, subject: str, *, time: datetime | None = None) -> CloudEvent:
        service, entity, verb = payload.TYPE.split(".")[1:]
        ev = CloudEvent(source=f"/kaohe/{service}", type=payload.TYPE, subject=subject, data=payload.data())
        if time is not None:
            ev = ev.model_copy(update={"time": time})
        await self.js.publish(f"{self.ns.prefix}.{service}.{entity}.{verb}", ev.to_bytes())
        return ev

    async def sql(self, query: str, **params: Any) -> list[Any]:
        assert self.rt.db is not None
        async with self.rt.db.uow() as s:
            res = await s.execute(text(query), params)
            return list(res.mappings()) if res.returns_rows else []  # type: ignore[attr-defined]

    async def seed_units(self) -> None:
        for rev, (uid, path, name, parent) in enumerate(UNITS, start=1):
            v = UnitVersion(name=name, kind="unit", parent_id=parent, path=path, valid_from=date(2026, 1, 1))
            await self.send(UnitChanged(unit_id=uid, change="created", version=v, revision=rev), uid)

        async def known() -> bool:
            return len(await self.sql("SELECT id FROM unit")) >= len(UNITS)

        await eventually(known, what="units learnt from unit.changed")

    async def create(self, caller: Caller = OFFICE, **over: Any) -> dict[str, Any]:
        return await self.call("item_create", item_params(**over), caller)  # type: ignore[no-any-return]

    def of(self, etype: str, **match: Any) -> list[CloudEvent]:
        return [
            e for e in self.events if e.type == etype and all(e.data.get(k) == v for k, v in match.items())
        ]


@contextlib.asynccontextmanager
async def running(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext, **settings: Any
) -> AsyncIterator[Sup]:
    """A supervision component in this test's namespace (no background sweep), stopped afterwards."""
    from services.supervision import app
    from services.supervision.settings import SupervisionSettings

    conf = SupervisionSettings(
        event_prefix=ns.prefix,
        event_stream=ns.stream,
        rpc_prefix=ns.rpc_prefix,
        shutdown_grace_s=3,
        **settings,
    )
    rt = app.setup(conf, InfraSettings(database_url=database_url, nats_url=infra.nats_url), sweep=False)
    await rt.start()
    sup = Sup(rt, js, RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=20), ns)
    invalid: list[str] = []

    async def on(msg: Any) -> None:
        ev = CloudEvent.from_bytes(msg.data)
        try:
            payload_of(ev)
        except ValueError as e:
            invalid.append(f"{ev.type}: {e}")
        sup.events.append(ev)

    sub = await nc.subscribe(f"{ns.prefix}.supervision.>", cb=on)
    try:
        yield sup
    finally:
        await sub.unsubscribe()
        await rt.stop()
    assert not invalid, invalid
