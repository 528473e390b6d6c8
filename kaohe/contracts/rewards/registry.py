"""Rewards contract: the cadre registry (干部名册) and rule sets (结果运用规则), RPC params and
results.

`vocabulary.py` holds the shared terms, `events.py` the events, `rpc.py` the proposals, ledger, what-if,
payroll export and the method table. docs/rpc/rewards.md is the prose.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field, model_validator

from kaohe.contracts.pages import PageRequest, Request
from kaohe.contracts.rewards.vocabulary import (
    ID_NUMBER,
    Grade,
    PeriodStr,
    PersonKey,
    Post,
    RuleSetStatus,
    UnitId,
    _Out,
)

# ---------------------------------------------------------------- cadre registry (干部名册)


class PersonUpsert(Request):
    """Register a person or update their name/account; found again by the ID number's HMAC."""

    id_number: str = Field(pattern=ID_NUMBER, description="居民身份证号码; stored only as a keyed hash")
    name: str = Field(min_length=1, max_length=50, description="姓名, shown to authorised readers only")
    account: str | None = Field(None, max_length=128, description="login user id: the person's own ledger")


class PostPublic(_Out):
    """A post (任职) of a person in a unit over [valid_from, valid_to) (valid_to null = current)."""

    post_id: int
    person_key: str
    unit_id: str
    unit_path: str
    post: Post
    rank: str  # 职级: 正处, 副处, 正科, 副科, 科员 …
    monthly_pay_fen: int  # 月奖励性绩效工资基数 (分)
    valid_from: date
    valid_to: date | None = None


class PersonPublic(_Out):
    """A person of the registry; `name` and `account` are null for readers not entitled to them."""

    person_key: str
    name: str | None = None
    account: str | None = None
    created: bool = False  # set by person_upsert when this call registered the person
    posts: list[PostPublic] = Field(default_factory=list)  # history, oldest first
    updated_at: datetime


class PostUpsert(Request):
    """Put a person into a post from `valid_from`; their open posts end that day unless `keep_others`."""

    person_key: PersonKey
    unit_id: UnitId
    post: Post
    rank: str = Field(min_length=1, max_length=20)
    monthly_pay_fen: int = Field(ge=0, le=10**9)
    valid_from: date
    keep_others: bool = False  # true: a concurrent post (兼职) and the open ones stay


class PostEnd(Request):
    post_id: int = Field(ge=1)
    valid_to: date


class PersonGet(Request):
    person_key: PersonKey


class CadresList(PageRequest):
    """The cadres of a unit (or its subtree) as of a date, by person key."""

    unit_id: UnitId
    as_of: date | None = None  # default today
    subtree: bool = False


class CadreRow(_Out):
    person_key: str
    name: str | None = None
    post_id: int
    unit_id: str
    post: Post
    rank: str
    monthly_pay_fen: int
    valid_from: date
    valid_to: date | None = None


class ImportFile(Request):
    """A cadre roster file (CSV or XLSX): inline base64 (≤ 5 MB) or an uploaded object key, not both.

    Columns (first row, Chinese headers): 身份证号, 姓名, 单位代码, 职务类别 (主要负责人/班子成员/一般干部),
    职级, 月绩效基数(元) (yuan with up to 2 decimals), 任职日期 (YYYY-MM-DD); optional 登录账号, 期间 and
    个人等次 (the person's own grade of that period).
    """

    filename: str = Field(min_length=1, max_length=200)
    content_b64: str | None = Field(None, max_length=7_000_000)
    object_key: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _one(self) -> ImportFile:
        if (self.content_b64 is None) == (self.object_key is None):
            raise ValueError("give exactly one of content_b64 and object_key")
        return self


class ImportCommit(ImportFile):
    expected_digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="the dry run's digest")


class ImportProblem(_Out):
    row: int  # 1-based data row (the header is row 0)
    field: str  # the column header
    message: str


class ImportReport(_Out):
    """What a dry run found (nothing written) or what a commit wrote."""

    digest: str  # SHA-256 of the file: commit must name the dry run's
    rows: int
    valid: int
    problems: list[ImportProblem]
    new_persons: int
    new_posts: int  # posts opened (a move closes the person's open post)
    unchanged: int
    grades: int  # 个人等次 rows
    committed: bool = False


class PersonGrade(Request):
    person_key: PersonKey
    grade: Grade | None


class PersonGradesSet(Request):
    """The persons' own grades (个人考核等次) of a period, from their unit's assessment."""

    period: PeriodStr
    items: list[PersonGrade] = Field(min_length=1, max_length=5000)


class UnitProfile(Request):
    unit_id: UnitId
    unit_kind: str = Field(min_length=1, max_length=40, description="单位类型 for 考核系数: 招商, 产业 …")


class UnitProfilesSet(Request):
    items: list[UnitProfile] = Field(min_length=1, max_length=5000)


class UnitPool(Request):
    unit_id: UnitId
    pool_fen: int = Field(ge=0, le=10**13)


class UnitPoolsSet(Request):
    """Base pools (奖励性绩效总额 before 系数 and grade) of units for a period; else staff base × months."""

    period: PeriodStr
    items: list[UnitPool] = Field(min_length=1, max_length=5000)


class Count(_Out):
    count: int


# ---------------------------------------------------------------- rule sets (结果运用规则)


class RuleSetCreate(Request):
    """A new draft version; `rules` as services/rewards/domain/rules.py's models in JSON (docs/rpc)."""

    assessing_unit: UnitId
    year: int = Field(ge=2000, le=2100)
    rules: list[dict[str, Any]] = Field(max_length=200)


class RuleSetRef(Request):
    assessing_unit: UnitId
    year: int = Field(ge=2000, le=2100)
    version: int = Field(ge=1)


class RuleSetUpdate(RuleSetRef):
    rules: list[dict[str, Any]] = Field(max_length=200)
    expected_revision: int = Field(ge=0)


class RuleSetActivate(RuleSetRef):
    expected_revision: int = Field(ge=0)


class RuleSetGet(Request):
    assessing_unit: UnitId
    year: int = Field(ge=2000, le=2100)
    version: int | None = Field(None, ge=1)  # default: the active version


class RuleSetsList(PageRequest):
    assessing_unit: UnitId | None = None
    year: int | None = Field(None, ge=2000, le=2100)


class RuleSetPublic(_Out):
    assessing_unit: str
    year: int
    version: int
    status: RuleSetStatus
    rules: list[dict[str, Any]]
    ref: str  # assessing_unit/year/vN
    digest: str
    revision: int  # compare-and-set token of a draft
    used: bool  # proposals were made with it (then it can never change)
    created_by: str
    created_at: datetime
    activated_at: datetime | None = None
