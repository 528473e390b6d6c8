"""Result rows as PostgreSQL binary COPY: the full recompute's bulk write without per-value codecs.

asyncpg's `copy_records_to_table` encodes every value through its codec (the two float8[] columns alone
cost a dozen type checks a row); a full recompute writes 150,000 rows, so the tuples are packed here with
precompiled structs, the repeated strings (category, group, grade …) encoded once. Floats go out as their
eight bytes, so what is stored is exactly what was computed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from datetime import UTC, datetime

from services.scoring.domain.batch import ResultRow

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
FLOAT8_OID = 701
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
NULL = struct.pack(">i", -1)

_FIELDS = 27  # results.RESULT_COLUMNS
_INT = struct.Struct(">ii")  # an int4 field: length, value
# total … coefficient (6 × float8) · leaves
_NUMBERS = struct.Struct(">" + "id" * 6 + "ii")
_FLAGS = struct.Struct(">i?i?i?ii")  # in_quota, exempt, last_place, version
_STAMP = struct.Struct(">iq")


class _Strings:
    """Each distinct string's field bytes (length + UTF-8), computed once per write."""

    def __init__(self) -> None:
        self.seen: dict[str | None, bytes] = {None: NULL}

    def __call__(self, s: str | None) -> bytes:
        got = self.seen.get(s)
        if got is None:
            raw = s.encode()  # type: ignore[union-attr]
            got = self.seen[s] = struct.pack(">i", len(raw)) + raw
        return got


_arrays: dict[int, struct.Struct] = {}


def array(xs: list[float] | None) -> bytes:
    """A one-dimensional float8[] field (length included); NULL for None."""
    if xs is None:
        return NULL
    n = len(xs)
    if n == 0:
        return struct.pack(">iiii", 12, 0, 0, FLOAT8_OID)
    st = _arrays.get(n)
    if st is None:
        st = _arrays[n] = struct.Struct(">iiiiii" + "id" * n)
    body: list[float] = [1, 0, FLOAT8_OID, n, 1]  # dimensions, has nulls, element type, length, lower bound
    for x in xs:
        body += (8, x)
    return st.pack(st.size - 4, *body)


def _int(x: int | None) -> bytes:
    return NULL if x is None else _INT.pack(4, x)


def result_copy(book: int, period: str, rows: Iterable[ResultRow], now: datetime) -> bytes:
    """A binary COPY stream of `rows` in `results.RESULT_COLUMNS` order."""
    text = _Strings()
    head = struct.pack(">h", _FIELDS) + _INT.pack(4, book) + text(period)
    delta = now - PG_EPOCH
    stamp = _STAMP.pack(8, (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    out = [HEADER]
    for r in rows:
        out.append(
            b"".join(
                (
                    head,
                    _INT.pack(4, r.unit_no),
                    text(r.category),
                    text(r.grp),
                    text(r.kind),
                    _NUMBERS.pack(
                        8,
                        r.total,
                        8,
                        r.indicators,
                        8,
                        r.supervision,
                        8,
                        r.bonus,
                        8,
                        r.penalty,
                        8,
                        r.coefficient,
                        4,
                        r.leaves,
                    ),
                    text(r.veto_grade),
                    array(r.l1),
                    array(r.parts),
                    text(r.colour),
                    _INT.pack(4, r.checks),
                    _int(r.rank),
                    _int(r.of),
                    text(r.grade),
                    text(r.threshold_grade),
                    _FLAGS.pack(1, r.in_quota, 1, r.exempt, 1, r.last_place, 4, r.version),
                    stamp,
                )
            )
        )
    out.append(TRAILER)
    return b"".join(out)
