"""Tables of the supervision service (schema `supervision`, created by migrations/versions/0002_items.py).

The repository speaks SQL to them directly; this map says what each holds:
- `unit` (组织): the indicators service's units as `unit.changed` announced them (id, path, parent);
- `item` (督办事项): one row per item — the item as assigned (`body`), its state (`status`, `cycle`,
  `version` = number of timeline entries, the compare-and-set version), the sweep's index `next_due`,
  `overdue`, `provisional` and the `calendar_version` its deadlines used, card counts, intake fields (phone
  and name Fernet-encrypted), `dedupe_key` (intake client key, rectification key);
- `item_unit`: the lead and cooperating units with their own task and sub-deadline (分项时限);
- `entry` (办理记录): the append-only timeline, each row chained by SHA-256 to the previous (`kaohe.chain`);
- `breach` (超时记录) and `card` (红黄牌): permanent, keyed by the domain's stable keys;
- `calendar_year`, `calendar_override`, `calendar_version`: the calendar in force and its history;
- `warning_state`: the latest state of each scoring warning by event time (reordered events are stale);
- `score` (督查得分) per (unit, period) with its revision, and `score_dirty`, the queue to recompute;
- `number_seq`: each office's 督〔year〕n号 sequence; `assessment_signal`: score changes seen.
`entry`, `breach` and `card` refuse UPDATE and DELETE (a trigger).
"""

from __future__ import annotations

TABLES = (
    "unit",
    "item",
    "item_unit",
    "entry",
    "breach",
    "card",
    "calendar_year",
    "calendar_override",
    "calendar_version",
    "warning_state",
    "score",
    "score_dirty",
    "number_seq",
    "assessment_signal",
)
APPEND_ONLY = ("entry", "breach", "card")
