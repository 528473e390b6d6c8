"""Documents (公文) and 文号 counters in SQL; who may see a document is decided here, in one place.

Visibility: a bulletin (audience `subtree`) is seen by the assessing unit's ancestors and by every unit
inside it (the units it ranks); a slip or letter (audience `unit`) by the unit and its ancestors only, so
one township never sees another's 预警单.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts import paths
from kaohe.contracts.pages import decode_cursor, encode_cursor
from kaohe.identity import Caller

COLUMNS = (
    "id, kind, office_code, year, seq, number, title, scheme_id, period, unit_id, subject_path, audience, "
    "status, snapshot_id, pages, files, issued_by, issued_at"
)


async def next_number(s: AsyncSession, office_code: str, year: int) -> int:
    """The next 文号 of the office and year. The counter row stays locked until the transaction ends, so
    numbers are gap-free: a failed issue rolls its number back and the next issue takes it."""
    row = await s.execute(
        text(
            "INSERT INTO number_counter (office_code, year, last) VALUES (:o, :y, 1) "
            "ON CONFLICT (office_code, year) DO UPDATE SET last = number_counter.last + 1 RETURNING last"
        ),
        {"o": office_code, "y": year},
    )
    return int(row.scalar_one())


async def insert(s: AsyncSession, doc: dict[str, Any]) -> None:
    cols = [c.strip() for c in COLUMNS.split(",")]
    values = ", ".join("CAST(:files AS json)" if c == "files" else f":{c}" for c in cols)
    await s.execute(
        text(f"INSERT INTO document ({', '.join(cols)}) VALUES ({values})"),
        {**doc, "files": orjson.dumps(doc["files"]).decode()},
    )


def _visible(caller: Caller) -> tuple[str, dict[str, Any]]:
    """SQL visibility predicate for the caller (see the module docstring)."""
    lo, hi = paths.bounds(caller.org_path)
    covered = paths.sql("subject_path", ":lo", ":hi")
    inside = "(audience = 'subtree' AND starts_with(CAST(:org AS text), subject_path))"
    return f"({covered} OR {inside})", {"lo": lo, "hi": hi, "org": caller.org_path}


def visible(caller: Caller, row: dict[str, Any]) -> bool:
    path = row["subject_path"]
    return caller.covers(path) or (row["audience"] == "subtree" and caller.org_path.startswith(path))


async def get(s: AsyncSession, caller: Caller, document_id: str) -> dict[str, Any] | None:
    """The document if it exists and the caller may see it; None otherwise (existence is not disclosed)."""
    res = await s.execute(text(f"SELECT {COLUMNS} FROM document WHERE id = :id"), {"id": document_id})
    row = res.mappings().first()
    if row is None or not visible(caller, dict(row)):
        return None
    return dict(row)


async def page(
    s: AsyncSession,
    caller: Caller,
    *,
    kind: str | None,
    scheme_id: str | None,
    unit_id: str | None,
    after: str | None,
    first: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, keyset on (issued_at, id)."""
    pred, params = _visible(caller)
    where = [pred]
    for col, val in (("kind", kind), ("scheme_id", scheme_id), ("unit_id", unit_id)):
        if val is not None:
            where.append(f"{col} = :{col}")
            params[col] = val
    key = decode_cursor(after, 2)
    if key is not None:
        where.append("(issued_at, id) < (:k_at, :k_id)")
        params["k_at"], params["k_id"] = datetime.fromisoformat(key[0]), key[1]
    res = await s.execute(
        text(
            f"SELECT {COLUMNS} FROM document WHERE {' AND '.join(where)} "
            "ORDER BY issued_at DESC, id DESC LIMIT :lim"
        ),
        {**params, "lim": first + 1},
    )
    rows = [dict(r) for r in res.mappings().all()]
    more = len(rows) > first
    rows = rows[:first]
    nxt = encode_cursor(rows[-1]["issued_at"].isoformat(), rows[-1]["id"]) if more and rows else None
    return rows, nxt
