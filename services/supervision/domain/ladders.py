"""Clock ladders (时限阶梯): how many working days each clock allows, per source and priority.

Basis: Shanxi's "13710" (事项1日内签收、3日内反馈, progress reported on a fixed cadence) and the seeds'
"10天一推进" — the defaults; a 督查室 may set shorter ladders for 领导批示 or urgent items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ConfigInvalid
from .items import Priority, Source, SupervisionItem


@dataclass(frozen=True, slots=True)
class Ladder:  # 时限阶梯
    """Working days for each clock; None switches a clock off. Defaults: 13710."""

    accept: int | None = 1
    first_feedback: int | None = 3
    progress_every: int | None = 10
    name: str = "13710"

    def __post_init__(self) -> None:
        for k in ("accept", "first_feedback", "progress_every"):
            v = getattr(self, k)
            if v is not None and v < 1:
                raise ConfigInvalid(f"{k} must be at least 1 working day or None", field=k)


@dataclass(frozen=True)
class LadderPolicy:  # 分类时限
    """Ladders per source and priority: (source, priority) wins, then priority, then source, then default."""

    default: Ladder = Ladder()
    by_source: Mapping[Source, Ladder] = field(default_factory=dict)
    by_priority: Mapping[Priority, Ladder] = field(default_factory=dict)
    by_source_priority: Mapping[tuple[Source, Priority], Ladder] = field(default_factory=dict)

    def for_item(self, item: SupervisionItem) -> Ladder:
        """The ladder that applies to this item."""
        s, p = item.source.source, item.priority
        return (
            self.by_source_priority.get((s, p))
            or self.by_priority.get(p)
            or self.by_source.get(s)
            or self.default
        )
