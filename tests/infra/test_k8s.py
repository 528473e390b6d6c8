"""infra/k8s/: every component's workload, the migrate Job, services, ingress, secrets and namespace."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from kaohe import settings
from tests.infra.common import (
    K8S,
    PLACEHOLDER,
    SECRET_NAME,
    allowed_vars,
    check_component_env,
    check_gateway_production,
    image_name,
    load_settings,
)
from tests.infra.k8s import (
    container_env,
    container_port,
    ingress_backends,
    ingress_tls_hosts,
    k8s_argv,
    k8s_component,
    k8s_docs,
    k8s_objects,
    kaohe_image,
    matches,
    of_kind,
    pod_containers,
    pod_spec,
    prestop_sleep_s,
    service_for,
)


@pytest.mark.parametrize("component", settings.COMPONENTS)
def test_k8s_component(component: str) -> None:
    deployment, container = k8s_component(component)
    where = f"k8s Deployment {deployment['metadata']['name']}"
    env = container_env(container)
    port = check_component_env(component, env, where)
    assert container["image"] == kaohe_image(), f"{where}: another image"
    template = deployment["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert matches(deployment["spec"]["selector"]["matchLabels"], labels), f"{where}: selector"
    # Probes: readiness on /readyz, liveness on /healthz, both on the port HTTP binds.
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet")
        assert get and get["path"] == path, f"{where}: {probe} should GET {path}"
        assert container_port(container, get["port"]) == port, f"{where}: {probe} port != {port}"
    # A Service reaches exactly this component's pods on that port.
    services_ = [s for s in of_kind("Service").values() if matches(s["spec"].get("selector", {}), labels)]
    assert services_, f"{where}: no Service selects it"
    for svc in services_:
        workload, _, target_port = service_for(svc["metadata"]["name"], svc["spec"]["ports"][0]["port"])
        assert workload is deployment and target_port == port, f"Service {svc['metadata']['name']}"
    # Prometheus scrapes /metrics on the same port.
    notes = template["metadata"].get("annotations", {})
    assert notes.get("prometheus.io/scrape") == "true", f"{where}: not scraped"
    assert notes.get("prometheus.io/path") == "/metrics"
    assert int(notes.get("prometheus.io/port", -1)) == port, f"{where}: scrape port != {port}"
    # SIGKILL only after preStop plus the app's own drain time.
    comp, _ = load_settings(component, env)
    grace = template["spec"].get("terminationGracePeriodSeconds", 30)
    assert grace > comp.shutdown_grace_s + prestop_sleep_s(container), f"{where}: grace {grace}s"
    resources = container.get("resources", {})
    assert resources.get("requests") and resources.get("limits", {}).get("memory"), f"{where}: resources"
    security = {**template["spec"].get("securityContext", {}), **container.get("securityContext", {})}
    assert security.get("runAsNonRoot") is True, f"{where}: may run as root"
    # Ordering: the pod starts only after `kaohe migrate` succeeded (init container, idempotent).
    inits = [c for c in template["spec"].get("initContainers", []) if k8s_argv(c)[1:] == ["migrate"]]
    assert inits and inits[0]["image"] == container["image"], f"{where}: no migrate init container"
    assert set(container_env(inits[0])) <= allowed_vars(None)
    assert "DATABASE_URL" in container_env(inits[0])
    if component == "gateway":
        check_gateway_production(env, where)


def test_k8s_migrate_job() -> None:
    jobs = [
        (j, c) for j in of_kind("Job").values() for c in pod_containers(j) if k8s_argv(c)[1:] == ["migrate"]
    ]
    assert len(jobs) == 1, f"{len(jobs)} Jobs run `migrate`"
    job, container = jobs[0]
    assert container["image"] == kaohe_image()
    env = container_env(container)
    assert "DATABASE_URL" in env and set(env) <= allowed_vars(None), sorted(env)
    assert pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")


def test_k8s_database_url_matches_postgres() -> None:
    urls = {container_env(k8s_component(c)[1])["DATABASE_URL"] for c in settings.COMPONENTS}
    assert len(urls) == 1, "components point at different databases"
    url = urlsplit(urls.pop())
    assert url.scheme == "postgresql+asyncpg"
    workload, container, port = service_for(url.hostname.split(".")[0], url.port)
    env = container_env(container)
    assert image_name(container["image"]) == "postgres"
    assert port == 5432
    assert (url.username, url.password) == (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"])
    assert url.path.lstrip("/") == env.get("POSTGRES_DB", env["POSTGRES_USER"])
    mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
    claims = [t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])]
    assert "/var/lib/postgresql" in mounts and claims, "postgres data not on a persistent volume"


def test_k8s_s3_matches_minio_and_public_endpoint() -> None:
    env = container_env(k8s_component("indicators")[1])
    url = urlsplit(env["S3_ENDPOINT"])
    service = url.hostname.split(".")[0]
    _, container, _ = service_for(service, url.port)
    m_env = container_env(container)
    assert image_name(container["image"]) == "minio/minio"
    assert (m_env["MINIO_ROOT_USER"], m_env["MINIO_ROOT_PASSWORD"]) == (
        env["S3_ACCESS_KEY"],
        env["S3_SECRET_KEY"],
    )
    # Presigned URLs are signed for S3_PUBLIC_ENDPOINT: that host must reach the same MinIO.
    public = urlsplit(env["S3_PUBLIC_ENDPOINT"])
    backends = ingress_backends()
    assert backends.get((public.hostname, "/"), (None,))[0] == service, (
        f"no Ingress {public.hostname} -> {service}"
    )
    if public.scheme == "https":
        assert public.hostname in ingress_tls_hosts(), f"{public.hostname}: no TLS"


def test_k8s_ingress_exposes_the_gateway_graphql() -> None:
    for service, port in ingress_backends().values():
        service_for(service, port)  # backend Service and port exist and select one workload
    gateway, _ = k8s_component("gateway")
    exposed = [
        (host, path)
        for (host, path), (svc, port) in ingress_backends().items()
        if service_for(svc, port)[0] is gateway and "/graphql".startswith(path.rstrip("/") or "/")
    ]
    assert exposed, "no Ingress routes /graphql to the gateway"
    assert all(host in ingress_tls_hosts() for host, _ in exposed), "gateway Ingress without TLS"


def test_k8s_secret_template_holds_placeholders_only() -> None:
    for name, secret in of_kind("Secret").items():
        assert "data" not in secret, f"Secret {name}: use stringData so placeholders stay readable"
        for key, value in secret.get("stringData", {}).items():
            if SECRET_NAME.search(key):
                assert PLACEHOLDER in value, f"Secret {name}.{key} looks like a real secret"
            if key.endswith("DATABASE_URL"):
                assert PLACEHOLDER in (urlsplit(value).password or ""), f"Secret {name}.{key} password"


def test_k8s_everything_in_one_namespace() -> None:
    namespaces = of_kind("Namespace")
    assert len(namespaces) == 1
    (namespace,) = namespaces
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization.get("namespace", namespace) == namespace
    for (kind, name), obj in k8s_objects().items():
        if kind != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, f"{kind} {name} outside {namespace}"


def test_k8s_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = kustomization.get("resources", [])
    present = {p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert len(listed) == len(set(listed)), "duplicate resources"
    assert set(listed) == present, (
        f"unlisted {sorted(present - set(listed))}, missing {sorted(set(listed) - present)}"
    )
    # The images override must name the image the manifests use, or it silently does nothing.
    overridden = {i["name"] for i in kustomization.get("images", [])}
    kaohe_refs = {
        image_name(c["image"])
        for _, obj in k8s_docs()
        for c in pod_containers(obj)
        if k8s_argv(c)[1:2] in (["serve"], ["migrate"])
    }
    assert kaohe_refs == {image_name(kaohe_image())}, f"Kaohe containers use {kaohe_refs}"
    assert kaohe_refs <= overridden, f"kustomization images do not cover {kaohe_refs - overridden}"
