"""The component registry: every entry names code and folders that exist and agree with each other."""

import pytest

from kaohe import natsauth, registry, settings
from kaohe.settings import ComponentSettings


@pytest.mark.parametrize("name", registry.COMPONENTS)
def test_an_entry_names_its_settings_setup_and_migrations(name: str) -> None:
    entry = registry.get(name)
    cls = registry.settings_class(name)
    assert issubclass(cls, ComponentSettings) and cls.component == name
    assert cls.model_config["env_prefix"] == f"KAOHE_{name.upper()}_"
    assert cls().http_port == entry.port == settings.DEFAULT_PORTS[name]
    assert callable(registry.setup_of(name))
    assert (entry.migrations_path / "env.py").is_file()
    assert natsauth.CONSUMERS[name] == entry.consumers


def test_names_ports_and_consumers_are_unique() -> None:
    assert len(set(registry.COMPONENTS)) == len(registry.REGISTRY)
    ports = [c.port for c in registry.REGISTRY]
    assert len(set(ports)) == len(ports)
    assert not set(ports) & {v for k, v in settings.DEFAULT_PORTS.items() if k not in registry.BY_NAME}
    assert set(settings.SETTINGS_BY_COMPONENT) == set(registry.COMPONENTS) == set(settings.COMPONENTS)
    assert settings.SERVICES == tuple(c.name for c in registry.REGISTRY if c.service)


def test_an_unknown_component_is_named() -> None:
    with pytest.raises(ValueError, match="component: unknown 'nope'"):
        registry.get("nope")
    with pytest.raises(ValueError, match="nope"):
        settings.load("nope")
