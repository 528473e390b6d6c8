"""Settings of the rewards service (结果运用): env prefix KAOHE_REWARDS_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class RewardsSettings(ComponentSettings):
    """What the rewards service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "rewards"
    model_config = SettingsConfigDict(env_prefix="KAOHE_REWARDS_", extra="ignore")
    http_port: int = registry.get("rewards").port
