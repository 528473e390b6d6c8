"""Every error code the documents service raises (公文服务错误码), beside the kernel's generic ones."""

from __future__ import annotations

from enum import StrEnum


class DocumentsErrorCode(StrEnum):
    """Codes of the documents service's RPC errors (`{code, field, message}`); an enum at the gateway."""

    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN_ROLE = "forbidden_role"
    FORBIDDEN_SCOPE = "forbidden_scope"  # the caller does not cover the whole category / the unit
    NO_RESULTS = "no_results"  # scoring has no ranked results for the scheme and period
    BAD_TEMPLATE = "bad_template"  # a 提示函 template with an unknown ${placeholder} or a stray $
    STORAGE_CONFLICT = "storage_conflict"  # the store refused to overwrite an issued document's object
    INTERNAL = "internal"
