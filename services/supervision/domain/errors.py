"""The supervision domain's error codes (督办域错误码) and the typed errors its pure rules raise."""

from __future__ import annotations

from enum import StrEnum

from kaohe.errors import Conflict, Forbidden, ValidationFailed


class SupervisionErrorCode(StrEnum):
    """Every code the supervision domain raises; the service and gateway expose the same names."""

    ITEM_INVALID = "item_invalid"
    NUMBER_INVALID = "number_invalid"
    TRANSITION_REFUSED = "transition_refused"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    REQUIREMENT_MISSING = "requirement_missing"
    STALE_STATE = "stale_state"
    CONFIG_INVALID = "config_invalid"
    # the service's own (services/supervision/errors.py)
    NUMBER_TAKEN = "number_taken"  # 409: another item of the office has this 督办 number
    UNIT_UNKNOWN = "unit_unknown"  # 422: a unit the service has not learnt from unit.changed
    SWEEP_FORBIDDEN = "sweep_forbidden"  # 403: sweep_run "as of" in production
    IMPORT_INVALID = "import_invalid"  # 422: not a readable XLSX 督办清单
    # generic (kaohe.errors, kaohe.identity): the kernel raises them with these codes
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    FORBIDDEN_ROLE = "forbidden_role"
    FORBIDDEN_SCOPE = "forbidden_scope"
    CONFLICT = "conflict"
    INTERNAL = "internal"


class ItemInvalid(ValidationFailed):
    """An item whose fields contradict each other (a sub-deadline after the deadline, a duplicate unit)."""

    code = SupervisionErrorCode.ITEM_INVALID


class NumberInvalid(ValidationFailed):
    """Text that is not a 督办 number such as 督〔2026〕12号."""

    code = SupervisionErrorCode.NUMBER_INVALID


class TransitionRefused(Conflict):
    """The action is not defined in the item's current state; the message names both."""

    code = SupervisionErrorCode.TRANSITION_REFUSED

    def __init__(self, action: str, state: str, message: str | None = None) -> None:
        super().__init__(message or f"{action} is not allowed in state {state}", field="action")
        self.action, self.state = action, state


class ActorNotAllowed(Forbidden):
    """The action exists in this state but this role may not take it."""

    code = SupervisionErrorCode.ACTOR_NOT_ALLOWED

    def __init__(self, action: str, state: str, actor: str) -> None:
        super().__init__(f"{actor} may not {action} in state {state}", field="actor")
        self.action, self.state, self.actor = action, state, actor


class RequirementMissing(ValidationFailed):
    """The action needs a reason, evidence or a new deadline that the command lacks (or gives wrongly)."""

    code = SupervisionErrorCode.REQUIREMENT_MISSING

    def __init__(self, action: str, state: str, field: str, message: str | None = None) -> None:
        super().__init__(message or f"{action} in state {state} requires {field}", field=field)
        self.action, self.state = action, state


class StaleState(Conflict):
    """Compare-and-set lost: the item moved on since the caller read it (another transition won)."""

    code = SupervisionErrorCode.STALE_STATE

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"the item is at version {actual}, not {expected}: reload and retry", field="version"
        )
        self.expected, self.actual = expected, actual


class ConfigInvalid(ValidationFailed):
    """A clock ladder, card policy or score rule that does not make sense."""

    code = SupervisionErrorCode.CONFIG_INVALID
