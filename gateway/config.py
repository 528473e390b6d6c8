"""Gateway settings beyond GatewaySettings (gateway/settings.py): limits, rate limits, webhooks, caches."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gateway.settings import GatewaySettings
from kaohe.settings import ComponentSettings


class GatewayConfig(GatewaySettings):
    """Limits, rate limits, webhook delivery and subscription caps of the gateway."""

    model_config = SettingsConfigDict(env_prefix="KAOHE_GATEWAY_", extra="ignore")
    max_list: int = Field(100, description="longest accepted input list (ids, bulk rows go via REST)")
    max_page: int = Field(200, description="largest `first` of a connection (max_results)")
    default_page: int = 50
    max_bulk_rows: int = 100_000
    upstream_timeout_s: float = Field(5.0, description="deadline of every service call")
    bulk_timeout_s: float = Field(
        120.0, gt=0, description="deadline of the batch calls (bulk import, bulk approval of up to 500)"
    )
    upstream_health_timeout_s: float = Field(0.5, gt=0, description="deadline of /readyz's ping per service")
    upstream_health_ttl_s: float = Field(3.0, ge=0, description="/readyz reuses a ping result this long")
    rate_limit_rps: float = Field(50.0, description="token-bucket refill per client (user or API key)")
    rate_limit_burst: int = 100
    subscriptions_per_connection: int = 5
    webhook_max_attempts: int = 6
    webhook_backoff_s: float = Field(2.0, description="first retry delay; doubles per attempt")
    webhook_timeout_s: float = 5.0
    webhook_poll_s: float = 0.5
    response_cache: bool = Field(True, description="cache hot read queries' responses (see gateway/cache.py)")
    response_cache_entries: int = Field(512, ge=1, description="entries per worker process (LRU)")
    response_cache_ttl_s: float = Field(10.0, gt=0, description="safety net: events invalidate at once")
    response_cache_settle_s: float = Field(1.0, ge=0, description="re-invalidate after scoring applied")
    webhook_allow_private: bool = Field(
        False,
        description="development only: allow http:// and targets resolving to loopback/private addresses",
    )
    max_query_cost: int = Field(
        25_000, ge=1, description="largest estimated query cost (objects, multiplied down nested lists)"
    )
    cost_default_list: int = Field(10, ge=1, description="assumed size of a list without `first` (cost)")
    max_response_bytes: int = Field(8_000_000, ge=1, description="larger GraphQL responses are refused")
    max_json_depth: int = Field(64, ge=1, description="deepest nesting of a JSON request body")
    api_docs: bool | None = Field(
        None, description="serve /docs and /openapi.json; default: on in development only"
    )

    @property
    def api_docs_on(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment == "development"


def gateway_config(settings: ComponentSettings) -> GatewayConfig:
    """The full gateway configuration: explicit settings win, the extra fields come from the env."""
    if isinstance(settings, GatewayConfig):
        return settings
    return GatewayConfig(**settings.model_dump())
