"""The whole platform on one machine: infrastructure (embedded or external), migrations, five processes."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from kaohe import devstack, migrate
from kaohe.db import asyncpg_dsn
from kaohe.devstack import Managed, S3Ports, StackError
from kaohe.settings import COMPONENTS, DEFAULT_PORTS, SETTINGS_BY_COMPONENT

DB_NAME = "kaohe"
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Ports:
    postgres: int
    nats: int
    s3: S3Ports
    components: dict[str, int]

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
        )


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

    def start_infra(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        e = self.env
        if e.get("DATABASE_URL"):
            self.urls["database"] = e["DATABASE_URL"]
            self.progress(f"PostgreSQL: using DATABASE_URL ({_redact(e['DATABASE_URL'])})")
        else:
            t = time.monotonic()
            pg, url = devstack.start_postgres(self.data_dir / "pg", self.ports.postgres, fsync=self.fsync)
            self.infra.append(pg)
            self.urls["database"] = asyncio.run(_ensure_database(url, DB_NAME))
            self.progress(
                f"PostgreSQL 18 started on 127.0.0.1:{self.ports.postgres} ({time.monotonic() - t:.1f}s)"
            )
        if e.get("NATS_URL"):
            self.urls["nats"] = e["NATS_URL"]
            self.progress(f"NATS: using NATS_URL ({e['NATS_URL']})")
        else:
            nats, url = devstack.start_nats(self.data_dir / "nats", self.ports.nats)
            self.infra.append(nats)
            self.urls["nats"] = url
            self.progress(f"NATS JetStream started on {url}")
        if e.get("S3_ENDPOINT"):
            self.urls["s3"] = e["S3_ENDPOINT"]
            self.progress(f"S3: using S3_ENDPOINT ({e['S3_ENDPOINT']})")
        else:
            key = e.get("S3_ACCESS_KEY", "kaohe")
            secret = e.get("S3_SECRET_KEY", "kaohe-dev-secret")
            s3, url = devstack.start_s3(self.data_dir / "s3", self.ports.s3, key, secret)
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
        for c, port in self.ports.components.items():
            env[f"KAOHE_{c.upper()}_HTTP_PORT"] = str(port)
        return env

    def migrate(self) -> None:
        t = time.monotonic()
        migrate.upgrade(self.urls["database"])
        self.progress(f"migrations applied for {', '.join(migrate.MIGRATED)} ({time.monotonic() - t:.1f}s)")

    def start_components(self, timeout: float = 60) -> None:
        env = self.child_env()
        logs = self.data_dir / "logs"
        for c in COMPONENTS:
            devstack.ensure_free(self.ports.components[c], c)
        for c in COMPONENTS:
            self.procs[c] = devstack._spawn(
                c,
                [sys.executable, "-m", "kaohe.cli", "serve", c],
                logs / f"{c}.log",
                env=env,
                cwd=str(migrate.ROOT),
            )
        deadline = time.monotonic() + timeout
        for c in COMPONENTS:
            url = f"http://127.0.0.1:{self.ports.components[c]}/readyz"
            while True:
                if self.procs[c].proc.poll() is not None:
                    raise StackError(
                        f"{c} exited; log {logs / (c + '.log')}:\n{devstack._tail(logs / (c + '.log'))}"
                    )
                if _http_ok(url):
                    break
                if time.monotonic() > deadline:
                    raise StackError(
                        f"{c} not ready after {timeout}s:\n{devstack._tail(logs / (c + '.log'))}"
                    )
                time.sleep(0.1)
            self.progress(f"{c} ready on http://127.0.0.1:{self.ports.components[c]}")

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
