"""Settings of the gateway (gateway/config.py adds its limits): env prefix KAOHE_GATEWAY_."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kaohe import registry
from kaohe.settings import ComponentSettings


class GatewaySettings(ComponentSettings):
    """What the gateway reads from the environment besides the shared component settings."""

    component: ClassVar[str] = "gateway"
    model_config = SettingsConfigDict(env_prefix="KAOHE_GATEWAY_", extra="ignore")
    http_port: int = registry.get("gateway").port
    environment: Literal["development", "production"] = "development"
    jwt_secret: str = "kaohe-dev-only-secret-change-me-0123456789"
    jwt_issuer: str = "kaohe-dev"
    jwt_audience: str = "kaohe"
    jwks_url: str | None = None
    dev_auth: bool = Field(True, description="accept the demo caller header; never in production")
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_body_bytes: int = 1_000_000
