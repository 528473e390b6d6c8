"""Gateway process: GraphQL over FastAPI, authenticated, hardened, resolving through NATS RPC."""

from __future__ import annotations

import functools
import uuid

import strawberry
from fastapi import FastAPI, Request
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.fastapi import GraphQLRouter

from gateway.auth import caller_from_header
from gateway.context import Context
from gateway.loaders import Loaders
from gateway.schema import Mutation, Query
from kaohe.errors import KaoheError
from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, GatewaySettings, InfraSettings


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask everything but our domain errors and GraphQL's own validation messages."""
    orig = error.original_error
    return orig is not None and not isinstance(orig, KaoheError | GraphQLError)


class DomainErrorCodes(strawberry.extensions.SchemaExtension):
    """Put the domain error's code and field into `extensions`, so clients can branch on them."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        result = self.execution_context.result
        for err in getattr(result, "errors", None) or []:
            orig = err.original_error
            if isinstance(orig, KaoheError):
                err.extensions = {**(err.extensions or {}), "code": orig.code, "field": orig.field}


def build_schema(settings: GatewaySettings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            functools.partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
            functools.partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
            functools.partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
            ParserCache,
            ValidationCache,
            DomainErrorCodes,
            functools.partial(MaskErrors, should_mask_error=_is_unexpected, error_message="internal error"),
        ],
    )


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI) -> Runtime:
    assert isinstance(settings, GatewaySettings)
    rt = Runtime(settings, infra)
    schema = build_schema(settings)

    async def context_getter(request: Request) -> Context:
        assert rt.client is not None
        trace_id = request.headers.get("x-trace-id") or uuid.uuid4().hex
        caller = caller_from_header(settings, request.headers.get("authorization"), trace_id)
        return Context(caller=caller, client=rt.client, loaders=Loaders(rt.client, caller))

    router = GraphQLRouter(
        schema,
        context_getter=context_getter,
        graphql_ide="graphiql" if settings.environment == "development" else None,
    )
    app.include_router(router, prefix="/graphql")

    @app.exception_handler(KaoheError)
    async def kaohe_error(_: Request, exc: KaoheError):  # type: ignore[no-untyped-def]
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {"errors": [{"message": exc.message, "extensions": exc.to_dict()}]}, status_code=exc.status
        )

    return rt
