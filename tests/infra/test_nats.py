"""The NATS configurations of infra/: valid for nats-server, three-node JetStream clusters, nodes listed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kaohe import settings
from tests.infra.common import INFRA, listen_port, nats_server_validates, parse_nats_conf, url_hosts
from tests.infra.compose import compose_component, compose_nats, svc_env
from tests.infra.k8s import (
    container_env,
    container_port,
    k8s_component,
    nats_pod_hosts,
    nats_workload,
    short_host,
)


def test_compose_nats_is_a_three_node_jetstream_cluster() -> None:
    nodes = compose_nats()
    assert len(nodes) == 3, f"NATS nodes: {sorted(nodes)}"
    names = {n["conf"].get("server_name") for n in nodes.values()}
    assert len(names) == 3 and None not in names, "server_name must be set and unique"
    cluster_names = {n["conf"]["cluster"]["name"] for n in nodes.values()}
    assert len(cluster_names) == 1, f"cluster names differ: {cluster_names}"
    for name, node in nodes.items():
        conf = node["conf"]
        store = conf["jetstream"]["store_dir"]
        persisted = [t for t, src in node["mounts"].items() if store.startswith(t.rstrip("/") + "/")]
        assert persisted, f"{name}: JetStream store {store} is not on a volume"
        assert node["path"].parent == INFRA / "nats", f"{name}: config outside infra/nats"
        routes = {(urlsplit(r).hostname, urlsplit(r).port) for r in conf["cluster"]["routes"]}
        expected = {(peer, listen_port(nodes[peer]["conf"]["cluster"]["listen"])) for peer in nodes}
        expected.discard((name, listen_port(conf["cluster"]["listen"])))
        assert routes == expected, f"{name}: routes {sorted(routes)} should name its peers {sorted(expected)}"
        assert "healthcheck" in node["svc"]


@pytest.mark.parametrize("conf", sorted((INFRA / "nats").glob("*.conf")), ids=lambda p: p.name)
def test_compose_nats_configs_are_valid(conf: Path) -> None:
    # With the environment compose gives the node that mounts it (the identities' passwords).
    [node] = [name for name, n in compose_nats().items() if n["path"] == conf.resolve()]
    nats_server_validates(str(conf), svc_env(node))


def test_compose_nats_url_lists_every_node() -> None:
    nodes = compose_nats()
    expected = {(name, listen_port(n["conf"]["listen"])) for name, n in nodes.items()}
    for component in settings.COMPONENTS:
        hosts = set(url_hosts(svc_env(compose_component(component))["NATS_URL"]))
        assert hosts == expected, f"{component}: NATS_URL {sorted(hosts)} vs nodes {sorted(expected)}"


def test_k8s_nats_is_a_three_node_jetstream_cluster(tmp_path: Path) -> None:
    sts, container, text = nats_workload()
    conf = parse_nats_conf(text)
    assert sts["spec"]["replicas"] == 3
    # All at once: nats-0 cannot become ready (JetStream quorum) before its peers exist.
    assert sts["spec"].get("podManagementPolicy") == "Parallel"
    # server_name must differ per pod: a variable set from the pod's own name.
    server_name = conf["server_name"]
    assert server_name.startswith("$"), "one config for 3 pods needs a per-pod server_name"
    assert container_env(container).get(server_name[1:]) == "<metadata.name>"
    store = conf["jetstream"]["store_dir"]
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    on_claim = [
        m
        for m in container["volumeMounts"]
        if m["name"] in claims and store.startswith(m["mountPath"].rstrip("/") + "/")
    ]
    assert on_claim, f"JetStream store {store} is not on a PVC"
    hosts, namespace = nats_pod_hosts()
    cluster_port = listen_port(conf["cluster"]["listen"])
    routes = {
        (short_host(urlsplit(r).hostname, namespace), urlsplit(r).port) for r in conf["cluster"]["routes"]
    }
    # Each pod's routes name the two others (its own route is skipped by the server).
    assert routes == {(h, cluster_port) for h in hosts}, f"routes {sorted(routes)}"
    assert container_port(container, "cluster") == cluster_port
    conf_file = tmp_path / "nats.conf"
    conf_file.write_text(text)
    pod_env = {**container_env(container), server_name[1:]: f"{sts['metadata']['name']}-0"}
    nats_server_validates(str(conf_file), pod_env)


def test_k8s_nats_url_lists_every_node() -> None:
    hosts, namespace = nats_pod_hosts()
    _, _, text = nats_workload()
    client_port = listen_port(parse_nats_conf(text)["listen"])
    for component in settings.COMPONENTS:
        nats_url = container_env(k8s_component(component)[1])["NATS_URL"]
        listed = {(short_host(h, namespace), p) for h, p in url_hosts(nats_url)}
        assert listed == {(h, client_port) for h in hosts}, f"{component}: NATS_URL {nats_url}"
