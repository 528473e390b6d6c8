"""Static checks of the bus's identities in `infra/` (the wiring: tests/infra/).

The committed NATS configurations must carry exactly the kernel's production permissions
(`kaohe.natsauth.production_authorization`), and each component must log in as itself: its own password,
fed from the same source as the one the NATS nodes check, and no other identity's credentials.
"""

from __future__ import annotations

from typing import Any

import pytest

from kaohe import natsauth, settings
from tests.infra.common import INFRA, load_settings, parse_nats_conf
from tests.infra.compose import compose_component, compose_nats, svc_env
from tests.infra.k8s import container_env, k8s_component, nats_workload

KERNEL = parse_nats_conf(natsauth.production_authorization())["authorization"]


def users(conf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["user"]: u for u in conf["authorization"]["users"]}


def node_password(user: dict[str, Any], node_env: dict[str, str]) -> str:
    """What a node checks a user's password against: `$VAR` resolved in the node's environment."""
    ref = user["password"]
    assert ref.startswith("$"), f"user {user['user']}: a literal password in a committed config"
    assert ref[1:] in node_env, f"the NATS node does not get {ref[1:]}"
    return node_env[ref[1:]]


def check_login(component: str, env: dict[str, str], conf: dict[str, Any], node_env: dict[str, str]) -> None:
    comp, _ = load_settings(component, env)
    assert comp.nats_password is not None, f"{component}: no KAOHE_{component.upper()}_NATS_PASSWORD"
    user = comp.nats_user or component
    assert user == component, f"{component} logs in as {user}: it would get {user}'s permissions"
    expected = node_password(users(conf)[user], node_env)
    assert comp.nats_password.get_secret_value() == expected, f"{component}: not the password NATS checks"
    own = f"KAOHE_{component.upper()}_NATS_PASSWORD"
    foreign = {k for k in env if "NATS" in k and "PASSWORD" in k} - {own}
    assert not foreign, f"{component} also gets {sorted(foreign)}"


def test_compose_nats_nodes_carry_the_kernels_permissions() -> None:
    for name, node in compose_nats().items():
        assert node["conf"]["authorization"] == KERNEL, f"{node['path'].name}: run `python -m kaohe.natsauth`"
        assert set(users(node["conf"])) == set(natsauth.IDENTITIES), name


@pytest.mark.parametrize("component", settings.COMPONENTS)
def test_compose_component_logs_in_as_itself_on_replicated_streams(component: str) -> None:
    nodes = compose_nats()
    env = svc_env(compose_component(component))
    for name, node in nodes.items():
        check_login(component, env, node["conf"], svc_env(name))
    comp, _ = load_settings(component, env)
    assert comp.event_stream_replicas == len(nodes), f"{component}: streams not replicated on every node"


def test_k8s_nats_configmap_carries_the_kernels_permissions() -> None:
    _, _, text = nats_workload()
    conf = parse_nats_conf(text)
    assert conf["authorization"] == KERNEL, "k8s nats-config: run `python -m kaohe.natsauth`"
    assert set(users(conf)) == set(natsauth.IDENTITIES)


@pytest.mark.parametrize("component", settings.COMPONENTS)
def test_k8s_component_logs_in_as_itself_on_replicated_streams(component: str) -> None:
    sts, nats_container, text = nats_workload()
    env = container_env(k8s_component(component)[1])
    check_login(component, env, parse_nats_conf(text), container_env(nats_container))
    comp, _ = load_settings(component, env)
    assert comp.event_stream_replicas == sts["spec"]["replicas"], f"{component}: streams not replicated"


def test_env_example_has_a_placeholder_password_per_identity() -> None:
    example = (INFRA / ".env.example").read_text()
    for identity in natsauth.IDENTITIES:
        assert f"{natsauth.password_var(identity)}=CHANGE_ME" in example, identity
