"""Reading infra/compose.yaml as Compose would (env file, interpolation) and its kaohe services."""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.infra.common import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    INFRA,
    dockerfile_entrypoint,
    image_name,
    parse_nats_conf,
)

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
