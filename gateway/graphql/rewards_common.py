"""Shared by the rewards (结果运用) GraphQL modules: the Fen scalar, the RewardsErrorCode enum,
contract-checked params and results, and the masking of names."""

from __future__ import annotations

from enum import Enum
from typing import Any, NewType, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from kaohe.errors import ValidationFailed

Fen = strawberry.scalar(
    NewType("Fen", int),
    serialize=int,
    parse_value=int,
    description="An amount of money in fen (分, 1/100 yuan): an integer, possibly beyond 32 bits",
)

REWARDS_CODES: dict[str, str] = {
    "forbidden_scope": "The unit or assessing unit lies outside your organisation subtree.",
    "version_conflict": "Someone changed it first (compare-and-set): read it again, then decide.",
    "unit_unknown": "The rewards service does not know this unit (not yet published by indicators).",
    "import_changed": "The file differs from the dry run's: dry-run this file, then commit its digest.",
    "import_invalid": "The roster file has problems: fix the cells the dry run lists.",
    "ruleset_invalid": "A rule is invalid: `details.problems` name each rule id and field.",
    "ruleset_immutable": "An active or used rule-set version never changes: create a new version.",
    "ruleset_missing": "No active rule set for this assessing unit and year: activate one first.",
    "set_closed": "The proposal set is approved, rejected or superseded: nothing more can change.",
    "wrong_level": "Approve the set's next level (`details.expected`).",
    "same_reviewer": "One person may not pass two review levels of a set.",
    "problems_open": "Resolve every problem of the set (caps, quotas, staff) before approving.",
    "reason_required": "An adjustment, resolution or rejection needs a reason (at least 2 characters).",
    "pool_exceeded": "The new amount exceeds what the unit's pool has left.",
    "not_money": "An amount was given for a line that is not money (an honour, a consequence).",
}
RewardsErrorCode = strawberry.enum(
    Enum(  # type: ignore[misc]
        "RewardsErrorCode",
        {k.upper(): strawberry.enum_value(k, description=v) for k, v in REWARDS_CODES.items()},
    ),
    description="Codes of the rewards service (结果运用) in `UserError.code`, beside the ErrorCode ones",
)

M = TypeVar("M", bound=BaseModel)


def contract(model: type[M], **given: Any) -> dict[str, Any]:
    """RPC params built and checked with the contract model; a bad argument is `validation_failed` naming
    it (the GraphQL argument in camelCase is derived by UserError from the snake_case field)."""
    try:
        m = model(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        raise ValidationFailed(f"{loc or 'input'}: {err['msg']}", field=loc) from None
    return m.model_dump(mode="json", exclude_unset=True)


def read(model: type[M], data: Any) -> M:
    """A service result read with its contract model."""
    return model.model_validate(data)


def mask(name: str | None) -> str | None:
    """张三丰 → 张*丰, 张三 → 张*, a single character stays: readers see who, not the full name."""
    if not name:
        return None
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]
