"""In-process harness for integration tests and benchmarks: the indicators runtime plus an RPC client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from kaohe import bus, natsauth
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from services.indicators.app import setup
from services.indicators.settings import IndicatorsSettings


@dataclass
class Running:
    rt: Runtime
    client: RpcClient

    async def call(self, method: str, caller: Caller, **params: Any) -> Any:
        return await self.client.call("indicators", method, params, caller, timeout_s=60)


@asynccontextmanager
async def running(
    *,
    database_url: str,
    nats_url: str,
    s3_endpoint: str,
    s3_access_key: str,
    s3_secret_key: str,
    prefix: str,
    stream: str,
    rpc_prefix: str,
    bucket: str,
    **settings: Any,
) -> AsyncIterator[Running]:
    """Start the indicators component in this process; stop it afterwards."""
    cfg = IndicatorsSettings(event_prefix=prefix, event_stream=stream, rpc_prefix=rpc_prefix, **settings)
    infra = InfraSettings(
        database_url=database_url,
        nats_url=nats_url,
        s3_endpoint=s3_endpoint,
        s3_access_key=s3_access_key,
        s3_secret_key=s3_secret_key,
        s3_bucket=bucket,
    )
    rt = setup(cfg, infra)
    await rt.start()
    nc = await bus.connect(nats_url, name="indicators-harness", identity=natsauth.admin_identity())
    try:
        yield Running(rt, RpcClient(nc, prefix=rpc_prefix, timeout_s=60))
    finally:
        await nc.close()
        await rt.stop()


def caller(*roles: Role | str, org: str = "/", user: str = "u", codes: tuple[str, ...] = ()) -> Caller:
    """A Caller for tests and the demo: roles over the subtree `org`."""
    return Caller(
        user_id=user, roles=frozenset(Role(r) for r in roles), org_path=org, indicator_codes=frozenset(codes)
    )


OFFICE = caller(Role.assessment_office, user="kaohe-ban")


@asynccontextmanager
async def running_on(urls: dict[str, str], env: dict[str, str], tag: str) -> AsyncIterator[Running]:
    """The harness on a started `kaohe.stack.Stack` (benchmarks): its URLs, a fresh namespace `tag`."""
    async with running(
        database_url=urls["database"],
        nats_url=urls["nats"],
        s3_endpoint=urls["s3"],
        s3_access_key=env.get("S3_ACCESS_KEY", "kaohe"),
        s3_secret_key=env.get("S3_SECRET_KEY", "kaohe-dev-secret"),
        prefix=f"b{tag}",
        stream=f"B{tag}",
        rpc_prefix=f"b{tag}-rpc",
        bucket=f"kaohe-b{tag}",
        db_pool_size=4,
    ) as r:
        yield r


def leaf(code: str, name: str, weight: float, **kw: Any) -> dict[str, Any]:
    """A level-2 scored leaf (completion ratio against a target unless told otherwise)."""
    return {
        "code": code,
        "name": name,
        "level": 2,
        "weight": weight,
        "standard": kw.pop("standard", {"type": "completion_ratio", "cap": 1.2}),
        **kw,
    }


def small_scheme(*, k0102_weight: float = 30) -> dict[str, Any]:
    """晋城市 2026: trunk 党的建设 20 + 县区 现代产业 80; GDP growth is the 发改委's, evidence required."""
    return {
        "assessing_unit": "1405",
        "year": 2026,
        "name": "晋城市2026年度目标责任考核",
        "categories": ["县区"],
        "trunk": [
            {
                "code": "D01",
                "name": "党的建设",
                "level": 1,
                "weight": 20,
                "children": [
                    leaf("D0101", "基层党建", 10, target=100, unit_of_measure="分"),
                    leaf("D0102", "党风廉政", 10, standard={"type": "deduction", "per_occurrence": 2}),
                ],
            }
        ],
        "supplements": [
            {
                "category": "县区",
                "indicators": [
                    {
                        "code": "K01",
                        "name": "现代产业",
                        "level": 1,
                        "children": [
                            leaf(
                                "K0101",
                                "地区生产总值增速",
                                50,
                                target=6.0,
                                unit_of_measure="%",
                                source="department",
                                department="1405fg",
                                evidence_required=True,
                            ),
                            leaf("K0102", "固定资产投资增速", k0102_weight, target=8.0, unit_of_measure="%"),
                        ],
                    },
                ],
            }
        ],
    }


async def small_city(svc: Running) -> None:
    """省 14 → 市 1405 (assessing) → 城区 140502, 泽州县 140525 (县区) and 发改委 1405fg (department)."""
    for uid, name, kind, parent in (
        ("14", "山西省", "province", None),
        ("1405", "晋城市", "city", "14"),
        ("140502", "城区", "county", "1405"),
        ("140525", "泽州县", "county", "1405"),
        ("1405fg", "晋城市发展和改革委员会", "department", "1405"),
    ):
        await svc.call(
            "unit_create", OFFICE, id=uid, name=name, kind=kind, parent_id=parent, valid_from="2025-01-01"
        )
    await svc.call(
        "categories_set",
        OFFICE,
        assessing_unit="1405",
        year=2026,
        categories=[{"name": "县区", "description": "县（市、区）"}],
        members={"140502": "县区", "140525": "县区"},
    )


async def published_city(svc: Running, **kw: Any) -> str:
    """small_city with its scheme saved and published; returns the scheme id."""
    await small_city(svc)
    saved = await svc.call(
        "scheme_save", OFFICE, assessing_unit="1405", year=2026, scheme=small_scheme(), **kw
    )
    await svc.call("scheme_publish", OFFICE, scheme_id=saved["scheme"]["id"])
    return str(saved["scheme"]["id"])


def harness_kwargs(infra: Any, database_url: str, ns: Any) -> dict[str, Any]:
    """running(**harness_kwargs(infra, database_url, ns)) inside a test."""
    return dict(
        database_url=database_url,
        nats_url=infra.nats_url,
        s3_endpoint=infra.s3_endpoint,
        s3_access_key=infra.s3_access_key,
        s3_secret_key=infra.s3_secret_key,
        prefix=ns.prefix,
        stream=ns.stream,
        rpc_prefix=ns.rpc_prefix,
        bucket=ns.bucket,
    )
