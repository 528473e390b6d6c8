"""Reading infra/k8s/: objects by kind and name, pod specs, containers' environment and ports."""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kaohe import settings
from tests.infra.common import K8S, dockerfile_entrypoint, image_name


@functools.cache
def k8s_docs() -> tuple[tuple[Path, dict[str, Any]], ...]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return tuple(docs)


@functools.cache
def k8s_objects() -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path, obj in k8s_docs():
        key = (obj["kind"], obj["metadata"]["name"])
        assert key not in out, f"{path.name}: duplicate {key}"
        out[key] = obj
    return out


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {name: obj for (k, name), obj in k8s_objects().items() if k == kind}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment, StatefulSet or Job; {} for objects that run no pods."""
    return obj.get("spec", {}).get("template", {}).get("spec", {})


def pod_containers(obj: dict[str, Any], init: bool = True) -> Iterator[dict[str, Any]]:
    spec = pod_spec(obj)
    yield from spec.get("initContainers", []) if init else []
    yield from spec.get("containers", [])


def k8s_argv(container: dict[str, Any]) -> list[str]:
    return list(container.get("command", dockerfile_entrypoint())) + list(container.get("args", []))


def config_data(kind: str, name: str) -> dict[str, str]:
    obj = k8s_objects().get((kind, name))
    assert obj is not None, f"{kind} {name} is referenced but not defined"
    data = {k: str(v) for k, v in (obj.get("data") or {}).items()}
    if kind == "Secret":
        data = {k: base64.b64decode(v).decode() for k, v in data.items()}
        data.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    return data


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment with envFrom and valueFrom resolved against the manifests."""
    env: dict[str, str] = {}
    for src in container.get("envFrom", []):
        kind, ref = (
            ("ConfigMap", src["configMapRef"]) if "configMapRef" in src else ("Secret", src["secretRef"])
        )
        for key, value in config_data(kind, ref["name"]).items():
            env[src.get("prefix", "") + key] = value
    for item in container.get("env", []):  # explicit env wins over envFrom
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        source = item["valueFrom"]
        for ref_key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if ref_key in source:
                ref = source[ref_key]
                data = config_data(kind, ref["name"])
                assert ref["key"] in data, f"{kind} {ref['name']} has no key {ref['key']}"
                env[item["name"]] = data[ref["key"]]
        if "fieldRef" in source:
            env[item["name"]] = f"<{source['fieldRef']['fieldPath']}>"
    return env


def container_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"container {container['name']} has no port named {port}"
    return named[port]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workloads() -> dict[str, dict[str, Any]]:
    return {f"{k}/{n}": o for (k, n), o in k8s_objects().items() if pod_spec(o)}


def service_for(service: str, port: int | str) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(workload, container, container port) behind Service `service` port (number or name)."""
    svc = k8s_objects().get(("Service", service))
    assert svc is not None, f"Service {service} not defined"
    sport = [p for p in svc["spec"]["ports"] if port in (p["port"], p.get("name"))]
    assert sport, f"Service {service} has no port {port}"
    targets = [
        w
        for w in workloads().values()
        if matches(svc["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])
    ]
    assert len(targets) == 1, f"Service {service} selects {len(targets)} workloads"
    target = sport[0].get("targetPort", sport[0]["port"])
    for c in pod_containers(targets[0], init=False):
        if isinstance(target, int) or target in {p.get("name") for p in c.get("ports", [])}:
            return targets[0], c, container_port(c, target)
    raise AssertionError(f"Service {service} targets unknown port {target}")


def k8s_component(component: str) -> tuple[dict[str, Any], dict[str, Any]]:
    found = [
        (d, c)
        for d in of_kind("Deployment").values()
        for c in pod_containers(d, init=False)
        if k8s_argv(c)[1:] == ["serve", component]
    ]
    assert len(found) == 1, f"k8s: {len(found)} Deployments run `serve {component}`"
    return found[0]


def kaohe_image() -> str:
    _, container = k8s_component(settings.COMPONENTS[0])
    return container["image"]


def prestop_sleep_s(container: dict[str, Any]) -> float:
    pre = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in pre:
        return float(pre["sleep"]["seconds"])
    argv = pre.get("exec", {}).get("command", [])
    return float(argv[1]) if len(argv) == 2 and argv[0] == "sleep" else 0.0


def ingress_backends() -> dict[tuple[str, str], tuple[str, int | str]]:
    out = {}
    for ing in of_kind("Ingress").values():
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                svc = path["backend"]["service"]
                port = svc["port"].get("number", svc["port"].get("name"))
                out[(rule.get("host", "*"), path["path"])] = (svc["name"], port)
    return out


def ingress_tls_hosts() -> set[str]:
    return {h for ing in of_kind("Ingress").values() for t in ing["spec"].get("tls", []) for h in t["hosts"]}


def nats_workload() -> tuple[dict[str, Any], dict[str, Any], str]:
    """(StatefulSet, container, config file text) of NATS."""
    found = [
        (s, c)
        for s in of_kind("StatefulSet").values()
        for c in pod_containers(s)
        if image_name(c["image"]) == "nats"
    ]
    assert len(found) == 1, f"{len(found)} NATS StatefulSets"
    sts, container = found[0]
    argv = list(container.get("command", [])) + list(container.get("args", []))
    flag = next(f for f in ("--config", "-c") if f in argv)
    conf_file = Path(argv[argv.index(flag) + 1])
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == str(conf_file.parent))
    volume = next(v for v in pod_spec(sts)["volumes"] if v["name"] == mount["name"])
    return sts, container, config_data("ConfigMap", volume["configMap"]["name"])[conf_file.name]


def nats_pod_hosts() -> tuple[set[str], str]:
    """Stable DNS names of the NATS pods under their headless Service, and the namespace."""
    sts, _, _ = nats_workload()
    headless = k8s_objects()[("Service", sts["spec"]["serviceName"])]
    assert headless["spec"].get("clusterIP") == "None", "the governing Service must be headless"
    assert headless["spec"].get("publishNotReadyAddresses") is True, "peers must resolve before ready"
    name, svc = sts["metadata"]["name"], headless["metadata"]["name"]
    return {f"{name}-{i}.{svc}" for i in range(sts["spec"]["replicas"])}, sts["metadata"]["namespace"]


def short_host(host: str, namespace: str) -> str:
    for suffix in (f".{namespace}.svc.cluster.local", f".{namespace}.svc", f".{namespace}"):
        if host.endswith(suffix):
            return host[: -len(suffix)]
    return host
