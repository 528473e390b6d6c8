"""Every error code the supervision service raises (督办服务错误码): one enum, the domain's, and the service's
own errors beside the domain's typed ones."""

from __future__ import annotations

from kaohe.errors import Conflict, Forbidden, ValidationFailed
from services.supervision.domain.errors import SupervisionErrorCode

__all__ = ["ImportInvalid", "NumberTaken", "SupervisionErrorCode", "SweepForbidden", "UnitUnknown"]


class NumberTaken(Conflict):
    """Another item already has this 督办 number."""

    code = SupervisionErrorCode.NUMBER_TAKEN


class UnitUnknown(ValidationFailed):
    """A unit id the service has not learnt from `kaohe.indicators.unit.changed` (or a closed one)."""

    code = SupervisionErrorCode.UNIT_UNKNOWN


class SweepForbidden(Forbidden):
    """`sweep_run` as of another moment is a development and test tool: refused in production."""

    code = SupervisionErrorCode.SWEEP_FORBIDDEN


class ImportInvalid(ValidationFailed):
    """The upload is not a readable XLSX 督办清单 (or has no header row)."""

    code = SupervisionErrorCode.IMPORT_INVALID
