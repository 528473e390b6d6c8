"""RPC params and results of the supervision service: the shared contract's models, named for the service.

Both ends import them from `kaohe.contracts.supervision_rpc` (params) and `kaohe.contracts.supervision`
(results and events); this module only gathers the names the handlers use.
"""

from __future__ import annotations

from kaohe.contracts.supervision import (
    Board,
    CalendarPublic,
    CardPublic,
    ExportFile,
    ImportReport,
    IntakeResult,
    ItemDetail,
    ItemPublic,
    ScorePublic,
    SweepResult,
    TimelineVerify,
    UnitStats,
)
from kaohe.contracts.supervision_rpc import ItemCreateParams, ItemListParams, TransitionParams

__all__ = [
    "Board",
    "CalendarPublic",
    "CardPublic",
    "ExportFile",
    "ImportReport",
    "IntakeResult",
    "ItemCreateParams",
    "ItemDetail",
    "ItemListParams",
    "ItemPublic",
    "ScorePublic",
    "SweepResult",
    "TimelineVerify",
    "TransitionParams",
    "UnitStats",
]
