"""The bus guarantees on the production shape: a 3-node JetStream cluster with replicated streams (R3),
started from the same nats-server binary on loopback, with the identities and permissions of production.

The test bodies are the single-server ones (tests/kernel/test_outbox.py and test_consumer.py), run here
once against the cluster; the SIGKILL takes down the stream's leader, and nothing restarts it. The cluster is
this test's own, so it uses the production names (`kaohe`, `KAOHE_EVENTS`) and so the exact permissions
committed in `infra/` (not the wildcard form of the dev stack).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

import tests.kernel.test_consumer as consumer_tests
import tests.kernel.test_outbox as outbox_tests
from kaohe import bus, devnats, natsauth
from kaohe.devnats import NatsCluster
from tests.conftest import Namespace, eventually

REPLICAS = 3


@dataclass
class Cluster:
    nodes: NatsCluster
    passwords: dict[str, str]
    admin: NATS

    def identity(self, name: str) -> natsauth.Identity:
        return natsauth.Identity(name, self.passwords[name], natsauth.inbox_prefix(name))


@pytest.fixture
def ns() -> Namespace:
    """The production names (the cluster is this test's own)."""
    names = natsauth.production_names()
    return Namespace(names.event_prefix, names.stream, names.rpc_prefix, bucket="kaohe-cluster-unused")


@pytest_asyncio.fixture
async def cluster(ns: Namespace) -> AsyncIterator[Cluster]:
    """Three nodes, routed to each other; ready once the namespace's streams exist with three replicas."""
    workdir = Path(tempfile.mkdtemp(prefix="kaohe-cluster-"))
    passwords = {i: secrets.token_urlsafe(16) for i in natsauth.IDENTITIES}
    names = natsauth.production_names()
    nodes = devnats.start_nats_cluster(workdir, size=REPLICAS, users=passwords, names=names)
    admin = None
    try:
        admin = await bus.connect(
            nodes.url,
            name="cluster-admin",
            identity=natsauth.Identity("admin", passwords["admin"]),
            reconnect_wait=0.2,
        )
        js = admin.jetstream(timeout=2)

        async def streams_replicated() -> bool:  # JetStream answers once the nodes elected a meta leader
            try:
                await bus.ensure_streams(js, stream=ns.stream, prefix=ns.prefix, replicas=REPLICAS)
                info = await js.stream_info(ns.stream)
            except Exception:
                return False
            return info.cluster is not None and len(info.cluster.replicas or []) == REPLICAS - 1

        await eventually(streams_replicated, within=30, what="a JetStream cluster with R3 streams")
        yield Cluster(nodes, passwords, admin)
    finally:
        if admin is not None:
            await admin.close()
        nodes.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def test_cluster_event_published_iff_transaction_commits(
    database_url: str, cluster: Cluster, ns: Namespace
) -> None:
    ind = await bus.connect(cluster.nodes.url, name="indicators", identity=cluster.identity("indicators"))
    try:  # the relay publishes as indicators, into the replicated stream
        relay_js, reader_js = ind.jetstream(timeout=5), cluster.admin.jetstream(timeout=5)
        await outbox_tests.published_iff_commit(database_url, relay_js, reader_js, ns)
    finally:
        await ind.close()
    info = await cluster.admin.jetstream().stream_info(ns.stream)
    assert info.config.num_replicas == REPLICAS and info.state.messages == 1


@pytest.mark.timeout(180)
async def test_cluster_node_sigkill_during_1000_events_loses_and_doubles_nothing(
    database_url: str, cluster: Cluster, ns: Namespace
) -> None:
    killed: list[str] = []

    async def kill_the_stream_leader(js: JetStreamContext) -> None:
        info = await js.stream_info(ns.stream)
        assert info.cluster is not None and info.cluster.leader
        cluster.nodes.node_named(info.cluster.leader).kill()  # SIGKILL, and it stays dead
        killed.append(info.cluster.leader)

    await consumer_tests.flow_1000_across_a_kill(
        database_url,
        ns,
        cluster.nodes.url,
        cluster.passwords,
        kill_the_stream_leader,
        replicas=REPLICAS,
    )
    # The two survivors carried the stream on: a new leader among them, still holding all 1,000 events.
    info = await cluster.admin.jetstream(timeout=5).stream_info(ns.stream)
    assert info.cluster is not None and info.cluster.leader not in (None, *killed)
    assert info.state.messages == 1000
