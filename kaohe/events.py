"""Events: the CloudEvents 1.0 envelope, the per-service outbox/inbox/dead-letter tables, and `emit`.

A state change and the event announcing it are written in one transaction (`emit` adds an outbox row to
the caller's session). The relay (`kaohe.relay`) publishes committed rows; consumers (`kaohe.consumer`)
record each processed event id in their inbox in the handler's own transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

SPEC_VERSION = "1.0"


class CloudEvent(BaseModel):
    """CloudEvents 1.0 (JSON format) with a `traceid` extension attribute."""

    model_config = ConfigDict(extra="allow")

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str  # kaohe.<service>.<entity>.<past_verb>
    subject: str | None = None  # the entity's id
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    traceid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)

    @property
    def service(self) -> str:
        return self.type.split(".")[1]


def event_type(service: str, entity: str, verb: str) -> str:
    return f"kaohe.{service}.{entity}.{verb}"


def nats_subject(prefix: str, etype: str) -> str:
    """Map `kaohe.indicators.submission.approved` onto the deployment's subject prefix."""
    parts = etype.split(".")
    if len(parts) != 4 or parts[0] != "kaohe":
        raise ValueError(f"event type must be kaohe.<service>.<entity>.<past_verb>, got {etype!r}")
    return ".".join([prefix, *parts[1:]])


def stream_subjects(prefix: str, services: tuple[str, ...]) -> list[str]:
    return [f"{prefix}.{s}.>" for s in services]


def dlq_subject(prefix: str, consumer: str) -> str:
    return f"{prefix}-dlq.{consumer}"


# --- tables (one set per service schema; created by each service's first migration) --------------


def kernel_tables(metadata: MetaData, schema: str | None) -> dict[str, Table]:
    """Define outbox, inbox and dead_letter in `schema` on `metadata`."""
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(), primary_key=True),
        Column("id", String(64), nullable=False, unique=True),
        Column("type", String(200), nullable=False),
        Column("subject", String(300), nullable=False),
        Column("envelope", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Index(None, "seq", postgresql_where=text("published_at IS NULL")),
        schema=schema,
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )
    dead = Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("consumer", String(200), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("type", String(200), nullable=False),
        Column("envelope", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("replayed_at", DateTime(timezone=True)),
        Index(None, "consumer", "event_id", unique=True),
        schema=schema,
    )
    return {"outbox": outbox, "inbox": inbox, "dead_letter": dead}


# Unqualified tables: every component's connections put its own schema first on the search path.
_META = MetaData()
TABLES = kernel_tables(_META, None)
OUTBOX, INBOX, DEAD_LETTER = TABLES["outbox"], TABLES["inbox"], TABLES["dead_letter"]


def notify_channel(schema: str) -> str:
    return f"kaohe_outbox_{schema}"


class Outbox:
    """Writes events into the caller's transaction; bound to a deployment's subject prefix and schema."""

    def __init__(self, *, prefix: str, schema: str) -> None:
        self.prefix = prefix
        self.schema = schema

    async def emit(self, session: AsyncSession, event: CloudEvent) -> CloudEvent:
        """Add `event` to the outbox; it is published only if the caller's transaction commits."""
        await session.execute(
            insert(OUTBOX).values(
                id=event.id,
                type=event.type,
                subject=nats_subject(self.prefix, event.type),
                envelope=event.to_bytes(),
            )
        )
        # Wakes the relay at commit time; NOTIFY is transactional, so a rollback sends nothing.
        # Once per transaction is enough: the relay drains everything pending when woken.
        tx = session.sync_session.get_transaction()
        if tx is None or session.info.get("outbox_notified_tx") is not tx:
            session.info["outbox_notified_tx"] = tx
            await session.execute(text("SELECT pg_notify(:ch, '')"), {"ch": notify_channel(self.schema)})
        return event


def new_event(
    service: str, entity: str, verb: str, *, subject: str, data: dict[str, Any], trace_id: str | None = None
) -> CloudEvent:
    return CloudEvent(
        source=f"/kaohe/{service}",
        type=event_type(service, entity, verb),
        subject=subject,
        data=data,
        traceid=trace_id,
    )
