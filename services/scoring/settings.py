"""Settings of the scoring service (评分): env prefix KAOHE_SCORING_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class ScoringSettings(ComponentSettings):
    """What the scoring service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "scoring"
    model_config = SettingsConfigDict(env_prefix="KAOHE_SCORING_", extra="ignore")
    http_port: int = registry.get("scoring").port
