"""Indicators service (指标): wiring only — each entity's RPC handlers register on the runtime."""

from __future__ import annotations

from fastapi import FastAPI

from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from services.indicators.rpc import bulk, categories, evidence, review, schemes, submissions, units
from services.indicators.settings import IndicatorsSettings

SERVICE = "indicators"


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    assert isinstance(settings, IndicatorsSettings)
    rt = Runtime(settings, infra, uses_s3=True)
    units.register(rt)
    categories.register(rt)
    schemes.register(rt)
    submissions.register(rt)
    review.register(rt)
    evidence.register(rt, settings)
    bulk.register(rt, settings)

    return rt
