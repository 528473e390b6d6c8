"""Email deliveries (邮件投递): create, claim with FOR UPDATE SKIP LOCKED under a lease, record each attempt.

A delivery is one (notice, channel); the notice is one (rule, source, recipient), so each email is keyed
once. Replicas claim disjoint rows; a claim whose lease ran out (a process killed mid-send) is taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from kaohe.contracts import paths


async def add(c: asyncpg.Connection, rows: Sequence[tuple[int, str, str | None, datetime]]) -> int:
    """(notice id, user id, unit path, not before) email deliveries, multi-row, once per notice."""
    if not rows:
        return 0
    ids, users, unit_paths, times = (list(x) for x in zip(*rows, strict=True))
    await c.execute(
        "INSERT INTO delivery (notice_id, channel, user_id, unit_path, not_before)"
        " SELECT n, 'email', u, p, t FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])"
        " AS x(n, u, p, t) ON CONFLICT (notice_id, channel) DO NOTHING",
        ids,
        users,
        unit_paths,
        times,
    )
    return len(rows)


async def retime(c: asyncpg.Connection, rows: Sequence[tuple[int, datetime]]) -> None:
    """(notice id, not before) of email deliveries still pending: later send times (quiet hours)."""
    if not rows:
        return
    ids, times = (list(x) for x in zip(*rows, strict=True))
    await c.execute(
        "UPDATE delivery d SET not_before = x.t FROM unnest($1::bigint[], $2::timestamptz[]) AS x(n, t)"
        " WHERE d.notice_id = x.n AND d.channel = 'email' AND d.status = 'pending'",
        ids,
        times,
    )


_CLAIM = """
WITH c AS (
    UPDATE delivery d SET claimed_until = $1::timestamptz + $3 * interval '1 second', attempts = attempts + 1
    WHERE d.id IN (
        SELECT id FROM delivery
        WHERE status = 'pending' AND not_before <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
        ORDER BY not_before, id LIMIT $2
        FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.notice_id, d.user_id, d.attempts
)
SELECT c.id, c.notice_id, c.attempts, n.title, n.body, n.urgent, r.email, r.quiet_start, r.quiet_end
FROM c JOIN notice n ON n.id = c.notice_id LEFT JOIN recipient r ON r.user_id = c.user_id
ORDER BY c.id
"""


async def claim(c: asyncpg.Connection, now: datetime, *, limit: int, lease_s: float) -> list[asyncpg.Record]:
    """Take up to `limit` due deliveries for this process (the attempt is counted at the claim)."""
    return await c.fetch(_CLAIM, now, limit, lease_s)


async def sent(c: asyncpg.Connection, delivery_id: int, attempt: int, now: datetime) -> None:
    await c.execute(
        "UPDATE delivery SET status = 'sent', sent_at = $3, claimed_until = NULL, last_error = NULL"
        " WHERE id = $1 AND attempts = $2",
        delivery_id,
        attempt,
        now,
    )
    await _attempt(c, delivery_id, attempt, now, None)


async def failed(
    c: asyncpg.Connection,
    delivery_id: int,
    attempt: int,
    now: datetime,
    error: str,
    retry_at: datetime | None,
) -> None:
    """A failed attempt: pending again from `retry_at`, or failed for good when `retry_at` is None."""
    await c.execute(
        "UPDATE delivery SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,"
        " not_before = coalesce($4, not_before), claimed_until = NULL, last_error = $3"
        " WHERE id = $1 AND attempts = $2",
        delivery_id,
        attempt,
        error[:2000],
        retry_at,
    )
    await _attempt(c, delivery_id, attempt, now, error[:2000])


async def _attempt(
    c: asyncpg.Connection, delivery_id: int, attempt: int, at: datetime, error: str | None
) -> None:
    await c.execute(
        "INSERT INTO delivery_attempt (delivery_id, attempt, at, ok, error) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING",
        delivery_id,
        attempt,
        at,
        error is None,
        error,
    )


async def page(
    c: asyncpg.Connection, root: str, *, status: str | None, before: int | None, first: int
) -> list[asyncpg.Record]:
    """Deliveries of notices about units in the office's subtree, newest first, with their attempts."""
    lo, hi = paths.bounds(root)
    return await c.fetch(
        "SELECT d.id, d.notice_id, d.user_id, d.status, d.attempts, d.not_before, d.sent_at, d.last_error,"
        " n.rule, n.title, coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at,"
        " 'ok', a.ok, 'error', a.error) ORDER BY a.attempt) FROM delivery_attempt a"
        " WHERE a.delivery_id = d.id), '[]') AS tries"
        f" FROM delivery d JOIN notice n ON n.id = d.notice_id WHERE {paths.sql('d.unit_path', '$1', '$2')}"
        " AND ($3::text IS NULL OR d.status = $3) AND ($4::bigint IS NULL OR d.id < $4)"
        " ORDER BY d.id DESC LIMIT $5",
        lo,
        hi,
        status,
        before,
        first + 1,
    )


def backoff(attempt: int, base_s: float, max_s: float) -> timedelta:
    """Doubling backoff after the `attempt`-th failure, capped."""
    return timedelta(seconds=min(base_s * 2 ** (attempt - 1), max_s))


def public(r: Any) -> dict[str, Any]:
    import orjson

    tries = r["tries"]
    return {
        "delivery_id": str(r["id"]),
        "notice_id": str(r["notice_id"]),
        "user_id": r["user_id"],
        "rule": r["rule"],
        "title": r["title"],
        "status": r["status"],
        "attempts": r["attempts"],
        "not_before": r["not_before"].isoformat(),
        "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None,
        "last_error": r["last_error"],
        "tries": orjson.loads(tries) if isinstance(tries, str | bytes) else tries,
    }
