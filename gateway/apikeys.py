"""API keys for integration systems (13710 督办, 统计局, payroll): stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from gateway.policy import ALL_SCOPES
from gateway.tables import API_KEY
from kaohe.db import Database
from kaohe.errors import NotFound, Unauthenticated, ValidationFailed
from kaohe.identity import Caller, Role

PREFIX = "khk"
CACHE_TTL_S = 5.0  # a revoked key stops working within this long on every gateway replica


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    """Create, list, revoke and verify keys; verification is cached briefly per process."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def create(self, owner: Caller, *, name: str, scopes: list[str], org_path: str) -> dict[str, Any]:
        """A new key under the owner's subtree; the plain key is returned once and never stored."""
        bad = sorted(set(scopes) - {*ALL_SCOPES, "*"})
        if bad or not scopes:
            raise ValidationFailed(
                f"unknown scopes {bad}; use {', '.join(ALL_SCOPES)} or *", field="scopes", code="bad_scope"
            )
        if not (org_path.startswith(owner.org_path) and org_path.endswith("/")):
            raise ValidationFailed("org_path must lie within your subtree", field="org_path")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        row = {
            "id": key_id,
            "name": name,
            "secret_hash": _hash(secret),
            "scopes": sorted(set(scopes)),
            "org_path": org_path,
            "created_by": owner.user_id,
        }
        async with self.db.uow() as s:
            await s.execute(insert(API_KEY).values(**row))
        return {**public(row), "key": f"{PREFIX}_{key_id}_{secret}"}

    async def list(self, owner: Caller) -> list[dict[str, Any]]:
        async with self.db.uow() as s:
            rows = (await s.execute(select(API_KEY).order_by(API_KEY.c.created_at))).mappings().all()
        return [public(dict(r)) for r in rows if owner.covers(r["org_path"])]

    async def revoke(self, owner: Caller, key_id: str) -> dict[str, Any]:
        async with self.db.uow() as s:
            row = (await s.execute(select(API_KEY).where(API_KEY.c.id == key_id))).mappings().first()
            if row is None or not owner.covers(row["org_path"]):
                raise NotFound(f"API key {key_id} not found", field="id")
            now = datetime.now(UTC)
            await s.execute(update(API_KEY).where(API_KEY.c.id == key_id).values(revoked_at=now))
        self._cache.pop(key_id, None)
        return {**public(dict(row)), "revoked_at": now}

    async def verify(self, presented: str, trace_id: str) -> Caller:
        """The integration Caller for a presented key, or Unauthenticated."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise Unauthenticated("malformed API key", field="X-Api-Key")
        key_id, secret = parts[1], parts[2]
        now = time.monotonic()
        hit = self._cache.get(key_id)
        if hit is None or hit[0] < now:
            async with self.db.uow() as s:
                row = (await s.execute(select(API_KEY).where(API_KEY.c.id == key_id))).mappings().first()
            hit = (now + CACHE_TTL_S, dict(row) if row else None)
            self._cache[key_id] = hit
        row = hit[1]
        if row is None or row["revoked_at"] is not None:
            raise Unauthenticated("unknown or revoked API key", field="X-Api-Key")
        if not hmac.compare_digest(row["secret_hash"], _hash(secret)):
            raise Unauthenticated("unknown or revoked API key", field="X-Api-Key")
        return Caller(
            user_id=f"apikey:{key_id}",
            roles=frozenset({Role.integration}),
            org_path=row["org_path"],
            scopes=frozenset(row["scopes"]),
            trace_id=trace_id,
        )


def public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row.get(k) for k in ("id", "name", "scopes", "org_path", "created_by", "created_at", "revoked_at")
    }
