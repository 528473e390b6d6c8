"""The session's own asyncpg connection (same transaction) for scoring's bulk paths, and JSON columns."""

from __future__ import annotations

from typing import Any

import orjson

from kaohe.db import raw_connection


def js(x: Any) -> Any:
    """A json/jsonb column: decoded by SQLAlchemy's codec on its connections, text on plain asyncpg ones."""
    return orjson.loads(x) if isinstance(x, str | bytes) else x


raw = raw_connection  # the session's asyncpg connection, same transaction (kaohe.db)


# ---------------------------------------------------------------- books, schemes, rosters
