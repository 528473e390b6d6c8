"""Scoring configuration of one results book (考核计分设置): supervision share, grades, warnings, periods."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.scoring.domain.composition import (
    HENGKOU_QUARTER,
    AnnualShare,
    Aspect,
    PeriodError,
    validate_weights,
)
from services.scoring.domain.pace import FOUR_LEVEL, THREE_COLOUR, WarningConfig, validate_config
from services.scoring.domain.ranking import GradeRules, RankingError, validate_rules

FED_ASPECTS = ("indicators", "supervision")  # aspects scoring computes itself; others are set directly


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradeConfig(_Model):  # 等次评定
    """Thresholds best first, the 优秀 quota and the 末位 count."""

    thresholds: list[tuple[str, float]] = Field(
        default_factory=lambda: [("优秀", 90.0), ("良好", 80.0), ("一般", 60.0)]
    )
    excellent_share: float = Field(0.3, ge=0, le=1)
    excellent_min: int = Field(1, ge=0)
    last_place_count: int = Field(1, ge=0)

    @field_validator("thresholds")
    @classmethod
    def _ordered(cls, v: list[tuple[str, float]]) -> list[tuple[str, float]]:
        # a validator on the field itself, so a refusal names config.grades.thresholds, not config
        try:
            validate_rules(GradeRules(thresholds=tuple((g, float(t)) for g, t in v)))
        except RankingError as e:
            raise ValueError(str(e)) from None
        return v

    def rules(self) -> GradeRules:
        """The engine's GradeRules."""
        return GradeRules(
            thresholds=tuple((g, float(v)) for g, v in self.thresholds),
            excellent_share=self.excellent_share,
            excellent_min=self.excellent_min,
            last_place_count=self.last_place_count,
        )


class WarningSettings(_Model):  # 预警
    """保靖's four levels, 恒口's 三色榜, or custom thresholds on the schedule lag."""

    preset: Literal["four_level", "three_colour", "custom"] = "four_level"
    thresholds: list[tuple[Literal["yellow", "orange", "red"], float]] = Field(default_factory=list)
    basis: Literal["points", "relative"] = "points"

    def engine(self) -> WarningConfig:
        """The engine's WarningConfig."""
        if self.preset == "four_level":
            return WarningConfig(FOUR_LEVEL.thresholds, self.basis)
        if self.preset == "three_colour":
            return WarningConfig(THREE_COLOUR.thresholds, self.basis)
        return WarningConfig(tuple((lv, float(t)) for lv, t in self.thresholds), self.basis)


class AspectConfig(_Model):  # 季度考核方面
    """One aspect; for `indicators`, from_months says how the quarter reads the indicator data:
    quarter_end (default, 季度考核 on 1–3月累计): the quarter scored directly, each leaf taking its
    quarter-level value, else its latest month's in the quarter; mean / last: the mean / the latest of
    the monthly totals (月度进展). Other aspects are direct."""

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=1)
    from_months: Literal["direct", "mean", "last", "quarter_end"] = "direct"


class ShareConfig(_Model):  # 年度构成
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0, le=1)
    source: Literal["quarters_mean", "direct"] = "direct"


def default_aspects() -> list[AspectConfig]:
    return [
        AspectConfig(code="indicators", name="指标得分（季末累计）", weight=1.0, from_months="quarter_end")
    ]


def hengkou_aspects() -> list[AspectConfig]:
    """恒口's six aspects; 年度目标进展 is the quarter scored on its 季末累计 indicator values."""
    out = []
    for a in HENGKOU_QUARTER:
        code = "indicators" if a.code == "annual_progress" else a.code
        from_months = "direct" if code == "supervision" else a.from_months
        if code == "indicators":
            from_months = "quarter_end"
        out.append(AspectConfig(code=code, name=a.name, weight=a.weight, from_months=from_months))
    return out


class ScoringConfig(_Model):  # 计分设置
    """Per results book; see docs/rpc/scoring.md."""

    supervision_weight: float = Field(0.0, ge=0, lt=1)  # 平时督查 share of each period's total
    bonus_cap: float | None = Field(None, ge=0)  # 争先创优 cap
    # 年度目标按序时进度分解: months, quarters and half-years score completion / banded leaves against
    # target × the schedule's share due by the period's end (lower_better targets are not scaled)
    prorate_targets: bool = True
    grades: GradeConfig = Field(default_factory=GradeConfig)
    warnings: WarningSettings = Field(default_factory=WarningSettings)
    quarter_aspects: list[AspectConfig] = Field(default_factory=default_aspects)
    annual_shares: list[ShareConfig] = Field(
        default_factory=lambda: [
            ShareConfig(code="quarters", name="季度考核", weight=1.0, source="quarters_mean")
        ]
    )

    # each part is checked by a validator of its own field, so a refusal names its path
    # (config.quarter_aspects, config.warnings …) instead of just config
    @field_validator("quarter_aspects")
    @classmethod
    def _aspects(cls, v: list[AspectConfig]) -> list[AspectConfig]:
        try:
            validate_weights(
                tuple(Aspect(a.code, a.name, a.weight, a.from_months) for a in v), "quarter_aspects"
            )
        except (PeriodError, ValueError) as e:
            raise ValueError(str(e)) from None
        if not any(a.code == "indicators" for a in v):
            raise ValueError("quarter_aspects must include the 'indicators' aspect (indicator data)")
        if any(a.from_months == "quarter_end" and a.code != "indicators" for a in v):
            raise ValueError("from_months quarter_end applies to the 'indicators' aspect only")
        return v

    @field_validator("annual_shares")
    @classmethod
    def _shares(cls, v: list[ShareConfig]) -> list[ShareConfig]:
        try:
            validate_weights(
                tuple(AnnualShare(s.code, s.name, s.weight, s.source) for s in v), "annual_shares"
            )
        except (PeriodError, ValueError) as e:
            raise ValueError(str(e)) from None
        return v

    @field_validator("warnings")
    @classmethod
    def _warnings(cls, v: WarningSettings) -> WarningSettings:
        try:
            validate_config(v.engine())
        except (PeriodError, ValueError) as e:
            raise ValueError(str(e)) from None
        return v

    def aspects(self) -> tuple[Aspect, ...]:
        """The engine's quarterly aspects."""
        return tuple(Aspect(a.code, a.name, a.weight, a.from_months) for a in self.quarter_aspects)

    def shares(self) -> tuple[AnnualShare, ...]:
        """The engine's annual shares."""
        return tuple(AnnualShare(s.code, s.name, s.weight, s.source) for s in self.annual_shares)
