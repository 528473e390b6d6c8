"""Webhooks: integrators register a URL for event types; deliveries are signed, retried, recorded.

Signature: `Kaohe-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the Unix timestamp in
`Kaohe-Timestamp`; receivers recompute it and reject stale timestamps (replay). Retries back off
exponentially (base × 2^(attempt-1)) until `webhook_max_attempts`, then the delivery is `failed`.

Targets (SSRF): https only, and every address the host resolves to must be public (not loopback, private,
link-local, multicast, reserved or unspecified), checked at registration and again before each attempt;
the attempt then connects to the address that was checked (no second lookup to rebind). Failures are
recorded as a category (`connect_failed`, `timeout`, `http_<status>`, …), never the transport's text, so
the history is no port scanner. `webhook_allow_private` lifts the address rules, for development only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
import orjson
from sqlalchemy import and_, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.callbacks import intake_callback_rows
from gateway.config import GatewayConfig
from gateway.tables import ATTEMPT, DELIVERY, WEBHOOK
from kaohe import logs
from kaohe.contracts.supervision import ItemClosed
from kaohe.db import Database
from kaohe.errors import NotFound, ValidationFailed
from kaohe.events import CloudEvent
from kaohe.identity import Caller

log = logs.get("gateway.webhooks")

# Public names integrators subscribe to → platform event types.
EVENT_TYPES: dict[str, str] = {
    "results.published": "kaohe.scoring.results.published",
    "warning.raised": "kaohe.scoring.warning.raised",
    "warning.cleared": "kaohe.scoring.warning.cleared",
    "score.updated": "kaohe.scoring.score.updated",
    "submission.approved": "kaohe.indicators.submission.approved",
    "submission.rejected": "kaohe.indicators.submission.rejected",
    "submission.reopened": "kaohe.indicators.submission.reopened",
    "supervision.item.opened": "kaohe.supervision.item.opened",
    "supervision.item.changed": "kaohe.supervision.item.changed",
    "supervision.item.closed": "kaohe.supervision.item.closed",
    "supervision.card.issued": "kaohe.supervision.card.issued",
    "supervision.breach.recorded": "kaohe.supervision.breach.recorded",
    "rewards.proposal.approved": "kaohe.rewards.proposal.approved",  # units: pools and consequences
    "rewards.pay.approved": "kaohe.rewards.pay.approved",  # approved pay lines (opaque person keys)
    "notices.notice.created": "kaohe.notices.notice.created",  # 通知: rule, unit, recipients' user ids
}
BY_TYPE = {v: k for k, v in EVENT_TYPES.items()}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def forbidden_address(addr: str) -> bool:
    """True for any address a webhook must not reach: everything but global unicast."""
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IP literals, also decimal/octal forms, resolve to themselves)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class TargetRefused(Exception):
    """A delivery not attempted; `category` is what the history records."""

    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


def _split(url: str) -> tuple[SplitResult, str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts, host, port


def scoped_data(event: CloudEvent, org_path: str) -> dict[str, Any] | None:
    """The event's data as a subscriber under `org_path` may see it; None when nothing of it is theirs."""
    d = event.data
    if "units" in d and isinstance(d["units"], list):  # results.published: keep only the subtree's units
        units = [u for u in d["units"] if str(u.get("unit_path", "")).startswith(org_path)]
        return {**d, "units": units} if units else None
    if "lines" in d and isinstance(d["lines"], list):  # rewards pay.approved: the subtree's pay lines
        lines = [ln for ln in d["lines"] if str(ln.get("unit_path") or "").startswith(org_path)]
        return {**d, "lines": lines} if lines else None
    if "unit_paths" in d and isinstance(d["unit_paths"], list):  # supervision items: the subtree's units
        keep = [i for i, p in enumerate(d["unit_paths"]) if str(p).startswith(org_path)]
        if not keep:
            return None
        ids = list(d.get("unit_ids") or [])
        out = {k: v for k, v in d.items() if k != "callback_url"}  # the complainant's system only
        out["unit_paths"] = [d["unit_paths"][i] for i in keep]
        out["unit_ids"] = [ids[i] for i in keep if i < len(ids)]
        return out
    path = str(d.get("unit_path") or "")
    if path and path.startswith(org_path):
        return d
    return None


class Webhooks:
    """Registration, the event handler that queues deliveries, and the delivery worker."""

    def __init__(self, db: Database, cfg: GatewayConfig) -> None:
        self.db = db
        self.cfg = cfg
        self._http: httpx.AsyncClient | None = None
        self.wake = asyncio.Event()

    # --- registration ---------------------------------------------------------------------------
    async def check_url(self, url: str, field: str = "url") -> None:
        """Refuse a target a delivery must not reach (see the module docstring), naming `field`."""
        try:
            parts, host, port = _split(url)
        except ValueError:
            raise ValidationFailed(f"{field} is not a valid URL", field=field) from None
        if parts.scheme not in ("http", "https") or not host:
            raise ValidationFailed(f"{field} must be an absolute http(s) URL", field=field)
        if not self.cfg.webhook_allow_private:
            if parts.scheme != "https":
                raise ValidationFailed("webhook URLs must use https", field=field)
            try:
                addresses = await resolve(host, port)
            except (OSError, UnicodeError):
                addresses = []  # not resolvable yet: every delivery resolves and checks again
            if any(forbidden_address(a) for a in addresses):
                raise ValidationFailed(
                    f"{field}: the host resolves to a non-public address (loopback, private, link-local, "
                    "multicast or reserved); webhooks deliver to public endpoints only",
                    field=field,
                    code="webhook_target_forbidden",
                )

    async def create(self, owner: Caller, *, url: str, event_types: list[str]) -> dict[str, Any]:
        """Register a URL; the signing secret is returned once."""
        await self.check_url(url)
        unknown = sorted(set(event_types) - set(EVENT_TYPES))
        if unknown or not event_types:
            raise ValidationFailed(
                f"unknown event types {unknown}; use {', '.join(EVENT_TYPES)}", field="eventTypes"
            )
        row = {
            "id": secrets.token_hex(8),
            "url": url,
            "secret": secrets.token_urlsafe(32),
            "event_types": sorted(set(event_types)),
            "org_path": owner.org_path,
            "owner": owner.user_id,
        }
        async with self.db.uow() as s:
            await s.execute(insert(WEBHOOK).values(**row))
        return {**row, "active": True, "created_at": datetime.now(UTC)}

    async def list(self, owner: Caller) -> list[dict[str, Any]]:
        async with self.db.uow() as s:
            rows = (await s.execute(select(WEBHOOK).order_by(WEBHOOK.c.created_at))).mappings().all()
        return [_public(dict(r)) for r in rows if owner.covers(r["org_path"])]

    async def get(self, owner: Caller, webhook_id: str) -> dict[str, Any]:
        async with self.db.uow() as s:
            row = (await s.execute(select(WEBHOOK).where(WEBHOOK.c.id == webhook_id))).mappings().first()
        if row is None or not owner.covers(row["org_path"]):
            raise NotFound(f"webhook {webhook_id} not found", field="id")
        return _public(dict(row))

    async def delete(self, owner: Caller, webhook_id: str) -> dict[str, Any]:
        hook = await self.get(owner, webhook_id)
        async with self.db.uow() as s:
            await s.execute(update(WEBHOOK).where(WEBHOOK.c.id == webhook_id).values(active=False))
        return {**hook, "active": False}

    async def deliveries(
        self, owner: Caller, webhook_id: str, *, first: int, after: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Delivery history, newest first (keyset on id), each with its attempts."""
        await self.get(owner, webhook_id)
        q = select(DELIVERY).where(DELIVERY.c.webhook_id == webhook_id)
        if after is not None:
            q = q.where(DELIVERY.c.id < after)
        async with self.db.uow() as s:
            rows = [
                dict(r)
                for r in (await s.execute(q.order_by(DELIVERY.c.id.desc()).limit(first + 1))).mappings()
            ]
            ids = [r["id"] for r in rows[:first]]
            atts = (
                (
                    await s.execute(
                        select(ATTEMPT).where(ATTEMPT.c.delivery_id.in_(ids)).order_by(ATTEMPT.c.id)
                    )
                )
                .mappings()
                .all()
            )
        by: dict[int, list[dict[str, Any]]] = {}
        for a in atts:
            by.setdefault(a["delivery_id"], []).append(dict(a))
        page = [{**r, "attempt_log": by.get(r["id"], [])} for r in rows[:first]]
        return page, (page[-1]["id"] if len(rows) > first else None)

    # --- event handler (runs in the durable consumer's transaction, with the inbox) ----------------
    async def on_event(self, s: AsyncSession, event: CloudEvent) -> None:
        await self.on_events(s, [event])

    async def on_events(self, s: AsyncSession, events: list[CloudEvent]) -> None:
        """A consumer batch: the active webhooks read once (a sweep's burst of breaches is thousands)."""
        hooks = (await s.execute(select(WEBHOOK).where(WEBHOOK.c.active))).mappings().all()
        rows = []
        for event in events:
            name = BY_TYPE.get(event.type)
            if name is None:
                continue
            for h in hooks:
                if name not in h["event_types"]:
                    continue
                data = scoped_data(event, h["org_path"])
                if data is None:
                    continue
                body = {"id": event.id, "type": name, "time": event.time.isoformat(), "data": data}
                rows.append(
                    {"webhook_id": h["id"], "event_id": event.id, "event_type": name, "body": _json(body)}
                )
            if event.type == ItemClosed.TYPE and event.data.get("callback_url"):
                rows += await intake_callback_rows(s, event)
        for at in range(0, len(rows), 1000):  # four parameters a row, under the driver's 32,767
            await s.execute(pg_insert(DELIVERY).values(rows[at : at + 1000]).on_conflict_do_nothing())
        if rows:
            self.wake.set()

    # --- delivery worker --------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self._http = httpx.AsyncClient(timeout=self.cfg.webhook_timeout_s, follow_redirects=False)
        try:
            while not stop.is_set():
                try:
                    n = await self.deliver_due()
                except Exception as e:  # DB outage: try again shortly
                    log.warning("webhook.worker_error", error=repr(e))
                    n = 0
                if n == 0:
                    self.wake.clear()
                    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
                    await asyncio.wait(
                        waiters, timeout=self.cfg.webhook_poll_s, return_when="FIRST_COMPLETED"
                    )
                    for w in waiters:
                        w.cancel()
        finally:
            await self._http.aclose()

    async def deliver_due(self, limit: int = 50) -> int:
        """Claim due deliveries (SKIP LOCKED: replicas share the work), send them, record each attempt."""
        lease = timedelta(seconds=self.cfg.webhook_timeout_s + 5)
        async with self.db.uow() as s:
            due = (
                (
                    await s.execute(
                        select(
                            DELIVERY.c.id,
                            DELIVERY.c.body,
                            DELIVERY.c.attempts,
                            DELIVERY.c.event_id,
                            DELIVERY.c.event_type,
                            WEBHOOK.c.url,
                            WEBHOOK.c.secret,
                        )
                        .join(WEBHOOK, WEBHOOK.c.id == DELIVERY.c.webhook_id)
                        .where(
                            and_(DELIVERY.c.status == "pending", DELIVERY.c.next_attempt_at <= text("now()"))
                        )
                        .order_by(DELIVERY.c.next_attempt_at)
                        .limit(limit)
                        .with_for_update(of=DELIVERY, skip_locked=True)
                    )
                )
                .mappings()
                .all()
            )
            if due:
                await s.execute(
                    update(DELIVERY)
                    .where(DELIVERY.c.id.in_([d["id"] for d in due]))
                    .values(next_attempt_at=datetime.now(UTC) + lease)
                )
        await asyncio.gather(*(self._attempt(dict(d)) for d in due))
        return len(due)

    async def _attempt(self, d: dict[str, Any]) -> None:
        assert self._http is not None
        attempt = d["attempts"] + 1
        body = d["body"].encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Kaohe-Webhooks/1",
            "Kaohe-Delivery-Id": str(d["id"]),
            "Kaohe-Event-Id": d["event_id"],
            "Kaohe-Event-Type": d["event_type"],
            "Kaohe-Timestamp": str(ts),
            "Kaohe-Signature": sign(d["secret"], ts, body),
        }
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            url, extensions = await self._target(d["url"], headers)
            r = await self._http.post(url, content=body, headers=headers, extensions=extensions)
            code = r.status_code
            if not 200 <= code < 300:
                error = f"http_{code}"
        except TargetRefused as e:
            error = e.category
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.ConnectError:
            error = "connect_failed"
        except httpx.HTTPError:
            error = "transport_failed"
        ms = int((time.perf_counter() - started) * 1000)
        now = datetime.now(UTC)
        values: dict[str, Any] = {"attempts": attempt, "last_status_code": code, "last_error": error}
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif attempt >= self.cfg.webhook_max_attempts or error == "target_forbidden":  # no retry to it
            values.update(status="failed")
        else:
            delay = self.cfg.webhook_backoff_s * 2 ** (attempt - 1)
            values.update(next_attempt_at=now + timedelta(seconds=delay))
        async with self.db.uow() as s:
            await s.execute(update(DELIVERY).where(DELIVERY.c.id == d["id"]).values(**values))
            await s.execute(
                insert(ATTEMPT).values(
                    delivery_id=d["id"], attempt=attempt, status_code=code, error=error, duration_ms=ms
                )
            )
        log.info("webhook.attempt", delivery=d["id"], attempt=attempt, status=code, error=error)

    async def _target(self, url: str, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """The URL to connect to: as registered when private targets are allowed, else pinned to a
        resolved, checked public address (Host header and TLS name stay the registered host's)."""
        if self.cfg.webhook_allow_private:
            return url, {}
        parts, host, port = _split(url)
        if parts.scheme != "https":
            raise TargetRefused("target_forbidden")
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError):
            raise TargetRefused("dns_failed") from None
        if not addresses or any(forbidden_address(a) for a in addresses):
            raise TargetRefused("target_forbidden")
        ip = addresses[0]
        netloc = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        return parts._replace(netloc=netloc).geturl(), {"sni_hostname": host}


def _json(body: dict[str, Any]) -> str:
    return orjson.dumps(body).decode()


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "secret"}
