"""The events the scorer announces (`score.updated`, `warning.raised|cleared`), serialised in bulk.

They hold to kaohe.contracts.scoring (ScoreUpdated, WarningRaised, WarningCleared) and are built as plain
dicts: a full recompute emits one per unit and period, and a model per event costs several times the dict.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from kaohe.contracts.standards import WARNING_LEVEL_ZH
from kaohe.events import event_type
from services.scoring.domain.batch import ResultRow
from services.scoring.domain.book import BookModel
from services.scoring.domain.rows import PaceCheck

SERVICE = "scoring"


_ENVELOPE_HEAD = b'{"specversion":"1.0","id":"'
_ENVELOPE_SOURCE = f'","source":"/kaohe/{SERVICE}","type":'.encode()


class BulkEvent:
    """An event serialised straight to its CloudEvents JSON (the bulk path skips model validation)."""

    __slots__ = ("data", "id", "subject", "time", "type")

    def __init__(self, id: str, type: str, subject: str, data: dict[str, Any], time: str) -> None:
        self.id, self.type, self.subject, self.data, self.time = id, type, subject, data, time

    def to_bytes(self) -> bytes:
        """Byte for byte orjson.dumps of the envelope dict (same keys in the same order)."""
        return b"".join(
            (
                _ENVELOPE_HEAD,
                self.id.encode(),
                _ENVELOPE_SOURCE,
                orjson.dumps(self.type),
                b',"subject":',
                orjson.dumps(self.subject),
                b',"time":"',
                self.time.encode(),
                b'","datacontenttype":"application/json","data":',
                orjson.dumps(self.data),
                b"}",
            )
        )


def uuid4_strings(n: int) -> list[str]:
    """n random (version 4) UUIDs, from one os.urandom call."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    h = raw.tobytes().hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


_ids: list[str] = []  # random ids drawn 4096 at a time (one os.urandom call)
os.register_at_fork(after_in_child=_ids.clear)  # a forked child never reuses its parent's ids


def bulk_event(entity: str, verb: str, subject: str, data: dict[str, Any]) -> BulkEvent:
    if not _ids:
        _ids.extend(uuid4_strings(4096))
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return BulkEvent(_ids.pop(), event_type(SERVICE, entity, verb), subject, data, now)


def score_updated(model: BookModel, period: str, r: ResultRow, cause: str | None) -> BulkEvent:
    """kaohe.contracts.scoring.ScoreUpdated, built as a plain dict: a full recompute emits one per unit and
    period, and a model per event would cost the hot path several times the dict (tests validate them)."""
    u = model.units[r.unit_no]
    data = {
        "unit_id": u.unit_id,
        "unit_path": u.path,
        "unit_name": u.name,
        "scheme_id": model.scheme_id,
        "period": period,
        "category": u.category,
        "total": round(r.total, 6),
        "rank": r.rank,
        "of": r.of,
        "grade": r.grade,
        "version": r.version,
        "leaves": r.leaves,
        "cause_event": cause or "recompute",
    }
    return bulk_event("score", "updated", f"{u.unit_id}:{period}", data)


def warning_event(
    model: BookModel, month: str, w: PaceCheck, codes: dict[int, str], verb: str, previous: str
) -> BulkEvent:
    """kaohe.contracts.scoring.WarningRaised / WarningCleared as a plain dict, like `_updated`."""
    u = model.units[w.unit_no]
    code = codes.get(w.code_no, str(w.code_no))
    data = {
        "unit_id": u.unit_id,
        "unit_path": u.path,
        "unit_name": u.name,
        "scheme_id": model.scheme_id,
        "code": code,
        "period": month,
        "level": w.level,
        "level_zh": WARNING_LEVEL_ZH[w.level],
        "expected": round(w.expected, 6),
        "actual": round(w.actual, 6),
        "lag": round(w.lag, 6),
        "previous_level": previous,
    }
    return bulk_event("warning", verb, f"{u.unit_id}:{code}:{month}", data)
