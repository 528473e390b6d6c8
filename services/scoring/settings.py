"""Settings of the scoring service (评分): env prefix KAOHE_SCORING_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class ScoringSettings(ComponentSettings):
    """What the scoring service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "scoring"
    model_config = SettingsConfigDict(env_prefix="KAOHE_SCORING_", extra="ignore")
    http_port: int = registry.get("scoring").port


class QueueSettings(BaseSettings):
    """KAOHE_SCORING_SCORER_MAX_ATTEMPTS, …_RETRY_BASE_S, …_RETRY_MAX_S."""

    model_config = SettingsConfigDict(env_prefix="KAOHE_SCORING_SCORER_", extra="ignore")
    max_attempts: int = Field(5, ge=1, description="failed attempts of a book before it is quarantined")
    retry_base_s: float = Field(0.5, gt=0, description="backoff after the first failure, doubled each time")
    retry_max_s: float = Field(60.0, gt=0)
