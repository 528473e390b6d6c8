"""The gateway's own tables (schema `gateway`): API keys, webhooks, deliveries and their attempts."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

META = MetaData()  # unqualified: the gateway's connections put `gateway` first on the search path

API_KEY = Table(
    "api_key",
    META,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of the high-entropy secret
    Column("scopes", JSON, nullable=False),
    Column("org_path", String(1000), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

WEBHOOK = Table(
    "webhook",
    META,
    Column("id", String(32), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),  # shared HMAC secret, shown once at registration
    Column("event_types", JSON, nullable=False),
    Column("org_path", String(1000), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

DELIVERY = Table(
    "webhook_delivery",
    META,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("webhook_id", String(32), ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("body", Text, nullable=False),  # exactly the bytes that are signed and sent
    Column("status", String(20), nullable=False, server_default="pending"),  # pending|delivered|failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("webhook_id", "event_id"),
    Index("webhook_delivery_due", "next_attempt_at", postgresql_where="status = 'pending'"),
)

ATTEMPT = Table(
    "webhook_attempt",
    META,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("delivery_id", BigInteger, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Index("webhook_attempt_delivery", "delivery_id"),
)
