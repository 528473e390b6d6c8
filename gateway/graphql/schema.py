"""The assembled schema: root types from every domain module, and the hardening extensions."""

from __future__ import annotations

import functools
import re
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema, StringValueNode, validate
from graphql.language import DocumentNode
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from gateway.config import GatewayConfig
from gateway.cost import CostModel, QueryCost
from gateway.graphql.bulk import BulkMutation, BulkQuery
from gateway.graphql.documents import DocumentMutation, DocumentQuery, DocumentsErrorCode
from gateway.graphql.errors import ErrorCode, classify
from gateway.graphql.evidence import EvidenceMutation, EvidenceQuery
from gateway.graphql.explain import ExplainQuery
from gateway.graphql.fast import plain_fields_by_attribute
from gateway.graphql.integration import IntegrationMutation, IntegrationQuery
from gateway.graphql.notices import NotificationMutation, NotificationQuery, NotificationSubscription
from gateway.graphql.rankings import RankingQuery
from gateway.graphql.results import ResultsMutation, ResultsQuery
from gateway.graphql.rewards_common import RewardsErrorCode
from gateway.graphql.rewards_live import RewardsSubscription
from gateway.graphql.rewards_mutations import RewardsMutation
from gateway.graphql.rewards_queries import RewardsQuery
from gateway.graphql.scheme_tools import SchemeToolsMutation, SchemeToolsQuery
from gateway.graphql.schemes import SchemeMutation, SchemeQuery
from gateway.graphql.scoring_config import ScoringConfigMutation, ScoringConfigQuery
from gateway.graphql.submissions import SubmissionMutation, SubmissionQuery
from gateway.graphql.subscriptions import Subscription
from gateway.graphql.supervision_calendar import SupervisionCalendarQuery
from gateway.graphql.supervision_live import SupervisionSubscription
from gateway.graphql.supervision_mutations import SupervisionMutation
from gateway.graphql.supervision_queries import SupervisionQuery
from gateway.graphql.supervision_types import SupervisionErrorCode
from gateway.graphql.units import UnitMutation, UnitQuery, UnitRestructureMutation
from kaohe import logs
from kaohe.errors import KaoheError

log = logs.get("gateway.graphql")


@strawberry.type(description="考核 (Kaohe): everything is scoped to your organisation subtree")
class Query(
    UnitQuery,
    SchemeQuery,
    SubmissionQuery,
    EvidenceQuery,
    RankingQuery,
    ExplainQuery,
    ResultsQuery,
    IntegrationQuery,
    SchemeToolsQuery,
    BulkQuery,
    ScoringConfigQuery,
    SupervisionQuery,
    SupervisionCalendarQuery,
    RewardsQuery,
    DocumentQuery,
    NotificationQuery,
):
    pass


@strawberry.type
class Mutation(
    UnitMutation,
    SchemeMutation,
    SubmissionMutation,
    EvidenceMutation,
    ResultsMutation,
    ScoringConfigMutation,
    IntegrationMutation,
    UnitRestructureMutation,
    SchemeToolsMutation,
    BulkMutation,
    SupervisionMutation,
    RewardsMutation,
    DocumentMutation,
    NotificationMutation,
):
    pass


@strawberry.type(name="Subscription")
class RootSubscription(Subscription, SupervisionSubscription, RewardsSubscription, NotificationSubscription):
    pass


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask everything but our domain errors and GraphQL's own validation messages."""
    orig = error.original_error
    return orig is not None and not isinstance(orig, KaoheError | GraphQLError)


class DomainErrorCodes(SchemaExtension):
    """Every error gets `extensions.code` (an ErrorCode) and `field` in the caller's spelling, so clients
    can branch on them: domain errors, bad variables, invalid documents alike."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        result = self.execution_context.result
        for err in getattr(result, "errors", None) or []:
            err.extensions = classify(err)


class NoNulInStrings(ASTValidationRule):
    """String literals in the document must not hold U+0000 (no service can store it)."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(
                GraphQLError(
                    "string literal contains the NUL character (U+0000)",
                    node,
                    extensions={"code": "invalid_character", "field": "query"},
                )
            )


@functools.lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema, doc: DocumentNode, rules: tuple[type[ASTValidationRule], ...], hide: bool
) -> list[GraphQLError]:
    # The document is the parser cache's object, so equal queries hit here (as strawberry's ValidationCache).
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, doc, rules, hide_suggestions=hide)


class Validation(SchemaExtension):
    """Cached validation; in production without "Did you mean …" suggestions (they reveal the schema)."""

    def __init__(self, hide_suggestions: bool) -> None:
        super().__init__()
        self.hide = hide_suggestions

    def on_validate(self):  # type: ignore[no-untyped-def]
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        ctx.pre_execution_errors = _validate(
            ctx.schema._schema, ctx.graphql_document, tuple(ctx.validation_rules), self.hide
        )
        yield


_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


class NoSuggestions(SchemaExtension):
    """Strip suggestions that graphql-core adds after validation (coercing variables) as well."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        for err in getattr(self.execution_context.result, "errors", None) or []:
            if "Did you mean" in err.message:
                err.message = _SUGGESTION.sub("", err.message)


class KaoheSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client errors (bad queries, domain refusals such as not_found/forbidden) are info, not error.

        Every error leaves with `extensions.code` (an ErrorCode): parse errors never reach the extensions'
        on_operation, so this is where all of them are classified."""
        for err in errors:
            err.extensions = classify(err)
            orig = err.original_error
            if isinstance(orig, KaoheError) and orig.status < 500:
                log.info("graphql.request.refused", code=orig.code, field=orig.field, path=err.path)
            elif err.path is None and (orig is None or isinstance(orig, GraphQLError)):  # document, variables
                code = (err.extensions or {}).get("code", "invalid_query")
                log.info("graphql.request.invalid", code=code, message=err.message[:300])
            elif isinstance(orig, KaoheError):  # upstream_timeout, upstream_unavailable: not ours to fix here
                log.warning("graphql.request.failed", code=orig.code, path=err.path)
            else:
                StrawberryLogger.error(err, execution_context)


def build_schema(cfg: GatewayConfig) -> strawberry.Schema:
    """The schema with limits, caches and masking; introspection and suggestions are off in production.

    The depth and alias validators are built once: strawberry's limiter extensions make a new rule class
    per request, which changes the validation cache's key, so every request was validated afresh (~5 ms
    on a ranking page). Rule classes hold no request state; extension instances stay per request.
    """
    production = cfg.environment == "production"
    rules = [
        *QueryDepthLimiter(max_depth=cfg.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=cfg.max_aliases).validation_rules,
        NoNulInStrings,
    ]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    cost = CostModel(
        limit=cfg.max_query_cost,
        default_page=cfg.default_page,
        max_page=cfg.max_page,
        max_list=cfg.max_list,
        default_list=cfg.cost_default_list,
    )
    extensions: list[object] = [
        functools.partial(AddValidationRules, rules),
        functools.partial(MaxTokensLimiter, max_token_count=cfg.max_tokens),
        ParserCache,
        functools.partial(Validation, hide_suggestions=production),
        functools.partial(QueryCost, cost),
        DomainErrorCodes,
        functools.partial(MaskErrors, should_mask_error=_is_unexpected, error_message="internal error"),
    ]
    if production:
        extensions.append(NoSuggestions)
    schema = KaoheSchema(
        query=Query,
        mutation=Mutation,
        subscription=RootSubscription,
        extensions=extensions,  # type: ignore[arg-type]
        # published for clients; fields keep String so services may add codes
        types=[ErrorCode, SupervisionErrorCode, RewardsErrorCode, DocumentsErrorCode],
    )
    plain_fields_by_attribute(schema)
    return schema


def export_sdl() -> str:
    """The schema as SDL, as committed in `schema.graphql` (`python -m gateway.graphql.export`)."""
    return build_schema(GatewayConfig(environment="development")).as_str() + "\n"
