"""Settings of the supervision service (督查督办): env prefix KAOHE_SUPERVISION_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class SupervisionSettings(ComponentSettings):
    """What the supervision service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "supervision"
    model_config = SettingsConfigDict(env_prefix="KAOHE_SUPERVISION_", extra="ignore")
    http_port: int = registry.get("supervision").port
