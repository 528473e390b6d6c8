"""NATS connection and JetStream stream bootstrap."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from kaohe import logs, registry
from kaohe.events import stream_subjects
from kaohe.natsauth import Identity

log = logs.get("kaohe.bus")

EVENT_SERVICES: tuple[str, ...] = registry.COMPONENTS  # each may publish kaohe.<itself>.*.*


async def connect(
    url: str, *, name: str, identity: Identity | None = None, reconnect_wait: float = 1.0
) -> NATS:
    """Connect as `identity` (None: no credentials), with unlimited reconnects: an outage only pauses work.

    The server refuses a subject the identity may not use asynchronously (a request then times out):
    that arrives here and is logged as `nats.permission_denied` at error level, naming the subject.
    """

    async def on_error(e: Exception) -> None:
        text = str(e)
        if "permissions violation" in text.lower():
            log.error("nats.permission_denied", client=name, user=user, error=text)
        elif "authorization violation" in text.lower():  # retried: the server's users may be changing
            log.error("nats.login_refused", client=name, user=user, hint="check KAOHE_<C>_NATS_PASSWORD")
        else:
            log.warning("nats.error", client=name, error=repr(e))

    async def on_disconnect() -> None:
        log.warning("nats.disconnected", client=name)

    async def on_reconnect() -> None:
        log.info("nats.reconnected", client=name)

    user = identity.user if identity else None
    auth: dict[str, str] = {}
    if identity is not None:
        auth = {"user": identity.user, "password": identity.password, "inbox_prefix": identity.inbox_prefix}
    return await nats.connect(
        servers=[u.strip() for u in url.split(",") if u.strip()],
        name=name,
        **auth,  # type: ignore[arg-type]
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
