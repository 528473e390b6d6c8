"""The component registry: one entry per component, read by settings, runtime, migrate, natsauth, stack, CLI.

Adding a component is one folder plus one entry here. Entries name code by dotted path ("module:attr"), so
the kernel imports no component: `settings_class` and `setup_of` import it when a process needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Component:
    """One deployable component: where its settings, wiring and migrations are, its port and consumers."""

    name: str
    settings: str  # "module:Class", a kaohe.settings.ComponentSettings with env prefix KAOHE_<NAME>_
    setup: str  # "module:function", setup(settings, infra, app) -> Runtime
    migrations: str  # folder of its Alembic migrations, relative to the repository root
    port: int  # default HTTP port (the 27xxx range, clear of PostgreSQL, NATS, MinIO and dev servers)
    consumers: tuple[str, ...] = ()  # durable consumers (Runtime.subscribe names); NATS permits exactly these
    service: bool = True  # answers RPC on kaohe-rpc.<name>.* (the gateway only calls)
    calls: tuple[str, ...] = ()  # services whose RPC it may call (NATS permits exactly these)

    @property
    def migrations_path(self) -> Path:
        return ROOT / self.migrations


REGISTRY: tuple[Component, ...] = (
    Component(
        "indicators",
        settings="services.indicators.settings:IndicatorsSettings",
        setup="services.indicators.app:setup",
        migrations="services/indicators/migrations",
        port=27501,
    ),
    Component(
        "scoring",
        settings="services.scoring.settings:ScoringSettings",
        setup="services.scoring.app:setup",
        migrations="services/scoring/migrations",
        port=27502,
        consumers=("inputs",),
    ),
    Component(
        "supervision",
        settings="services.supervision.settings:SupervisionSettings",
        setup="services.supervision.app:setup",
        migrations="services/supervision/migrations",
        port=27503,
        consumers=("score-signals",),
    ),
    Component(
        "rewards",
        settings="services.rewards.settings:RewardsSettings",
        setup="services.rewards.app:setup",
        migrations="services/rewards/migrations",
        port=27504,
        consumers=("results",),
    ),
    Component(
        "documents",
        settings="services.documents.settings:DocumentsSettings",
        setup="services.documents.app:setup",
        migrations="services/documents/migrations",
        port=27505,
        # reads results (rankings, 三色榜, warnings), scheme and unit names, supervision's per-unit statistics
        calls=("scoring", "indicators", "supervision"),
    ),
    Component(
        "notices",
        settings="services.notices.settings:NoticesSettings",
        setup="services.notices.app:setup",
        migrations="services/notices/migrations",
        port=27506,
        consumers=("rules",),
    ),
    Component(
        "gateway",
        settings="gateway.settings:GatewaySettings",
        setup="gateway.app:setup",
        migrations="gateway/migrations",
        port=27500,
        consumers=("webhooks",),
        service=False,
    ),
)

BY_NAME: dict[str, Component] = {c.name: c for c in REGISTRY}
COMPONENTS: tuple[str, ...] = tuple(c.name for c in REGISTRY)
SERVICES: tuple[str, ...] = tuple(c.name for c in REGISTRY if c.service)


def get(name: str) -> Component:
    """The registry entry of a component; ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"component: unknown {name!r}; one of {', '.join(COMPONENTS)}") from None


def load(dotted: str) -> Any:
    """The object a "module:attr" path names."""
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def settings_class(name: str) -> Any:
    """The component's settings class (a kaohe.settings.ComponentSettings subclass)."""
    return load(get(name).settings)


def setup_of(name: str) -> Callable[..., Any]:
    """The component's setup(settings, infra, app) -> Runtime."""
    return load(get(name).setup)  # type: ignore[no-any-return]
