"""Evaluation standards (评价标准) and schedules (时间进度): the contract between indicators and scoring.

A scheme's scored leaf carries one `Standard` and one `Schedule`. The indicators service validates and
stores them; the scoring service evaluates them. Both import these models and nothing else of each other.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Direction = Literal["higher_better", "lower_better"]  # 正向 / 逆向


class CompletionRatio(_Model):
    """完成率: score = full × min(ratio, cap), ratio = value/target (target/value for lower_better);
    a ratio below `floor` scores 0."""

    type: Literal["completion_ratio"] = "completion_ratio"
    cap: float = Field(1.0, gt=0, le=2.0, description="highest ratio credited, e.g. 1.2 = 120%")
    floor: float = Field(0.0, ge=0, le=1.0, description="ratio below which the score is 0")


class Band(_Model):
    min_ratio: float = Field(ge=0)
    fraction: float = Field(ge=0, le=1)


class Banded(_Model):
    """分档: the highest band whose min_ratio ≤ value/target gives its fraction of the full score."""

    type: Literal["banded"] = "banded"
    bands: list[Band] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _ascending(self) -> Banded:
        mins = [b.min_ratio for b in self.bands]
        if mins != sorted(mins) or len(set(mins)) != len(mins):
            raise ValueError("bands must have strictly ascending min_ratio")
        fracs = [b.fraction for b in self.bands]
        if fracs != sorted(fracs):  # a better result must never score lower
            raise ValueError("band fractions must not decrease as min_ratio rises")
        return self


class RankAmongPeers(_Model):
    """排名进位: rank within the category; first gets full, last gets `last_fraction`, linear between."""

    type: Literal["rank"] = "rank"
    last_fraction: float = Field(0.6, ge=0, le=1)
    progress_bonus_per_place: float = Field(0.0, ge=0, description="进位: bonus per place gained")
    progress_bonus_cap: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _cap_with_bonus(self) -> RankAmongPeers:
        if self.progress_bonus_per_place > 0 and self.progress_bonus_cap <= 0:
            raise ValueError("progress_bonus_cap must be set when progress_bonus_per_place is used")
        return self


class Deduction(_Model):
    """扣分: each occurrence deducts `per_occurrence` points, never more than `max_deduction` in all."""

    type: Literal["deduction"] = "deduction"
    per_occurrence: float = Field(gt=0)
    max_deduction: float | None = Field(None, gt=0, description="None: up to the full score")


class Qualitative(_Model):
    """领导评议: a grade maps to a fraction of the full score."""

    type: Literal["qualitative"] = "qualitative"
    grades: dict[str, float] = Field(
        default_factory=lambda: {"好": 1.0, "较好": 0.8, "一般": 0.6, "差": 0.3},
        min_length=1,
    )

    @model_validator(mode="after")
    def _fractions(self) -> Qualitative:
        bad = [g for g, f in self.grades.items() if not 0.0 <= f <= 1.0]
        if bad:
            raise ValueError(f"grade fractions must lie in 0..1: {', '.join(bad)}")
        return self


class Bonus(_Model):
    """加分 / 争先创优: points per unit of value, capped; outside the weighted total."""

    type: Literal["bonus"] = "bonus"
    per_unit: float = Field(gt=0)
    cap: float = Field(gt=0)


class Veto(_Model):
    """一票否决: a value > 0 (an occurrence) caps the unit's grade at `cap_grade`."""

    type: Literal["veto"] = "veto"
    cap_grade: Literal["良好", "一般", "较差"] = "较差"


Inner = Annotated[CompletionRatio | Banded | Deduction, Field(discriminator="type")]


class Formula(_Model):
    """公式: `expression` over named data elements (and `prev(x)`, `growth(x)`), then scored by `then`."""

    type: Literal["formula"] = "formula"
    expression: str = Field(min_length=1, max_length=2000)
    then: Inner = Field(default_factory=CompletionRatio)

    @model_validator(mode="after")
    def _parses(self) -> Formula:
        from kaohe.expr import ExprError, parse  # the one expression language, checked at save time

        try:
            parse(self.expression)
        except ExprError as e:
            raise ValueError(f"expression: {e}") from None
        return self


Standard = Annotated[
    CompletionRatio | Banded | RankAmongPeers | Deduction | Qualitative | Bonus | Veto | Formula,
    Field(discriminator="type"),
]


class Milestone(_Model):
    month: int = Field(ge=1, le=12)
    fraction: float = Field(ge=0, le=1, description="share of the annual target due by the month's end")


class Schedule(_Model):
    """时间进度: how much of the annual target should be done by a date (序时进度)."""

    kind: Literal["linear", "milestones"] = "linear"
    milestones: list[Milestone] = Field(default_factory=list, max_length=12)

    @model_validator(mode="after")
    def _monotone(self) -> Schedule:
        if self.kind == "milestones":
            if not self.milestones:
                raise ValueError("a milestones schedule needs at least one milestone")
            months = [m.month for m in self.milestones]
            fracs = [m.fraction for m in self.milestones]
            if months != sorted(set(months)) or fracs != sorted(fracs):
                raise ValueError("milestones must be in month order with non-decreasing fractions")
        return self


WarningLevel = Literal["green", "yellow", "orange", "red"]  # 绿 / 黄 / 橙 / 红
WARNING_LEVEL_ZH: dict[str, str] = {"green": "绿", "yellow": "黄", "orange": "橙", "red": "红"}
GRADES: tuple[str, ...] = ("优秀", "良好", "一般", "较差")
