"""Who may do what on the bus: one NATS identity per component, each with its subject permissions.

Subjects have three shapes that token wildcards tell apart: events `<prefix>.<service>.<entity>.<verb>`
(4 tokens), RPC requests `<rpc_prefix>.<service>.<method>` (3), dead letters `<prefix>-dlq.<consumer>` (2).
A component may publish only its own events, its own consumers' dead letters and acks, and the JetStream
API calls its runtime makes (stream info/create/update, its consumers' create/info/next; no delete or
purge); only the gateway (and the operators' `admin`) may send RPC requests, and a service only to the
services its registry entry names in `calls` (documents → scoring, indicators, supervision); each service
alone may subscribe to its RPC subjects, so nobody can stand in for it. Replies go to the requester's own
inbox prefix (`_INBOX.<component>.…`), which no other component may read or write (`allow_responses` lets
a service answer the requests it received, and nothing else).

`permissions()` is the one source: the dev stack and the tests use it with wildcards for every name
(each test has its own prefixes), `infra/` with the production names; `tests/infra/` compares the
committed configurations with `authorization_conf()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kaohe import registry
from kaohe.settings import COMPONENTS, SERVICES, AdminSettings, ComponentSettings

ADMIN = "admin"
IDENTITIES: tuple[str, ...] = (*COMPONENTS, ADMIN)

# The durable consumers each component runs (the names given to `Runtime.subscribe`). Permissions name
# them exactly, so that no component can ack, pull or reconfigure another's consumer.
CONSUMERS: dict[str, tuple[str, ...]] = {c.name: c.consumers for c in registry.REGISTRY}


@dataclass(frozen=True)
class Names:
    """The deployment's subject prefixes and stream name; `*` stands for any (dev stack, tests)."""

    event_prefix: str = "*"
    rpc_prefix: str = "*"
    stream: str = "*"

    @property
    def dlq_prefix(self) -> str:
        return "*" if self.event_prefix == "*" else f"{self.event_prefix}-dlq"

    @property
    def streams(self) -> tuple[str, ...]:
        return ("*",) if self.stream == "*" else (self.stream, f"{self.stream}_DLQ")


WILDCARD = Names()


def production_names() -> Names:
    """The names a deployment gets from the settings' defaults (`kaohe`, `kaohe-rpc`, `KAOHE_EVENTS`)."""
    f = ComponentSettings.model_fields
    return Names(f["event_prefix"].default, f["rpc_prefix"].default, f["event_stream"].default)


def inbox_prefix(identity: str) -> str:
    """Where an identity's replies arrive: a prefix of its own (admin keeps nats-py's default)."""
    return "_INBOX" if identity == ADMIN else f"_INBOX.{identity}"


def durable(component: str, subscription: str) -> str:
    """The durable consumer's name on the stream (`kaohe.consumer.Consumer.durable`)."""
    return f"{component}-{subscription}"


def permissions(identity: str, names: Names = WILDCARD) -> dict[str, Any]:
    """Publish/subscribe allow-lists of an identity; an unknown identity may do nothing at all."""
    if identity == ADMIN:
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    if identity not in COMPONENTS:
        return {"publish": {"deny": [">"]}, "subscribe": {"allow": [f"{inbox_prefix(identity)}.>"]}}
    n = names
    pub = [f"{n.event_prefix}.{identity}.*.*"]  # its own events (the outbox relay)
    api = "$JS.API"
    for stream in n.streams:  # kaohe.bus.ensure_streams, run by every component at start
        pub += [f"{api}.STREAM.{verb}.{stream}" for verb in ("INFO", "CREATE", "UPDATE")]
    for sub in CONSUMERS[identity]:
        d = durable(identity, sub)
        pub += [
            f"{api}.CONSUMER.DURABLE.CREATE.{n.stream}.{d}",
            f"{api}.CONSUMER.INFO.{n.stream}.{d}",
            f"{api}.CONSUMER.MSG.NEXT.{n.stream}.{d}",
            f"$JS.ACK.{n.stream}.{d}.>",  # ack, nak(delay), term
            f"{n.dlq_prefix}.{d}",  # kaohe.events.dlq_subject
        ]
    sub_ = [f"{inbox_prefix(identity)}.>"]
    perms: dict[str, Any] = {}
    if identity in SERVICES:
        sub_.append(f"{n.rpc_prefix}.{identity}.*")
        perms["allow_responses"] = True  # answer the requests it received, nothing else
        # the services its registry entry names (documents reads scoring): requests only, replies to its inbox
        pub += [f"{n.rpc_prefix}.{s}.*" for s in registry.get(identity).calls]
    else:  # the gateway: the only component that calls services, and reads their events live
        pub += [f"{n.rpc_prefix}.{s}.*" for s in SERVICES]
        sub_ += [f"{n.event_prefix}.{s}.*.*" for s in SERVICES]
    perms["publish"] = {"allow": pub}
    perms["subscribe"] = {"allow": sub_}
    return perms


def authorization_conf(passwords: Mapping[str, str], names: Names = WILDCARD, *, indent: str = "") -> str:
    """The nats-server `authorization` block for these identities (user name = identity).

    A password starting with `$` is written as a reference to the server's environment variable
    (production keeps secrets out of the file); any other is written literally, quoted.
    """
    lines = ["authorization {", "  users = ["]
    for identity, password in passwords.items():
        pw = password if password.startswith("$") else _quote(password)
        lines.append(f"    {{ user: {_quote(identity)}, password: {pw}, permissions: {{")
        perms = permissions(identity, names)
        for kind in ("publish", "subscribe"):
            for rule, subjects in perms[kind].items():
                lines.append(f"      {kind}: {{ {rule}: [")
                lines += [f"        {_quote(s)}" for s in subjects]
                lines.append("      ] }")
        if perms.get("allow_responses"):
            lines.append("      allow_responses: true")
        lines.append("    } }")
    lines += ["  ]", "}"]
    return "\n".join(indent + line if line else line for line in lines) + "\n"


def _quote(s: str) -> str:
    if '"' in s or "\\" in s or "\n" in s:
        raise ValueError(f"cannot quote {s!r} in a NATS configuration")
    return f'"{s}"'


@dataclass(frozen=True)
class Identity:
    """Credentials a process connects with, and its inbox prefix."""

    user: str
    password: str = ""
    inbox_prefix: str = "_INBOX"


def component_identity(settings: ComponentSettings) -> Identity | None:
    """A component's identity from its settings (`KAOHE_<C>_NATS_USER`/`_PASSWORD`); None: no auth."""
    if settings.nats_password is None:
        return None
    user = settings.nats_user or settings.component
    return Identity(user, settings.nats_password.get_secret_value(), inbox_prefix(settings.component))


def admin_identity(settings: AdminSettings | None = None) -> Identity | None:
    """The operators' identity (`KAOHE_ADMIN_NATS_USER`/`_PASSWORD`); None: no auth."""
    s = settings or AdminSettings()
    if s.nats_password is None:
        return None
    return Identity(s.nats_user, s.nats_password.get_secret_value(), inbox_prefix(ADMIN))


def env_for(identity: str, password: str) -> dict[str, str]:
    """The environment variables that give a process this identity's credentials."""
    up = identity.upper()
    return {f"KAOHE_{up}_NATS_USER": identity, f"KAOHE_{up}_NATS_PASSWORD": password}


def credential_vars() -> set[str]:
    """Every identity's credential variables: a component process must see only its own."""
    return {name for i in IDENTITIES for name in env_for(i, "")}


def password_var(identity: str) -> str:
    """The environment variable a production NATS node reads an identity's password from (`infra/`)."""
    return f"NATS_{identity.upper()}_PASSWORD"


def production_authorization(indent: str = "") -> str:
    """The `authorization` block of `infra/` (nats confs, k8s ConfigMap): production names, passwords
    from the nodes' environment. `python -m kaohe.natsauth` prints it."""
    passwords = {i: "$" + password_var(i) for i in IDENTITIES}
    return authorization_conf(passwords, production_names(), indent=indent)


if __name__ == "__main__":
    print(production_authorization(), end="")
