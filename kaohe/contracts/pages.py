"""Pages: the request base every RPC params model shares, keyset page requests and results, one cursor codec.

A cursor is the sort key of the last item of a page, opaque to clients: JSON of the key's values, base64url
without padding. The gateway wraps a service's cursor with the same codec.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from kaohe.errors import ValidationFailed

MAX_PAGE = 500
MAX_CURSOR = 2000
T = TypeVar("T")


class Request(BaseModel):
    """Base of every RPC params model: unknown fields refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageRequest(Request):
    """A keyset page: `first` items after the cursor of the previous page's last item."""

    after: str | None = Field(None, max_length=MAX_CURSOR)
    first: int = Field(100, ge=1, le=MAX_PAGE)


class Page(BaseModel, Generic[T]):
    """One page of items and the cursor of the next (None on the last page)."""

    items: list[T]
    next: str | None = None


def encode_cursor(*key: object) -> str:
    """An opaque cursor from the sort key (str, int, float, bool or None values) of the last item."""
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str | None, n: int | None = None, *, field: str = "after") -> list[Any] | None:
    """The sort key a cursor holds (None for no cursor); `n` is the key's length when it is fixed."""
    if cursor is None:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        key = None
    if not isinstance(key, list) or (n is not None and len(key) != n):
        raise ValidationFailed(f"{field}: not a cursor from this list", field=field, code="bad_cursor")
    return key


def decode_offset(cursor: str | None, *, field: str = "after") -> int:
    """An offset cursor (for lists paged by position): 0 for no cursor."""
    key = decode_cursor(cursor, 1, field=field)
    if key is None:
        return 0
    if not isinstance(key[0], int) or isinstance(key[0], bool) or key[0] < 0:
        raise ValidationFailed(f"{field}: not a cursor from this list", field=field, code="bad_cursor")
    return key[0]


def page(items: Sequence[Any], first: int, key: Callable[[Any], Sequence[object]]) -> dict[str, Any]:
    """Items fetched with LIMIT first + 1 → `{items, next}`."""
    more = len(items) > first
    kept = list(items[:first])
    return {"items": kept, "next": encode_cursor(*key(kept[-1])) if more and kept else None}
