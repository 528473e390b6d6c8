"""The notices test harness: a real SMTP server (aiosmtpd), a steerable clock, a running notices runtime."""

from __future__ import annotations

import asyncio
import contextlib
import time as _time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

from aiosmtpd.controller import Controller
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe import devstack
from kaohe.contracts.events import EventPayload
from kaohe.events import CloudEvent
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from tests.conftest import Infra, Namespace

OFFICE = Caller(user_id="office-1405", roles=frozenset({Role.assessment_office}), org_path="/14/1405/")


def caller(user_id: str, role: Role, path: str, codes: tuple[str, ...] = ()) -> Caller:
    return Caller(user_id=user_id, roles=frozenset({role}), org_path=path, indicator_codes=frozenset(codes))


class Clock:
    """Now = a pinned moment plus the real time elapsed since it was pinned (so backoffs do elapse)."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, moment: datetime) -> None:
        self.base, self.t0 = moment, _time.monotonic()

    def __call__(self) -> datetime:
        from datetime import timedelta

        return self.base + timedelta(seconds=_time.monotonic() - self.t0)


@dataclass
class Mail:
    to: list[str]
    subject: str
    message_id: str
    body: str


class SmtpInbox:
    """aiosmtpd's handler: keeps every accepted message; refuses the next `fail` ones with a 451."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.fail = 0
        self.refused = 0
        self.delay_s = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # a slow mail server, so a stop lands mid-delivery
        if self.fail > 0:
            self.fail -= 1
            self.refused += 1
            return "451 4.3.0 mailbox temporarily unavailable"
        msg = message_from_bytes(envelope.content)
        body = msg.get_payload(decode=True).decode("utf-8") if not msg.is_multipart() else ""
        self.mails.append(
            Mail(
                list(envelope.rcpt_tos),
                str(make_header(decode_header(msg["Subject"]))),
                msg["Message-ID"],
                body,
            )
        )
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]


@contextlib.contextmanager
def smtp_server() -> Any:
    handler = SmtpInbox()
    port = devstack.free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield handler, port
    finally:
        ctl.stop()


@dataclass
class Notices:
    rt: Runtime
    js: JetStreamContext
    client: RpcClient
    ns: Namespace
    sent: list[str] = field(default_factory=list)

    async def send(
        self, payload: EventPayload, subject: str, event_id: str | None = None, at: datetime | None = None
    ) -> CloudEvent:
        """Publish a contract payload on JetStream as its producer's relay would (`at`: its event time)."""
        _, svc, entity, verb = payload.TYPE.split(".")
        ev = CloudEvent(source=f"/kaohe/{svc}", type=payload.TYPE, subject=subject, data=payload.data())
        if event_id:
            ev.id = event_id
        if at is not None:
            ev.time = at
        await self.js.publish(f"{self.ns.prefix}.{svc}.{entity}.{verb}", ev.to_bytes())
        return ev

    async def call(self, method: str, params: dict[str, Any], who: Caller = OFFICE) -> Any:
        return await self.client.call("notices", method, params, who)

    async def sql(self, query: str, *args: Any) -> list[Any]:
        from services.notices.repository.connection import raw

        assert self.rt.db is not None
        async with self.rt.db.uow() as s:
            return list(await (await raw(s)).fetch(query, *args))


def build(
    infra: Infra, database_url: str, ns: Namespace, clock: Clock, smtp_port: int, **overrides: Any
) -> Runtime:
    from services.notices import app
    from services.notices.settings import NoticesSettings

    quick = {"deliver_poll_s": 0.05, "retry_base_s": 0.05, "retry_max_s": 0.2, "remind_poll_s": 0.2}
    settings = NoticesSettings(
        event_prefix=ns.prefix,
        event_stream=ns.stream,
        rpc_prefix=ns.rpc_prefix,
        shutdown_grace_s=5,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        **(quick | overrides),
    )
    return app.setup(settings, InfraSettings(database_url=database_url, nats_url=infra.nats_url), clock=clock)


@contextlib.asynccontextmanager
async def running(
    infra: Infra,
    database_url: str,
    ns: Namespace,
    nc: NATS,
    js: JetStreamContext,
    clock: Clock,
    smtp_port: int,
    **overrides: Any,
) -> AsyncIterator[Notices]:
    rt = build(infra, database_url, ns, clock, smtp_port, **overrides)
    await rt.start()
    try:
        yield Notices(rt, js, RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=10), ns)
    finally:
        await rt.stop()


def recipient(user_id: str, unit: str, path: str, roles: list[str], **kw: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "unit_id": unit,
        "org_path": path,
        "roles": roles,
        "email": kw.pop("email", f"{user_id}@example.gov.cn"),
        **kw,
    }
