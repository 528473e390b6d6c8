"""Indicators service (指标): wiring only; the standalone `indicator_create` still lives here."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlmodel import select

from kaohe.errors import Conflict
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, IndicatorsSettings, InfraSettings
from services.indicators.models import Indicator
from services.indicators.rpc import bulk, categories, evidence, review, schemes, submissions, units
from services.indicators.rpc.common import WRITERS, uow
from services.indicators.schemas import IndicatorCreate, IndicatorPublic

SERVICE = "indicators"


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    assert isinstance(settings, IndicatorsSettings)
    rt = Runtime(settings, infra, uses_s3=True)
    rpc = rt.rpc_server()
    units.register(rt)
    categories.register(rt)
    schemes.register(rt)
    submissions.register(rt)
    review.register(rt)
    evidence.register(rt, settings)
    bulk.register(rt, settings)

    @rpc.method("indicator_create", IndicatorCreate)
    async def indicator_create(caller: Caller, p: IndicatorCreate) -> IndicatorPublic:
        """A standalone indicator outside any scheme (walking skeleton); schemes are the real path."""
        caller.require(*WRITERS)
        async with uow(rt) as s:
            if (await s.exec(select(Indicator).where(Indicator.code == p.code))).first() is not None:
                raise Conflict(f"indicator {p.code} already exists", field="code", code="indicator_exists")
            ind = Indicator(
                id=uuid.uuid4().hex,
                code=p.code,
                name=p.name,
                unit_of_measure=p.unit_of_measure,
                direction=p.direction,
                weight=p.weight,
                target=p.target,
                standard=p.standard.model_dump(mode="json"),
            )
            s.add(ind)
            await s.flush()
            return IndicatorPublic.model_validate(ind, from_attributes=True)

    return rt
