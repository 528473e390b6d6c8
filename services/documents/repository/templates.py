"""提示函 templates per office (发文机关代字): read and replace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def get(s: AsyncSession, office_code: str) -> dict[str, Any] | None:
    res = await s.execute(
        text("SELECT office_code, body, updated_by, updated_at FROM letter_template WHERE office_code = :o"),
        {"o": office_code},
    )
    row = res.mappings().first()
    return dict(row) if row else None


async def put(s: AsyncSession, office_code: str, body: str, user: str, at: datetime) -> None:
    await s.execute(
        text(
            "INSERT INTO letter_template (office_code, body, updated_by, updated_at) VALUES (:o, :b, :u, :t) "
            "ON CONFLICT (office_code) DO UPDATE SET body = :b, updated_by = :u, updated_at = :t"
        ),
        {"o": office_code, "b": body, "u": user, "t": at},
    )
