"""Rewards service (结果运用): wires the `results` consumer and the RPC methods; uses S3 for exports."""

from __future__ import annotations

from fastapi import FastAPI

from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from services.rewards import consumers
from services.rewards.rpc import ledger, proposals, registry, rules
from services.rewards.settings import RewardsSettings


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    """Build the rewards runtime; nothing connects until `rt.start()`."""
    s = settings if isinstance(settings, RewardsSettings) else RewardsSettings()
    rt = Runtime(settings, infra, uses_s3=True)
    consumers.subscribe(rt, levels=s.approval_levels, apply_now=s.apply_on_publish)
    registry.register(rt, s)
    rules.register(rt)
    proposals.register(rt, s)
    ledger.register(rt, s)
    return rt
