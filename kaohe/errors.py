"""One error hierarchy for the whole platform: a machine-readable code, a human message, the field."""

from __future__ import annotations

from typing import Any


class KaoheError(Exception):
    """An expected, domain-level error. Its code, message and field cross every boundary unchanged."""

    code: str = "error"
    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details:
            d["details"] = self.details
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KaoheError:
        sub = _BY_CODE.get(str(d.get("code")), KaoheError)
        err = sub(str(d.get("message", "")), field=d.get("field"), details=d.get("details"))
        err.code = str(d.get("code", err.code))
        return err


class ValidationFailed(KaoheError):
    code, status = "validation_failed", 422


class NotFound(KaoheError):
    code, status = "not_found", 404


class Forbidden(KaoheError):
    code, status = "forbidden", 403


class Unauthenticated(KaoheError):
    code, status = "unauthenticated", 401


class Conflict(KaoheError):
    code, status = "conflict", 409


class UpstreamTimeout(KaoheError):
    code, status = "upstream_timeout", 504


class UpstreamUnavailable(KaoheError):
    code, status = "upstream_unavailable", 503


class InternalError(KaoheError):
    code, status = "internal", 500


_BY_CODE: dict[str, type[KaoheError]] = {
    c.code: c
    for c in (
        ValidationFailed,
        NotFound,
        Forbidden,
        Unauthenticated,
        Conflict,
        UpstreamTimeout,
        UpstreamUnavailable,
        InternalError,
    )
}
