"""The whole platform on one machine: infrastructure (embedded or external), migrations, the components."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from kaohe import devnats, devstack, logs, migrate, natsauth
from kaohe.db import asyncpg_dsn
from kaohe.devstack import Managed, S3Ports, StackError
from kaohe.natsauth import Identity
from kaohe.settings import COMPONENTS, DEFAULT_PORTS, SETTINGS_BY_COMPONENT

DB_NAME = "kaohe"
Progress = Callable[[str], None]
log = logs.get("kaohe.stack")


def _quiet(_: str) -> None:
    pass


@dataclass
class Ports:
    postgres: int
    nats: int
    s3: S3Ports
    components: dict[str, int]
    auto: bool = False  # chosen free ports: after a bind race, start again on fresh ones

    @classmethod
    def defaults(cls, env: dict[str, str]) -> Ports:
        """Fixed, configurable ports for `kaohe up` (KAOHE_PG_PORT, KAOHE_<C>_HTTP_PORT, …)."""

        def get(var: str, key: str) -> int:
            return int(env.get(var, DEFAULT_PORTS[key]))

        s3 = S3Ports.from_base(
            get("KAOHE_S3_PORT", "s3"), get("KAOHE_S3_INTERNAL_PORT_BASE", "s3_internal_base")
        )
        comps = {c: int(env.get(f"KAOHE_{c.upper()}_HTTP_PORT", DEFAULT_PORTS[c])) for c in COMPONENTS}
        return cls(get("KAOHE_PG_PORT", "postgres"), get("KAOHE_NATS_PORT", "nats"), s3, comps)

    @classmethod
    def free(cls) -> Ports:
        return cls(
            devstack.free_port(),
            devstack.free_port(),
            S3Ports.free(),
            {c: devstack.free_port() for c in COMPONENTS},
            auto=True,
        )


@dataclass
class Restarts:
    """How `Stack.supervise` restarts a component that died: exponential backoff, capped; a run of at
    least `stable_s` forgives earlier crashes; after `max_restarts` quick crashes in a row it gives up."""

    base_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 60.0
    max_restarts: int = 6


@dataclass
class _Run:
    started: float
    crashes: int = 0  # quick crashes in a row
    due: float | None = None  # when a dead component is started again
    exit_code: int | None = None
    delay_s: float = 0.0
    abandoned: bool = False


@dataclass
class Stack:
    """Starts what the environment does not already provide, then the components as child processes."""

    data_dir: Path
    ports: Ports
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    fsync: bool = True
    progress: Progress = _quiet
    infra: list[Managed] = field(default_factory=list)
    procs: dict[str, Managed] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    nats_passwords: dict[str, str] = field(default_factory=dict)  # identity -> password (embedded NATS)
    restarts: Restarts = field(default_factory=Restarts)
    _runs: dict[str, _Run] = field(default_factory=dict)

    def _attempts(self) -> int:
        return 3 if self.ports.auto else 1

    def start_infra(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        e = self.env
        if e.get("DATABASE_URL"):
            self.urls["database"] = e["DATABASE_URL"]
            self.progress(f"PostgreSQL: using DATABASE_URL ({_redact(e['DATABASE_URL'])})")
        else:
            t = time.monotonic()
            for attempt in range(self._attempts()):
                try:
                    pg, url = devstack.start_postgres(
                        self.data_dir / "pg", self.ports.postgres, fsync=self.fsync
                    )
                    break
                except StackError:
                    if attempt + 1 == self._attempts():
                        raise
                    self.ports.postgres = devstack.free_port()
            self.infra.append(pg)
            self.urls["database"] = asyncio.run(_ensure_database(url, DB_NAME))
            self.progress(
                f"PostgreSQL 18 started on 127.0.0.1:{self.ports.postgres} ({time.monotonic() - t:.1f}s)"
            )
        if e.get("NATS_URL"):
            self.urls["nats"] = e["NATS_URL"]
            self.progress(f"NATS: using NATS_URL ({e['NATS_URL']})")
        else:
            # One random password per identity, kept with the data (0600); the server gets them all.
            self.nats_passwords = devnats.nats_credentials(self.data_dir / "nats-credentials.json")
            for attempt in range(self._attempts()):
                try:
                    nats, url = devnats.start_nats(
                        self.data_dir / "nats", self.ports.nats, users=self.nats_passwords
                    )
                    break
                except StackError:
                    if attempt + 1 == self._attempts():
                        raise
                    self.ports.nats = devstack.free_port()
            self.infra.append(nats)
            self.urls["nats"] = url
            self.progress(f"NATS JetStream started on {url} (one identity per component)")
        if e.get("S3_ENDPOINT"):
            self.urls["s3"] = e["S3_ENDPOINT"]
            self.progress(f"S3: using S3_ENDPOINT ({e['S3_ENDPOINT']})")
        else:
            key = e.get("S3_ACCESS_KEY", "kaohe")
            secret = e.get("S3_SECRET_KEY", "kaohe-dev-secret")
            for attempt in range(self._attempts()):
                try:
                    s3, url = devstack.start_s3(self.data_dir / "s3", self.ports.s3, key, secret)
                    break
                except StackError:
                    if attempt + 1 == self._attempts():
                        raise
                    self.ports.s3 = S3Ports.free()
            self.infra.append(s3)
            self.urls["s3"] = url
            self.env.setdefault("S3_ACCESS_KEY", key)
            self.env.setdefault("S3_SECRET_KEY", secret)
            self.progress(f"S3 store (SeaweedFS) started on {url}")

    def child_env(self) -> dict[str, str]:
        env = dict(self.env)
        env["DATABASE_URL"] = self.urls["database"]
        env["NATS_URL"] = self.urls["nats"]
        env["S3_ENDPOINT"] = self.urls["s3"]
        env["KAOHE_INSTANCE"] = self.instance
        for c, port in self.ports.components.items():
            env[f"KAOHE_{c.upper()}_HTTP_PORT"] = str(port)
        return env

    def component_env(self, c: str) -> dict[str, str]:
        """A component's environment: the shared one with its own NATS credentials and nobody else's."""
        env = {k: v for k, v in self.child_env().items() if k not in natsauth.credential_vars()}
        if c in self.nats_passwords:
            env.update(natsauth.env_for(c, self.nats_passwords[c]))
        else:  # external NATS: the credentials the operator gave this component, if any
            env.update({k: self.env[k] for k in natsauth.env_for(c, "") if k in self.env})
        return env

    def identity(self, name: str = natsauth.ADMIN) -> Identity | None:
        """Credentials for an in-process client of this stack's NATS (admin: the CLI, benchmarks)."""
        if name in self.nats_passwords:
            return Identity(name, self.nats_passwords[name], natsauth.inbox_prefix(name))
        return natsauth.admin_identity() if name == natsauth.ADMIN else None

    def migrate(self) -> None:
        t = time.monotonic()
        migrate.upgrade(self.urls["database"])
        self.progress(f"migrations applied for {', '.join(migrate.MIGRATED)} ({time.monotonic() - t:.1f}s)")

    def start_components(self, timeout: float = 60) -> None:
        """Start every component's process and wait until each reports ready, and is ours (instance token)."""
        try:
            self._start_all_components(timeout)
        except BaseException:  # failed or interrupted (Ctrl-C, SIGTERM): leave no component behind
            for p in reversed(list(self.procs.values())):
                p.stop()
            self.procs.clear()
            raise

    def _start_all_components(self, timeout: float) -> None:
        for c in COMPONENTS:
            for attempt in range(self._attempts()):
                try:
                    self._start_component(c, timeout)
                    break
                except StackError:
                    proc = self.procs.pop(c, None)  # absent when the port was taken before spawning
                    if proc is not None:
                        proc.stop()
                    if attempt + 1 == self._attempts():
                        raise
                    self.ports.components[c] = devstack.free_port()
            self.progress(f"{c} ready on http://127.0.0.1:{self.ports.components[c]}")

    def _spawn_component(self, c: str) -> Managed:
        cmd = [sys.executable, "-m", "kaohe.cli", "serve", c]
        log_file = self.data_dir / "logs" / f"{c}.log"
        return devstack._spawn(c, cmd, log_file, env=self.component_env(c), cwd=str(migrate.ROOT))

    def _start_component(self, c: str, timeout: float) -> None:
        log = self.data_dir / "logs" / f"{c}.log"
        port = self.ports.components[c]
        devstack.ensure_free(port, c)
        self.procs[c] = self._spawn_component(c)
        self._runs[c] = _Run(started=time.monotonic())
        deadline = time.monotonic() + timeout
        while True:
            if self.procs[c].proc.poll() is not None:
                raise StackError(f"{c} exited; log {log}:\n{devstack._tail(log)}")
            status = _http_json(f"http://127.0.0.1:{port}/readyz")
            if status is not None:
                if status.get("instance") != self.instance:
                    raise StackError(f"port {port} is answered by another stack's {status.get('component')}")
                if status.get("status") in ("ready", "degraded"):  # degraded: an upstream is silent
                    return
            if time.monotonic() > deadline:
                raise StackError(f"{c} not ready after {timeout}s:\n{devstack._tail(log)}")
            time.sleep(0.1)

    def supervise_once(self) -> None:
        """Restart components that died, each after its backoff; the others are left alone."""
        now = time.monotonic()
        policy = self.restarts
        for c, p in list(self.procs.items()):
            run = self._runs.setdefault(c, _Run(started=now))
            code = p.proc.poll()
            if code is None or run.abandoned:
                continue
            if run.due is None:  # just found dead: schedule the restart
                run.crashes = 1 if now - run.started >= policy.stable_s else run.crashes + 1
                run.exit_code = code
                if run.crashes > policy.max_restarts:
                    run.abandoned = True
                    log.error("stack.component.abandoned", component=c, exit_code=code, crashes=run.crashes)
                    self.progress(
                        f"{c} keeps crashing (exit code {code}, {run.crashes} times in a row); "
                        f"not restarting it again, see {p.log}"
                    )
                    continue
                run.delay_s = min(policy.cap_s, policy.base_s * 2 ** (run.crashes - 1))
                run.due = now + run.delay_s
                log.warning("stack.component.exited", component=c, exit_code=code, restart_in_s=run.delay_s)
            elif now >= run.due:
                self.procs[c] = self._spawn_component(c)
                run.started, run.due = now, None
                log.warning(
                    "stack.component.restarted",
                    component=c,
                    exit_code=run.exit_code,
                    delay_s=run.delay_s,
                    restarts=run.crashes,
                )
                self.progress(
                    f"{c} exited with {run.exit_code}; restarted after {run.delay_s:g}s "
                    f"(restart {run.crashes} in a row; log {p.log})"
                )

    def supervise(self, stop: threading.Event | None = None, poll_s: float = 0.5) -> None:
        """Keep the components running until `stop` is set (forever without one; Ctrl-C ends `kaohe up`)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.supervise_once()
            stop.wait(poll_s)

    def start(self) -> Stack:
        self.start_infra()
        self.migrate()
        self.start_components()
        return self

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.components['gateway']}"

    def stop(self) -> None:
        for p in reversed(list(self.procs.values())):
            p.stop(timeout=SETTINGS_BY_COMPONENT[p.name]().shutdown_grace_s + 5)
        self.procs.clear()
        for m in reversed(self.infra):
            m.stop()
        self.infra.clear()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _http_json(url: str) -> dict[str, Any] | None:
    """GET a JSON body whatever the status (503 while not ready); None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as e:
        try:
            return json.loads(e.read())  # type: ignore[no-any-return]
        except ValueError:
            return {}
    except (urllib.error.URLError, OSError, ValueError):
        return None


def gateway_running(port: int) -> bool:
    return _http_ok(f"http://127.0.0.1:{port}/readyz")


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


async def _ensure_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
