"""The scoring test harness: a small scheme, a client of a running scoring component, event helpers.

The fixtures that start it live in tests/scoring/conftest.py; not shipped in the image."""

from __future__ import annotations

import calendar
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.contracts.events import EventPayload, payload_of
from kaohe.contracts.indicators import (
    EvidenceRef,
    RosterUnit,
    SchemePublished,
    SubmissionApproved,
    SubmissionReopened,
)
from kaohe.contracts.scheme import Scheme
from kaohe.errors import NotFound
from kaohe.events import CloudEvent
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from tests.conftest import Infra, Namespace, eventually

OFFICE = Caller(user_id="office", roles=frozenset({Role.assessment_office}), org_path="/14/")
CITY = "1405"
YEAR = 2026

# 经济发展 (GDP 30 分 completion ≤120%, FAI 20 分) + 社会治理 (SAFE 20 分 扣分 2/次, REV 30 分 领导评议)
# + 加分 HONOR + 一票否决 VETO
SCHEME: dict[str, Any] = {
    "assessing_unit": CITY,
    "year": YEAR,
    "version": 1,
    "name": "2026 乡镇考核",
    "categories": ["乡镇", "街道"],
    "trunk": [
        {
            "code": "ECO",
            "name": "经济发展",
            "level": 1,
            "children": [
                {
                    "code": "GDP",
                    "name": "地区生产总值",
                    "level": 2,
                    "weight": 30,
                    "target": 100,
                    "standard": {"type": "completion_ratio", "cap": 1.2},
                },
                {
                    "code": "FAI",
                    "name": "固定资产投资",
                    "level": 2,
                    "weight": 20,
                    "target": 50,
                    "standard": {"type": "completion_ratio"},
                },
            ],
        },
        {
            "code": "GOV",
            "name": "社会治理",
            "level": 1,
            "children": [
                {
                    "code": "SAFE",
                    "name": "安全生产",
                    "level": 2,
                    "weight": 20,
                    "standard": {"type": "deduction", "per_occurrence": 2},
                },
                {
                    "code": "REV",
                    "name": "领导评议",
                    "level": 2,
                    "weight": 30,
                    "standard": {"type": "qualitative"},
                },
            ],
        },
        {
            "code": "HONOR",
            "name": "争先创优",
            "level": 1,
            "standard": {"type": "bonus", "per_unit": 1, "cap": 3},
        },
        {
            "code": "VETO",
            "name": "安全事故一票否决",
            "level": 1,
            "standard": {"type": "veto", "cap_grade": "一般"},
        },
    ],
    "coefficients": [{"unit_id": "140503", "kind": "evaluation", "value": 1.1, "reason": "牵引性工程"}],
}

UNITS = [
    {"unit_id": "140501", "name": "甲镇", "path": "/14/1405/140501/", "category": "乡镇"},
    {"unit_id": "140502", "name": "乙镇", "path": "/14/1405/140502/", "category": "乡镇"},
    {"unit_id": "140503", "name": "丙镇", "path": "/14/1405/140503/", "category": "乡镇"},
    {"unit_id": "140504", "name": "丁街道", "path": "/14/1405/140504/", "category": "街道"},
]


@dataclass
class Scoring:
    rt: Runtime
    js: JetStreamContext
    client: RpcClient
    ns: Namespace
    revisions: dict[str, int] = field(default_factory=dict)

    async def publish(self, etype: str, subject: str, data: dict[str, Any]) -> CloudEvent:
        service_name, entity, verb = etype.split(".")[1:]
        ev = CloudEvent(source=f"/kaohe/{service_name}", type=etype, subject=subject, data=data)
        await self.js.publish(f"{self.ns.prefix}.{service_name}.{entity}.{verb}", ev.to_bytes())
        return ev

    async def send(self, payload: EventPayload, subject: str) -> CloudEvent:
        """Publish a contract payload as its producer would."""
        return await self.publish(payload.TYPE, subject, payload.data())

    async def scheme(
        self, scheme: dict[str, Any] | None = None, units: list[dict[str, Any]] | None = None
    ) -> str:
        body = scheme or SCHEME
        sid = f"scheme-{body['version']}-{uuid.uuid4().hex[:6]}"
        published = SchemePublished(
            scheme_id=sid,
            assessing_unit=body["assessing_unit"],
            year=body["year"],
            version=body["version"],
            scheme=Scheme.model_validate(body),
            units=[RosterUnit.model_validate(u) for u in units or UNITS],
            published_at=datetime(2026, 1, 15, 8, tzinfo=UTC),
            published_by="office",
        )
        await self.send(published, sid)

        async def known() -> bool:
            try:
                await self.call("config_get", {"scheme_id": sid})
            except NotFound:
                return False
            return True

        await eventually(known, what=f"scheme {sid} stored")
        return sid

    async def value(
        self,
        scheme_id: str,
        unit: str,
        code: str,
        period: str,
        value: float | None,
        *,
        grade: str | None = None,
        verb: str = "approved",
        final: bool = True,
        evidence: tuple[str, ...] = (),
        revision: int | None = None,
    ) -> CloudEvent:
        key = f"{unit}:{code}:{period}"
        rev = revision if revision is not None else self.revisions.get(key, 0) + 1
        self.revisions[key] = max(rev, self.revisions.get(key, 0))
        path = next(u["path"] for u in UNITS if u["unit_id"] == unit)
        model = SubmissionApproved if verb == "approved" else SubmissionReopened
        payload = model(
            submission_id=f"sub-{key}",
            unit_id=unit,
            unit_path=path,
            scheme_id=scheme_id,
            scheme_version=1,
            assessing_unit=CITY,
            year=YEAR,
            code=code,
            period=period,
            value=value,
            grade=grade,
            revision=rev,
            evidence=[EvidenceRef(id=e, sha256="0" * 64) for e in evidence],
            actor="u",
            at=datetime(2026, 4, 2, 9, tzinfo=UTC),
            review_level=2,
            final=final,
        )
        return await self.send(payload, payload.submission_id)

    async def call(self, method: str, params: dict[str, Any], caller: Caller = OFFICE) -> Any:
        return await self.client.call("scoring", method, params, caller)


class Events:
    """Every scoring event the relay publishes, in arrival order."""

    def __init__(self) -> None:
        self.items: list[CloudEvent] = []
        self.invalid: list[str] = []

    async def on(self, msg: Any) -> None:
        event = CloudEvent.from_bytes(msg.data)
        try:
            payload_of(event)  # every event scoring publishes holds to its contract model
        except ValueError as e:  # pydantic's ValidationError included; raised here it would be lost
            self.invalid.append(f"{event.type}: {e}")
        self.items.append(event)

    def of(self, etype: str, **match: Any) -> list[CloudEvent]:
        assert not self.invalid, self.invalid
        return [
            e for e in self.items if e.type == etype and all(e.data.get(k) == v for k, v in match.items())
        ]


def due(period: str) -> float:
    """年度目标按序时进度分解 by hand: the share of the year elapsed at the end of a month or quarter of
    2026 (linear schedule: day of the year / 365); a year is due in full."""
    if len(period) == 4:
        return 1.0
    month = 3 * int(period[-1]) if "-Q" in period else int(period[5:])
    last = date(2026, month, calendar.monthrange(2026, month)[1])
    return last.timetuple().tm_yday / 365


def month_total(
    gdp: float,
    fai: float,
    safe: int,
    rev: float,
    honor: float = 0.0,
    coef: float = 1.0,
    s: float = 0.0,
    sup: float = 100.0,
    period: str | None = None,
) -> float:
    """The scheme's roll-up by hand: ECO = GDP 30/50 + FAI 20/50, GOV = SAFE 20/50 + REV 30/50, each half.

    `period`: a month or quarter scores GDP and FAI against the targets due by its end (due(period));
    None scores them against the annual targets (a year, or prorate_targets off)."""
    d = 1.0 if period is None else due(period)
    eco = 100 * (0.6 * min(gdp / (100 * d), 1.2) + 0.4 * min(fai / (50 * d), 1.0))
    gov = 100 * (0.4 * (20 - 2 * safe) / 20 + 0.6 * rev)
    return coef * ((1 - s) * (0.5 * eco + 0.5 * gov) + s * sup) + min(honor, 3.0)


async def fill(
    sc: Scoring, sid: str, unit: str, period: str, gdp: float, fai: float, safe: int, grade: str
) -> None:
    await sc.value(sid, unit, "GDP", period, gdp, evidence=(f"ev-{unit}",))
    await sc.value(sid, unit, "FAI", period, fai)
    await sc.value(sid, unit, "SAFE", period, safe)
    await sc.value(sid, unit, "REV", period, None, grade=grade)


async def totals(
    sc: Scoring, ids: list[str], period: str, caller: Caller = OFFICE
) -> dict[str, float | None]:
    got = await sc.call("scores_by_units", {"ids": ids, "period": period}, caller)
    return {u: (got[u]["total"] if got[u] else None) for u in ids}


@contextlib.asynccontextmanager
async def running(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Scoring]:
    """A scoring component started in this test's namespace, stopped afterwards."""
    from services.scoring import app
    from services.scoring.settings import ScoringSettings

    settings = ScoringSettings(
        event_prefix=ns.prefix, event_stream=ns.stream, rpc_prefix=ns.rpc_prefix, shutdown_grace_s=3
    )
    rt = app.setup(settings, InfraSettings(database_url=database_url, nats_url=infra.nats_url))
    await rt.start()
    try:
        yield Scoring(rt, js, RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=10), ns)
    finally:
        await rt.stop()
