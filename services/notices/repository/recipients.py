"""Recipients (通讯录): every SQL statement about them; a user's own row, an office's import."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import Any

import asyncpg

from kaohe.contracts import paths

_UPSERT = (
    "INSERT INTO recipient (user_id, unit_id, org_path, roles, codes, email, channels, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (user_id) DO UPDATE SET unit_id = excluded.unit_id, org_path = excluded.org_path,"
    " roles = excluded.roles, codes = excluded.codes, email = coalesce(excluded.email, recipient.email),"
    " channels = excluded.channels, updated_at = excluded.updated_at"
)


async def upsert_many(c: asyncpg.Connection, rows: Sequence[dict[str, Any]], at: Any) -> int:
    """Insert or update recipients (the office's import); quiet hours are the user's own and kept."""
    await c.executemany(
        _UPSERT,
        [
            (
                r["user_id"],
                r["unit_id"],
                r["org_path"],
                list(r["roles"]),
                list(r.get("codes") or ()),
                r.get("email"),
                list(r["channels"]),
                at,
            )
            for r in rows
        ],
    )
    return len(rows)


async def set_preferences(
    c: asyncpg.Connection,
    *,
    user_id: str,
    unit_id: str,
    org_path: str,
    roles: Sequence[str],
    codes: Sequence[str],
    email: str | None,
    channels: Sequence[str],
    quiet: tuple[time, time] | None,
    at: Any,
) -> dict[str, Any]:
    """The caller's own row: identity from the token, preferences from the request."""
    row = await c.fetchrow(
        "INSERT INTO recipient (user_id, unit_id, org_path, roles, codes, email, channels, quiet_start,"
        " quiet_end, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (user_id) DO UPDATE SET unit_id = excluded.unit_id, org_path = excluded.org_path,"
        " roles = excluded.roles, codes = excluded.codes, email = excluded.email,"
        " channels = excluded.channels, quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,"
        " updated_at = excluded.updated_at"
        " RETURNING user_id, email, channels, quiet_start, quiet_end",
        user_id,
        unit_id,
        org_path,
        list(roles),
        list(codes),
        email,
        list(channels),
        quiet[0] if quiet else None,
        quiet[1] if quiet else None,
        at,
    )
    return dict(row)


async def preferences(c: asyncpg.Connection, user_id: str) -> dict[str, Any] | None:
    row = await c.fetchrow(
        "SELECT user_id, email, channels, quiet_start, quiet_end FROM recipient WHERE user_id = $1", user_id
    )
    return dict(row) if row else None


async def count_in(c: asyncpg.Connection, root: str) -> int:
    lo, hi = paths.bounds(root)
    return int(
        await c.fetchval(f"SELECT count(*) FROM recipient WHERE {paths.sql('org_path', '$1', '$2')}", lo, hi)
    )
