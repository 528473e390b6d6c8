"""Rules of 结果运用 (结果运用规则): typed, versioned, immutable models that each cite their basis (文件依据).

A RuleSet belongs to one assessing unit (考核主体) and year and carries a version; once proposals were made
with it, it is never changed — a new version is published instead (the service enforces that; the model
is frozen and its `digest` names its exact content). Every rule has an `id` (a short code that lines and
ledger entries cite) and a `basis`, the free-text document and article it comes from.

Kinds (issue 13 §2): quarterly_pay, withholding, annual_bonus, last_place_zero, coefficient, honour, cadre,
streak, linkage. Amounts are never stored in rules: only factors and shares (Decimal) applied to pools in fen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from kaohe.chain import canonical
from services.rewards.domain.conditions import Grade, UnitCondition

PostName = Literal["主要负责人", "班子成员", "一般干部"]
Kind = Literal["month", "quarter", "year"]
Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=12)]
Factor = Annotated[Decimal, Field(ge=0, le=10, max_digits=12)]
RuleId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Basis = Annotated[str, Field(min_length=2, max_length=1000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fail(field: str, message: str) -> NoReturn:
    """Refuse a rule, naming the field inside it (parse_ruleset reports it as rule + field)."""
    raise PydanticCustomError("rule", "{field}: {message}", {"field": field, "message": message})


class _Rule(_Model):
    id: RuleId
    basis: Basis  # 文件依据, e.g. 《恒口示范区薪酬绩效考核办法》第十二条


class HeadcountCap(_Model):  # 人数上限
    """At most `max_share` (rounded down) or `max_count` people may get a grade's adjustment."""

    grade: Grade
    max_share: Share | None = None
    max_count: int | None = Field(None, ge=0)
    scope: Literal["unit", "all"] = "unit"  # per unit's staff, or across everyone this rule set pays

    @model_validator(mode="after")
    def _limit(self) -> HeadcountCap:
        if self.max_share is None and self.max_count is None:
            _fail("max_share", "a cap needs max_share or max_count")
        return self


class QuarterlyPayRule(_Rule):  # 季度绩效工资按等次浮动 (恒口: 优秀 +10%, 较差 −10%)
    """A grade's adjustment of performance pay: by the person's grade (weights in the unit's pool) or the
    unit's grade (the pool itself)."""

    kind: Literal["quarterly_pay"] = "quarterly_pay"
    period_kind: Literal["quarter", "month"] = "quarter"
    graded_by: Literal["person", "unit"] = "person"
    adjust: dict[Grade, Annotated[Decimal, Field(ge=-1, le=1, max_digits=12)]] = Field(min_length=1)
    caps: tuple[HeadcountCap, ...] = Field((), max_length=8)

    def factor(self, grade: str | None) -> Decimal:
        """1 + the grade's adjustment (1 when the grade has none)."""
        return 1 + self.adjust.get(grade, Decimal(0))  # type: ignore[arg-type]


class WithholdingRule(_Rule):  # 暂扣绩效工资, 按季度考核结果返还
    """A share of the pool is withheld (暂扣) and released by the unit's grade; the rest stays withheld."""

    kind: Literal["withholding"] = "withholding"
    period_kind: Literal["quarter", "month", "year"] = "quarter"
    share: Annotated[Decimal, Field(gt=0, le=1, max_digits=12)]
    release: dict[Grade, Share] = Field(min_length=1)  # share of the withheld amount paid back
    ungraded_release: Share = Decimal(1)

    def released(self, grade: str | None) -> Decimal:
        """The share of the withheld amount a unit with this grade gets back."""
        if grade is None:
            return self.ungraded_release
        return self.release.get(grade, Decimal(0))  # type: ignore[arg-type]


class BonusTier(_Model):  # 奖金档次
    name: str = Field(min_length=1, max_length=40)  # 一档, 二档 …
    grades: frozenset[Grade] = Field(min_length=1)
    multiplier: Factor


class AnnualBonusRule(_Rule):  # 年度考核奖档次 (拉开档次, 差距不低于10%)
    """Tiers best first; adjacent multipliers differ by at least `min_gap` (0.10 = 10 points of the
    standard bonus); the tier is chosen by the unit's or the person's grade."""

    kind: Literal["annual_bonus"] = "annual_bonus"
    period_kind: Literal["year"] = "year"
    graded_by: Literal["unit", "person"] = "unit"
    tiers: tuple[BonusTier, ...] = Field(min_length=2, max_length=10)
    min_gap: Share = Decimal("0.10")
    ungraded_multiplier: Factor = Decimal(1)

    @model_validator(mode="after")
    def _tiers(self) -> AnnualBonusRule:
        seen: set[str] = set()
        for i, t in enumerate(self.tiers):
            if seen & t.grades:
                _fail(f"tiers.{i}.grades", f"grade {sorted(seen & t.grades)[0]} is in two tiers")
            seen |= t.grades
            if i and self.tiers[i - 1].multiplier - t.multiplier < self.min_gap:
                _fail(
                    f"tiers.{i}.multiplier",
                    f"{t.name} ({t.multiplier}) is less than min_gap {self.min_gap} below"
                    f" {self.tiers[i - 1].name} ({self.tiers[i - 1].multiplier}); tiers go best first",
                )
        if len({t.name for t in self.tiers}) != len(self.tiers):
            _fail("tiers", "tier names must be unique")
        return self

    def tier(self, grade: str | None) -> BonusTier | None:
        """The tier of a grade, None when no tier lists it."""
        return next((t for t in self.tiers if grade in t.grades), None)


class LastPlaceZeroRule(_Rule):  # 末位零绩效 (阳泉)
    """A unit meeting the condition (by default scoring's 末位 flag) is paid nothing of its pool."""

    kind: Literal["last_place_zero"] = "last_place_zero"
    period_kinds: frozenset[Kind] = frozenset({"quarter", "year"})
    condition: UnitCondition = UnitCondition(last_place=True)


class CoefficientRule(_Rule):  # 考核系数 (阳泉: 招商、产业、发改等一线部门系数更高)
    """A multiplier of a unit's pool by its unit kind."""

    kind: Literal["coefficient"] = "coefficient"
    by_unit_kind: dict[Annotated[str, Field(min_length=1, max_length=40)], Factor] = Field(min_length=1)
    default: Factor = Decimal(1)

    def of(self, unit_kind: str) -> Decimal:
        """The coefficient of a unit kind."""
        return self.by_unit_kind.get(unit_kind, self.default)


Honour = Literal["通报表扬", "先进单位", "先进个人", "记功集体"]


class HonourRule(_Rule):  # 评先评优: 通报表扬 / 先进单位 / 先进个人 / 记功集体
    """Units meeting the condition (or their staff with a given own grade) are proposed for an honour,
    best-ranked first up to `max_count`."""

    kind: Literal["honour"] = "honour"
    honour: Honour
    target: Literal["unit", "person"] = "unit"
    period_kind: Kind = "year"
    condition: UnitCondition
    person_grades: frozenset[Grade] | None = None  # target person: the person's own grade
    posts: frozenset[PostName] | None = None  # target person: only these posts
    max_count: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _target(self) -> HonourRule:
        if self.honour == "先进个人" and self.target != "person":
            _fail("target", "先进个人 is an honour for persons: target must be person")
        if self.honour in ("先进单位", "记功集体") and self.target != "unit":
            _fail("target", f"{self.honour} is an honour for units: target must be unit")
        if self.target == "unit" and (self.person_grades is not None or self.posts is not None):
            _fail("person_grades", "person_grades and posts apply to target person only")
        return self


class CadreRule(_Rule):  # 干部结果运用: 提醒谈话 / 调整建议 / 入选干部库
    """Cadres in `posts` of a unit meeting the condition in `consecutive` periods running get a proposal."""

    kind: Literal["cadre"] = "cadre"
    consequence: Literal["提醒谈话", "调整建议", "入选干部库"]
    period_kind: Kind = "year"
    condition: UnitCondition
    consecutive: int = Field(1, ge=1, le=10)
    posts: frozenset[PostName] = Field(frozenset({"主要负责人"}), min_length=1)


class StreakRule(_Rule):  # 连续N期规则 (e.g. 连续三年优秀 → 记三等功)
    """A proposal after `periods` consecutive periods: a person's own grade in `grades`, or a unit meeting
    `condition` (then to the unit itself, or to its cadres in `posts`)."""

    kind: Literal["streak"] = "streak"
    subject: Literal["person", "unit"]
    proposal: str = Field(min_length=1, max_length=40)  # 记三等功, 记功集体 …
    period_kind: Kind = "year"
    periods: int = Field(ge=2, le=10)
    grades: frozenset[Grade] | None = None  # subject person
    condition: UnitCondition | None = None  # subject unit
    posts: frozenset[PostName] | None = None

    @model_validator(mode="after")
    def _subject(self) -> StreakRule:
        if self.subject == "person" and (self.grades is None or self.condition is not None):
            _fail("grades", "subject person needs grades (the person's own) and no condition")
        if self.subject == "unit" and (self.condition is None or self.grades is not None):
            _fail("condition", "subject unit needs a condition and no grades")
        return self


class LinkageRule(_Rule):  # 单位+个人联动 (辽阳): 单位等次决定个人优秀比例
    """A unit's grade sets the share of its staff who may be rated `person_grade` (rounded down)."""

    kind: Literal["linkage"] = "linkage"
    period_kind: Kind = "year"
    person_grade: Grade = "优秀"
    share_by_unit_grade: dict[Grade, Share] = Field(min_length=1)  # e.g. 25/20/15/10%
    ungraded_share: Share = Decimal(0)

    def share(self, unit_grade: str | None) -> Decimal:
        """The share of staff a unit with this grade may rate `person_grade`."""
        if unit_grade is None:
            return self.ungraded_share
        return self.share_by_unit_grade.get(unit_grade, Decimal(0))  # type: ignore[call-overload]

    def quota(self, unit_grade: str | None, staff: int) -> int:
        """How many of `staff` may be rated `person_grade` (rounded down)."""
        return int(self.share(unit_grade) * staff)


Rule = Annotated[
    QuarterlyPayRule
    | WithholdingRule
    | AnnualBonusRule
    | LastPlaceZeroRule
    | CoefficientRule
    | HonourRule
    | CadreRule
    | StreakRule
    | LinkageRule,
    Field(discriminator="kind"),
]
# kinds of which one rule per period kind may exist (two would both decide the same money or quota)
_SINGLE = ("quarterly_pay", "annual_bonus", "withholding", "linkage", "last_place_zero")


def _kinds_of(rule: Any) -> frozenset[str]:
    if isinstance(rule, CoefficientRule):
        return frozenset({"month", "quarter", "year"})
    if isinstance(rule, LastPlaceZeroRule):
        return rule.period_kinds
    return frozenset({rule.period_kind})


class RuleSet(_Model):  # 结果运用规则集 (per 考核主体 and year, versioned)
    """The rules an assessing unit applies to one year's published results, in one immutable version."""

    assessing_unit: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=2000, le=2100)
    version: int = Field(ge=1)
    rules: tuple[Rule, ...] = Field(max_length=200)

    @model_validator(mode="after")
    def _coherent(self) -> RuleSet:
        problems: list[dict[str, str]] = []
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                problems.append({"rule": r.id, "field": "id", "message": "duplicate rule id"})
            seen.add(r.id)
        taken: dict[tuple[str, str], str] = {}
        for r in self.rules:
            for k in sorted(_kinds_of(r)):
                family = "pay" if r.kind in ("quarterly_pay", "annual_bonus") else r.kind
                if family not in (*_SINGLE, "pay", "coefficient"):
                    continue
                if (family, k) in taken:
                    problems.append(
                        {
                            "rule": r.id,
                            "field": "period_kind",
                            "message": f"rule {taken[family, k]!r} already decides {family} for {k} periods",
                        }
                    )
                else:
                    taken[family, k] = r.id
        if problems:
            text = "; ".join(f"rule {p['rule']!r} field {p['field']!r}: {p['message']}" for p in problems)
            raise PydanticCustomError("ruleset", "{text}", {"text": text, "problems": problems})
        return self

    @property
    def ref(self) -> str:
        """`assessing_unit/year/vN`, the name lines and ledger entries cite."""
        return f"{self.assessing_unit}/{self.year}/v{self.version}"

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical content: the same rules always have the same digest."""
        return hashlib.sha256(canonical(self.model_dump(mode="json"))).hexdigest()

    def for_period(self, period_kind: str) -> tuple[Any, ...]:
        """The rules that apply to a period of this kind, in their order."""
        return tuple(r for r in self.rules if period_kind in _kinds_of(r))


class RuleProblem(_Model):  # 规则错误
    rule: str | None  # the rule's id (or rules[i] when it has none); None for the set itself
    field: str  # dotted path inside the rule (or the set)
    message: str


class RuleSetInvalid(ValueError):
    """A rule set that cannot be used; `problems` name each rule and field."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__("; ".join(f"{p.rule or 'ruleset'}.{p.field}: {p.message}" for p in problems))
        self.problems = problems


def parse_ruleset(data: Mapping[str, Any]) -> RuleSet:
    """Validate a rule set from plain data; raises RuleSetInvalid naming every bad rule and field."""
    try:
        return RuleSet.model_validate(data)
    except ValidationError as e:
        raise RuleSetInvalid(_problems(e, data)) from None


def _problems(e: ValidationError, data: Mapping[str, Any]) -> list[RuleProblem]:
    out: list[RuleProblem] = []
    rules = data.get("rules") if isinstance(data, Mapping) else None
    for err in e.errors():
        if err["type"] == "ruleset":
            out.extend(RuleProblem(**p) for p in err["ctx"]["problems"])
            continue
        loc = list(err["loc"])
        message = err["msg"]
        if err["type"] == "rule":
            loc += err["ctx"]["field"].split(".")
            message = err["ctx"]["message"]
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            i = loc[1]
            raw = rules[i] if isinstance(rules, list | tuple) and i < len(rules) else None
            rid = raw.get("id") if isinstance(raw, Mapping) else None
            rest = loc[2:]
            if rest and isinstance(raw, Mapping) and rest[0] == raw.get("kind"):
                rest = rest[1:]  # the discriminator's tag adds the kind to the path
            out.append(
                RuleProblem(
                    rule=str(rid) if rid else f"rules[{i}]",
                    field=".".join(str(x) for x in rest) or "rule",
                    message=message,
                )
            )
        else:
            out.append(RuleProblem(rule=None, field=".".join(str(x) for x in loc), message=message))
    return out
