"""Settings: shared infrastructure URLs (unprefixed), the base of every component's settings, the registry.

Infrastructure is named the way operators expect (`DATABASE_URL`, `NATS_URL`, `S3_ENDPOINT`, …);
everything specific to a component carries its prefix, e.g. `KAOHE_SCORING_HTTP_PORT`. A component
may override an infrastructure URL with its own prefixed variable (`KAOHE_SCORING_DATABASE_URL`). Each
component's own settings class lives in its folder (`services/<svc>/settings.py`, `gateway/settings.py`) and
is named in `kaohe.registry`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from kaohe import registry

COMPONENTS: tuple[str, ...] = registry.COMPONENTS
SERVICES: tuple[str, ...] = registry.SERVICES

# Defaults sit in the 27xxx range, clear of PostgreSQL 5432, NATS 4222, MinIO 9000 and dev servers 3000/8000.
DEFAULT_PORTS: dict[str, int] = {
    "postgres": 27432,
    "nats": 27422,
    "nats_monitor": 27822,
    "s3": 27433,
    "s3_internal_base": 27440,  # SeaweedFS master/filer/volume/admin ports: base .. base+9
    **{c.name: c.port for c in registry.REGISTRY},
}


class InfraSettings(BaseSettings):
    """Where PostgreSQL, NATS and the S3 store live. Unset means: the dev stack provides them."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = Field(None, description="SQLAlchemy URL, postgresql+asyncpg://…")
    nats_url: str | None = Field(None, description="nats://host:port[,nats://…] for a cluster")
    s3_endpoint: str | None = Field(None, description="http(s)://host:port of MinIO or another S3 store")
    s3_public_endpoint: str | None = Field(None, description="endpoint browsers reach; signs presigned URLs")
    s3_access_key: str = "kaohe"
    s3_secret_key: str = "kaohe-dev-secret"
    s3_region: str = "us-east-1"
    s3_bucket: str = "kaohe-evidence"


class ComponentSettings(BaseSettings):
    """Settings every component process reads; subclasses fix the env prefix."""

    component: ClassVar[str] = ""
    model_config = SettingsConfigDict(extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 0
    workers: int = Field(1, ge=1, le=32, description="HTTP worker processes (each a full runtime)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    database_url: str | None = None  # overrides DATABASE_URL for this component only
    db_pool_size: int = 10
    event_prefix: str = Field("kaohe", description="first token of event subjects")
    event_stream: str = "KAOHE_EVENTS"
    event_stream_replicas: int = Field(
        1, ge=1, le=5, description="JetStream replicas (3 on a 3-node cluster)"
    )
    rpc_prefix: str = Field("kaohe-rpc", description="first token of RPC subjects")
    # This component's own NATS identity (kaohe.natsauth): unset password = connect without auth.
    nats_user: str | None = Field(None, description="NATS user name; defaults to the component's name")
    nats_password: SecretStr | None = None
    rpc_timeout_s: float = 5.0
    rpc_concurrency: int = 64
    relay_batch: int = 500
    relay_poll_s: float = 0.5
    consumer_max_deliver: int = 5
    consumer_backoff_s: list[float] = Field(default_factory=lambda: [0.2, 1.0, 5.0, 15.0])
    shutdown_grace_s: float = 10.0


class AdminSettings(BaseSettings):
    """The operators' NATS identity (all subjects): the CLI's seeding, benchmarks, the tests' harness."""

    model_config = SettingsConfigDict(env_prefix="KAOHE_ADMIN_", extra="ignore")

    nats_user: str = "admin"
    nats_password: SecretStr | None = None


class _SettingsByComponent(Mapping[str, type[ComponentSettings]]):
    """Component name → its settings class, imported from the registry's dotted path on first use."""

    def __getitem__(self, name: str) -> type[ComponentSettings]:
        if name not in registry.BY_NAME:
            raise KeyError(name)
        return registry.settings_class(name)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(registry.COMPONENTS)

    def __len__(self) -> int:
        return len(registry.COMPONENTS)


SETTINGS_BY_COMPONENT: Mapping[str, type[ComponentSettings]] = _SettingsByComponent()


def load(component: str) -> tuple[ComponentSettings, InfraSettings]:
    """Read a component's settings and the shared infrastructure settings from the environment."""
    return registry.settings_class(registry.get(component).name)(), InfraSettings()


def effective_database_url(comp: ComponentSettings, infra: InfraSettings) -> str:
    url = comp.database_url or infra.database_url
    if not url:
        raise ValueError("DATABASE_URL is not set (nor KAOHE_<COMPONENT>_DATABASE_URL)")
    return url
