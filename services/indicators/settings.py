"""Settings of the indicators service (指标): env prefix KAOHE_INDICATORS_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class IndicatorsSettings(ComponentSettings):
    """What the indicators service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "indicators"
    model_config = SettingsConfigDict(env_prefix="KAOHE_INDICATORS_", extra="ignore")
    http_port: int = registry.get("indicators").port
    evidence_max_bytes: int = 200 * 1024 * 1024
    presign_ttl_s: int = 300
