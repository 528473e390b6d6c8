"""Settings of the rewards service (结果运用): env prefix KAOHE_REWARDS_, named in kaohe.registry."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings

DEV_HMAC_KEY = "kaohe-dev-rewards-id-hmac-key-change-me"


class RewardsSettings(ComponentSettings):
    """What the rewards service reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "rewards"
    model_config = SettingsConfigDict(env_prefix="KAOHE_REWARDS_", extra="ignore")
    http_port: int = registry.get("rewards").port
    environment: Literal["development", "production"] = "development"
    id_hmac_key: SecretStr = Field(
        SecretStr(DEV_HMAC_KEY),
        description="HMAC-SHA256 key of ID-card numbers (身份证号): only the keyed hash is stored",
    )
    approval_levels: int = Field(2, ge=1, le=3, description="review levels of a proposal set (初审, 复审)")
    export_ttl_s: int = Field(300, ge=30, le=3600, description="lifetime of a presigned export URL")
    apply_on_publish: bool = Field(True, description="compute proposals when results.published arrives")

    @model_validator(mode="after")
    def _a_real_key_in_production(self) -> RewardsSettings:
        """The development key is public: in production ID numbers would be hashed under a known key."""
        if self.environment == "production" and self.id_hmac_key.get_secret_value() == DEV_HMAC_KEY:
            raise ValueError("KAOHE_REWARDS_ID_HMAC_KEY is required in production")
        return self
