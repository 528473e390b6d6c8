"""The rewards test harness: a running rewards component, its events, and builders of its inputs.

The fixtures that start it live in tests/rewards/conftest.py; not shipped in the image."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.contracts.events import EventPayload
from kaohe.contracts.indicators import RosterUnit, SchemePublished
from kaohe.contracts.scheme import Scheme
from kaohe.contracts.scoring import PublishedUnit, ResultsPublished
from kaohe.errors import KaoheError
from kaohe.events import CloudEvent
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from tests.conftest import Infra, Namespace, eventually
from tests.support.scoring import SCHEME, UNITS

CITY = "1405"
OFFICE = Caller(user_id="office-1", roles=frozenset({Role.assessment_office}), org_path="/14/1405/")
ORG = Caller(user_id="org-1", roles=frozenset({Role.organisation}), org_path="/14/")
OUTSIDER = Caller(user_id="office-x", roles=frozenset({Role.assessment_office}), org_path="/15/")
REPORTER = Caller(user_id="rep-1", roles=frozenset({Role.reporter}), org_path="/14/1405/140501/")
HR = Caller(user_id="hr", roles=frozenset({Role.integration}), org_path="/14/")


@dataclass
class Rewards:
    rt: Runtime
    js: JetStreamContext
    client: RpcClient
    ns: Namespace

    async def send(self, payload: EventPayload, subject: str, *, event_id: str | None = None) -> CloudEvent:
        """Publish a contract payload as its producer would (the same id again is a duplicate delivery)."""
        _, service, entity, verb = payload.TYPE.split(".")
        ev = payload.event(subject=subject)
        if event_id is not None:
            ev = ev.model_copy(update={"id": event_id})
        await self.js.publish(f"{self.ns.prefix}.{service}.{entity}.{verb}", ev.to_bytes())
        return ev

    async def call(self, method: str, params: dict[str, Any], caller: Caller = OFFICE) -> Any:
        return await self.client.call("rewards", method, params, caller)

    async def error(self, method: str, params: dict[str, Any], caller: Caller = OFFICE) -> KaoheError:
        """The error a call answers with (the test fails when it succeeds)."""
        try:
            await self.call(method, params, caller)
        except KaoheError as e:
            return e
        raise AssertionError(f"{method} succeeded for {caller.user_id}")

    async def scheme(self, year: int = 2026, units: list[dict[str, Any]] | None = None) -> str:
        """A published scheme of the city for `year`; returns once rewards knows its units."""
        sid = f"scheme-{year}-{uuid.uuid4().hex[:6]}"
        body = {**SCHEME, "year": year}
        payload = SchemePublished(
            scheme_id=sid,
            assessing_unit=CITY,
            year=year,
            version=1,
            scheme=Scheme.model_validate(body),
            units=[RosterUnit.model_validate(u) for u in units or UNITS],
            published_at=datetime(year, 1, 15, 8, tzinfo=UTC),
            published_by="office",
        )
        await self.send(payload, sid)
        last = (units or UNITS)[-1]["unit_id"]

        async def known() -> bool:
            try:
                await self.call("cadres_list", {"unit_id": last}, ORG)
            except KaoheError:
                return False
            return True

        await eventually(known, what=f"scheme {sid} stored")
        return sid

    async def publish(
        self,
        scheme_id: str,
        period: str,
        rows: list[dict[str, Any]],
        *,
        digest: str | None = None,
        snapshot_id: str | None = None,
        event_id: str | None = None,
    ) -> ResultsPublished:
        """`results.published` of a snapshot whose rows are {unit_id, grade, rank, of, last_place?, …}."""
        paths = {u["unit_id"]: u["path"] for u in UNITS}
        units = [
            PublishedUnit(
                unit_id=r["unit_id"],
                unit_path=paths.get(r["unit_id"], f"/14/1405/{r['unit_id']}/"),
                category=r.get("category", "乡镇"),
                total=r.get("total", 90.0 - (r.get("rank") or 0)),
                rank=r.get("rank"),
                of=r.get("of"),
                grade=r.get("grade"),
                last_place=r.get("last_place", False),
            )
            for r in rows
        ]
        payload = ResultsPublished(
            scheme_id=scheme_id,
            period=period,
            snapshot_id=snapshot_id or f"snap-{uuid.uuid4().hex[:10]}",
            digest=digest or uuid.uuid4().hex * 2,
            units=units,
        )
        await self.send(payload, f"{scheme_id}:{period}", event_id=event_id)
        return payload

    async def sets(self, caller: Caller = OFFICE, **filters: Any) -> list[dict[str, Any]]:
        return (await self.call("proposal_sets_list", {"first": 100, **filters}, caller))["items"]  # type: ignore[no-any-return]

    async def current_set(self, snapshot_id: str) -> dict[str, Any]:
        """The (not superseded) proposal set of a snapshot, once the consumer stored it."""
        found: dict[str, Any] = {}

        async def stored() -> bool:
            for s in await self.sets():
                if s["snapshot_id"] == snapshot_id and s["status"] != "superseded":
                    found.update(s)
                    return True
            return False

        await eventually(stored, what=f"proposals of {snapshot_id}")
        return found

    async def lines(self, set_id: int, caller: Caller = OFFICE, **filters: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = None
        while True:
            page = await self.call(
                "proposal_lines", {"set_id": set_id, "first": 500, "after": after, **filters}, caller
            )
            out.extend(page["items"])
            after = page["next"]
            if after is None:
                return out


@contextlib.asynccontextmanager
async def running(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext, **settings: Any
) -> AsyncIterator[Rewards]:
    """A rewards component started in this test's namespace (S3 bucket included), stopped afterwards."""
    from services.rewards import app
    from services.rewards.settings import RewardsSettings

    s = RewardsSettings(
        event_prefix=ns.prefix,
        event_stream=ns.stream,
        rpc_prefix=ns.rpc_prefix,
        shutdown_grace_s=3,
        **settings,
    )
    i = InfraSettings(
        database_url=database_url,
        nats_url=infra.nats_url,
        s3_endpoint=infra.s3_endpoint,
        s3_access_key=infra.s3_access_key,
        s3_secret_key=infra.s3_secret_key,
        s3_bucket=ns.bucket,
    )
    rt = app.setup(s, i)
    await rt.start()
    try:
        yield Rewards(rt, js, RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=30), ns)
    finally:
        await rt.stop()
