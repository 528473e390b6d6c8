"""The assembled schema: root types from every domain module, and the hardening extensions."""

from __future__ import annotations

import functools

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from gateway.config import GatewayConfig
from gateway.graphql.bulk import BulkMutation, BulkQuery
from gateway.graphql.evidence import EvidenceMutation, EvidenceQuery
from gateway.graphql.explain import ExplainQuery
from gateway.graphql.fast import plain_fields_by_attribute
from gateway.graphql.integration import IntegrationMutation, IntegrationQuery
from gateway.graphql.rankings import RankingQuery
from gateway.graphql.results import ResultsMutation, ResultsQuery
from gateway.graphql.scheme_tools import SchemeToolsMutation, SchemeToolsQuery
from gateway.graphql.schemes import SchemeMutation, SchemeQuery
from gateway.graphql.scoring_config import ScoringConfigMutation, ScoringConfigQuery
from gateway.graphql.submissions import SubmissionMutation, SubmissionQuery
from gateway.graphql.subscriptions import Subscription
from gateway.graphql.units import UnitMutation, UnitQuery, UnitRestructureMutation
from kaohe.errors import KaoheError


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
):
    pass


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask everything but our domain errors and GraphQL's own validation messages."""
    orig = error.original_error
    return orig is not None and not isinstance(orig, KaoheError | GraphQLError)


class DomainErrorCodes(SchemaExtension):
    """Put the domain error's code and field into `extensions`, so clients can branch on them."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        result = self.execution_context.result
        for err in getattr(result, "errors", None) or []:
            orig = err.original_error
            if isinstance(orig, KaoheError):
                err.extensions = {**(err.extensions or {}), "code": orig.code, "field": orig.field}


def build_schema(cfg: GatewayConfig) -> strawberry.Schema:
    """The schema with limits, caches and masking; introspection is off in production.

    The depth and alias validators are built once: strawberry's limiter extensions make a new rule class
    per request, which changes the validation cache's key, so every request was validated afresh (~5 ms
    on a ranking page). Rule classes hold no request state; extension instances stay per request.
    """
    rules = [
        *QueryDepthLimiter(max_depth=cfg.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=cfg.max_aliases).validation_rules,
    ]
    if cfg.environment == "production":
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[object] = [
        functools.partial(AddValidationRules, rules),
        functools.partial(MaxTokensLimiter, max_token_count=cfg.max_tokens),
        ParserCache,
        ValidationCache,
        DomainErrorCodes,
        functools.partial(MaskErrors, should_mask_error=_is_unexpected, error_message="internal error"),
    ]
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
    )
    plain_fields_by_attribute(schema)
    return schema


def export_sdl() -> str:
    """The schema as SDL, as committed in `schema.graphql` (`python -m gateway.graphql.export`)."""
    return build_schema(GatewayConfig(environment="development")).as_str() + "\n"
