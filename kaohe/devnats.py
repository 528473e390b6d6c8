"""Embedded NATS for the dev stack and the tests: one JetStream server, or a cluster on loopback.

Servers bind to 127.0.0.1 only. With `users`, every client logs in as one of the identities of
`kaohe.natsauth` and gets that identity's permissions (wildcard names: any prefix, any stream).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from kaohe.devstack import Managed, StackError, _bin, _spawn, ensure_free, free_port, wait_port
from kaohe.natsauth import IDENTITIES, WILDCARD, Names, authorization_conf


def nats_credentials(path: Path, identities: tuple[str, ...] | None = None) -> dict[str, str]:
    """A random password per identity, kept in `path` (mode 0600) so restarts and the CLI reuse them."""
    wanted = identities or IDENTITIES
    try:
        creds: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        creds = {}
    if not all(creds.get(i) for i in wanted):
        creds = {i: creds.get(i) or secrets.token_urlsafe(24) for i in wanted}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(creds, fh)
    path.chmod(0o600)
    return creds


def _nats_conf(path: Path, users: dict[str, str] | None, extra: str = "", names: Names = WILDCARD) -> None:
    """Write a server config: 8 MB messages, and with `users` the identities and their permissions."""
    # A published scheme travels whole in one event (scoring needs nothing else): allow 8 MB messages.
    text = "max_payload: 8MB\n" + extra + (authorization_conf(users, names) if users else "")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # passwords inside
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)


def start_nats(
    data_dir: Path, port: int, *, monitor_port: int | None = None, users: dict[str, str] | None = None
) -> tuple[Managed, str]:
    """Start nats-server with JetStream persisted under data_dir; with `users` (identity -> password)
    every client must log in as one of them and gets that identity's permissions (kaohe.natsauth)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / "nats.log"
    ensure_free(port, "NATS")
    name = f"kaohe-dev-{port}-{os.getpid()}-{secrets.token_hex(3)}"
    conf = data_dir.parent / "nats.conf"
    _nats_conf(conf, users)
    args = [
        _bin("nats-server"),
        "-c",
        str(conf),
        "-js",
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-sd",
        str(data_dir),
        "--server_name",
        name,
    ]
    if monitor_port:
        args += ["-m", str(monitor_port)]
    m = _spawn("nats", args, log)
    try:
        wait_port(port, timeout=20, proc=m.proc, log=log)
        _check_nats_is_ours(port, name, m)
    except StackError:
        m.stop()
        raise
    return m, f"nats://127.0.0.1:{port}"


@dataclass
class NatsCluster:
    """A JetStream cluster of nodes on loopback (tests of the production shape)."""

    nodes: list[Managed]
    client_ports: list[int]
    names: list[str]

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.client_ports)

    def node_named(self, server_name: str) -> Managed:
        return self.nodes[self.names.index(server_name)]

    def stop(self) -> None:
        for m in reversed(self.nodes):
            m.stop()


def start_nats_cluster(
    data_dir: Path,
    *,
    size: int = 3,
    users: dict[str, str] | None = None,
    names: Names = WILDCARD,
    cluster_name: str = "kaohe",
) -> NatsCluster:
    """Start `size` nats-server nodes routed to each other into one JetStream cluster (free ports);
    `names`: the subject prefixes and stream the permissions name (production ones, as in `infra/`).

    Six ports are chosen before any node binds, so another process may take one in between: a node that
    cannot bind ends the attempt, and the cluster starts again on fresh ports (three attempts)."""
    for attempt in range(1, 4):
        try:
            return _start_cluster(data_dir / f"try{attempt}", size, users, names, cluster_name)
        except StackError:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def _start_cluster(
    data_dir: Path, size: int, users: dict[str, str] | None, names: Names, cluster_name: str
) -> NatsCluster:
    client = [free_port() for _ in range(size)]
    route = [free_port() for _ in range(size)]
    tag = f"{os.getpid()}-{secrets.token_hex(3)}"
    server_names = [f"kaohe-n{i + 1}-{tag}" for i in range(size)]
    started: list[Managed] = []
    try:
        for i in range(size):
            node_dir = data_dir / f"n{i + 1}"
            node_dir.mkdir(parents=True, exist_ok=True)
            ensure_free(client[i], "NATS")
            routes = ", ".join(f"nats-route://127.0.0.1:{route[j]}" for j in range(size) if j != i)
            cluster = (
                f"cluster {{ name: {cluster_name}, listen: 127.0.0.1:{route[i]}, routes: [{routes}] }}\n"
            )
            conf = node_dir / "nats.conf"
            _nats_conf(conf, users, cluster, names)
            args = [_bin("nats-server"), "-c", str(conf), "-js", "-a", "127.0.0.1", "-p", str(client[i])]
            args += ["-sd", str(node_dir / "js"), "--server_name", server_names[i]]
            started.append(_spawn(f"nats-{i + 1}", args, node_dir / "nats.log"))
        for i, m in enumerate(started):
            wait_port(client[i], timeout=20, proc=m.proc, log=m.log)
            _check_nats_is_ours(client[i], server_names[i], m)
    except BaseException:
        for m in reversed(started):
            m.stop()
        raise
    return NatsCluster(started, client, server_names)


def _check_nats_is_ours(port: int, name: str, m: Managed) -> None:
    """Read the server's INFO line: it must carry the unique name we started it with."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        line = sock.makefile("rb").readline().decode(errors="replace")
    info = json.loads(line.split(" ", 1)[1]) if line.startswith("INFO ") else {}
    if m.proc.poll() is not None or info.get("server_name") != name:
        raise StackError(f"port {port} is answered by another NATS server ({info.get('server_name')})")
