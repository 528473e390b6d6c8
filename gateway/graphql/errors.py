"""Error codes a program can branch on: `extensions.code` of every GraphQL error and `UserError.code`."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from gateway.graphql.common import input_field
from kaohe.errors import KaoheError

# kernel codes (kaohe/errors.py, raised by every service), then the gateway's own; each says what to do
CODES: dict[str, str] = {
    "validation_failed": "An input is invalid: fix the input `field` names and send again.",
    "not_found": "No such object in your subtree: check the id; do not retry unchanged.",
    "forbidden": "Your role or subtree does not allow it: ask someone who may; do not retry.",
    "unauthenticated": "No or invalid token / API key: get a new token (`kaohe token`), send it as a header.",
    "conflict": "Conflicts with the current state: read the object again, then decide.",
    "upstream_timeout": "A service did not answer in time: retry later with backoff.",
    "upstream_unavailable": "A service is down or starting: retry later with backoff.",
    "internal": "A bug on our side (logged with a reference): report it; retrying rarely helps.",
    "bad_user_input": "A variable does not fit its GraphQL type (a string for a Float, a missing required"
    " value): `field` is the variable's path as you spelled it (`input.value`); fix it and resend.",
    "graphql_validation": "The document does not validate against the schema (unknown field, wrong literal,"
    " too deep, too many aliases): fix the query; it never succeeds unchanged.",
    "graphql_parse_failed": "The document is not GraphQL (syntax error, too many tokens): fix it.",
    "bad_request": "The HTTP request is malformed (not JSON, no `query`, a mutation over GET): fix it.",
    "method_not_allowed": "Wrong HTTP method: use one the `Allow` header lists.",
    "unsupported_media_type": "Send JSON (`Content-Type: application/json`).",
    "forbidden_role": "Your roles do not allow this operation at all (see the role matrix).",
    "rate_limited": "Too many requests: wait `Retry-After` seconds, then retry.",
    "query_too_costly": "The estimated cost exceeds the limit: ask for smaller pages (`first`).",
    "response_too_large": "The response exceeds the size limit: ask for fewer fields or smaller pages.",
    "body_too_large": "The request body exceeds the limit: split it (bulk data: upload a file).",
    "too_deep": "JSON nested deeper than 64 levels: flatten it.",
    "invalid_character": "A string holds the NUL character (U+0000): remove it.",
    "page_size_out_of_range": "`first` is outside 1..the maximum page size: ask for a smaller page.",
    "too_many": "An input list is longer than allowed: split it.",
    "bad_cursor": "`after` is not a cursor this API gave out: start again from the first page.",
    "too_many_subscriptions": "At most 5 subscriptions per connection: close one first.",
    "not_available": "The service does not offer this yet (an older version is running): retry later.",
    "bad_scope": "An unknown API-key scope: use the listed ones.",
    "webhook_target_forbidden": "The webhook URL is not a public https endpoint: use one that is.",
    "one_of": "Give exactly one of the alternatives the field names.",
    "duplicate": "The same key appears twice in an input: remove one.",
}

ErrorCode = strawberry.enum(
    Enum(  # type: ignore[misc]
        "ErrorCode",
        {code.upper(): strawberry.enum_value(code, description=text) for code, text in CODES.items()},
    ),
    description="Codes of `extensions.code` (every error) and `UserError.code` (mutation payloads), sent as"
    " these lower-case strings. Services add codes of their own (documented with each service): branch on"
    " the codes you handle and show `message` to people for the others.",
)


# graphql-core: Variable '$i' has invalid value at .value: … / Variable '$unitId' of required type …
_VARIABLE = re.compile(r"^Variable '\$(?P<name>[^']+)'(?: has invalid value at (?P<path>[^:]+):)?")


def _variable_field(name: str, path: str | None) -> str:
    """`i` + `.members[1].unitId` → `i.members.1.unitId` (the spelling of UserError.field paths)."""
    return name + re.sub(r"\[(\d+)\]", r".\1", path or "")


def classify(err: GraphQLError) -> dict[str, Any]:
    """`extensions` with a code (and the field where one exists) for an error that lacks one."""
    ext = dict(err.extensions or {})
    orig = err.original_error
    if isinstance(orig, KaoheError):
        return {**ext, "code": orig.code, "field": input_field(orig.field)}
    if ext.get("code"):
        return ext
    if err.path is None and (orig is None or isinstance(orig, GraphQLError)):  # the document or variables
        m = _VARIABLE.match(err.message)
        if m:
            return {**ext, "code": "bad_user_input", "field": _variable_field(m["name"], m["path"])}
        if err.message.startswith("Syntax Error") or "tokens" in err.message:
            return {**ext, "code": "graphql_parse_failed", "field": "query"}
        return {**ext, "code": "graphql_validation", "field": None}
    return {**ext, "code": "internal", "field": None}
