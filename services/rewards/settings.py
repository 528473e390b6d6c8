"""Settings of the rewards service (结果运用): env prefix KAOHE_REWARDS_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings

DEV_HMAC_KEY = "kaohe-dev-rewards-id-hmac-key-change-me"


class RewardsSettings(ComponentSettings):
    """What the rewards service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "rewards"
    model_config = SettingsConfigDict(env_prefix="KAOHE_REWARDS_", extra="ignore")
    http_port: int = registry.get("rewards").port
    id_hmac_key: SecretStr = Field(
        SecretStr(DEV_HMAC_KEY),
        description="HMAC-SHA256 key of ID-card numbers (身份证号): only the keyed hash is stored",
    )
    approval_levels: int = Field(2, ge=1, le=3, description="review levels of a proposal set (初审, 复审)")
    export_ttl_s: int = Field(300, ge=30, le=3600, description="lifetime of a presigned export URL")
    apply_on_publish: bool = Field(True, description="compute proposals when results.published arrives")
