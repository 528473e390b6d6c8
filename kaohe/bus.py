"""NATS connection and JetStream stream bootstrap."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from kaohe import logs
from kaohe.events import stream_subjects

log = logs.get("kaohe.bus")

EVENT_SERVICES: tuple[str, ...] = ("indicators", "scoring", "supervision", "rewards", "gateway")


async def connect(url: str, *, name: str, reconnect_wait: float = 1.0) -> NATS:
    """Connect with unlimited reconnects: a NATS outage pauses work, it never ends the process."""

    async def on_error(e: Exception) -> None:
        log.warning("nats.error", error=repr(e))

    async def on_disconnect() -> None:
        log.warning("nats.disconnected", client=name)

    async def on_reconnect() -> None:
        log.info("nats.reconnected", client=name)

    return await nats.connect(
        servers=[u.strip() for u in url.split(",") if u.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=reconnect_wait,
        allow_reconnect=True,
        connect_timeout=5,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )


async def ensure_streams(
    js: JetStreamContext, *, stream: str, prefix: str, replicas: int = 1, duplicate_window_s: float = 120.0
) -> None:
    """Create (or update) the events stream and the dead-letter stream; safe to call from every process."""
    configs = [
        StreamConfig(
            name=stream,
            subjects=stream_subjects(prefix, EVENT_SERVICES),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=90 * 86400,
            duplicate_window=duplicate_window_s,
            num_replicas=replicas,
            discard=DiscardPolicy.OLD,
        ),
        StreamConfig(
            name=f"{stream}_DLQ",
            subjects=[f"{prefix}-dlq.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=365 * 86400,
            duplicate_window=duplicate_window_s,
            num_replicas=replicas,
        ),
    ]
    for cfg in configs:
        try:
            await js.stream_info(cfg.name)
            await js.update_stream(cfg)
        except NotFoundError:
            try:
                await js.add_stream(cfg)
            except BadRequestError:  # another process created it in between
                await js.update_stream(cfg)
