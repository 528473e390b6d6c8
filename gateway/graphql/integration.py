"""Integration administration in GraphQL: API keys (考核办) and webhooks with their delivery history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, Edge, PageInfo, UserError, capped, mk, page_size
from gateway.policy import Op, authorize
from kaohe.errors import KaoheError, ValidationFailed


@strawberry.type(description="An integration system's API key (the secret is shown only at creation)")
class ApiKey:
    id: strawberry.ID
    name: str
    scopes: list[str]
    org_path: str
    created_by: str
    created_at: datetime | None
    revoked_at: datetime | None


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None = None
    key: str | None = strawberry.field(default=None, description="the plain key, returned once")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A registered webhook; deliveries are signed with HMAC-SHA256")
class Webhook:
    id: strawberry.ID
    url: str
    event_types: list[str]
    org_path: str
    owner: str
    active: bool
    created_at: datetime | None

    @strawberry.field(description="Delivery history, newest first")
    async def deliveries(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        n = page_size(info, first)
        try:
            pos = int(after) if after else None
        except ValueError:
            raise ValidationFailed("malformed cursor", field="after", code="bad_cursor") from None
        items, nxt = await info.context.services.webhooks.deliveries(
            info.context.caller, str(self.id), first=n, after=pos
        )
        edges = [Edge(cursor=str(d["id"]), node=_delivery(d)) for d in items]
        end = edges[-1].cursor if edges else None
        return Connection(edges=edges, page_info=PageInfo(has_next_page=nxt is not None, end_cursor=end))


@strawberry.type(description="One attempt to deliver an event")
class WebhookAttempt:
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@strawberry.type(description="An event queued for a webhook, with its attempts")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str
    event_type: str
    status: str = strawberry.field(description="pending | delivered | failed")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    attempt_log: list[WebhookAttempt]


def _delivery(d: dict[str, Any]) -> WebhookDelivery:
    w = mk(WebhookDelivery, {**d, "attempt_log": []})
    w.attempt_log = [mk(WebhookAttempt, a) for a in d.get("attempt_log", [])]
    return w


@strawberry.type
class WebhookPayload:
    webhook: Webhook | None = None
    secret: str | None = strawberry.field(default=None, description="HMAC secret, returned once")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IntegrationQuery:
    @strawberry.field(description="API keys in your subtree (考核办)")
    async def api_keys(self, info: Info[Context, None]) -> list[ApiKey]:
        authorize(info.context.caller, Op.apikey_manage)
        return [mk(ApiKey, k) for k in await info.context.services.apikeys.list(info.context.caller)]

    @strawberry.field(description="Webhooks registered in your subtree")
    async def webhooks(self, info: Info[Context, None]) -> list[Webhook]:
        authorize(info.context.caller, Op.webhook_manage)
        return [mk(Webhook, h) for h in await info.context.services.webhooks.list(info.context.caller)]

    @strawberry.field(description="One webhook, if registered in your subtree")
    async def webhook(self, info: Info[Context, None], id: strawberry.ID) -> Webhook:
        authorize(info.context.caller, Op.webhook_manage)
        return mk(Webhook, await info.context.services.webhooks.get(info.context.caller, str(id)))


@strawberry.type
class IntegrationMutation:
    @strawberry.mutation(description="Create an API key for an integration system (考核办 only)")
    async def api_key_create(
        self, info: Info[Context, None], name: str, scopes: list[str], org_path: str | None = None
    ) -> ApiKeyPayload:
        try:
            caller = info.context.caller
            authorize(caller, Op.apikey_manage)
            r = await info.context.services.apikeys.create(
                caller, name=name, scopes=capped(info, scopes, "scopes"), org_path=org_path or caller.org_path
            )
            return ApiKeyPayload(api_key=mk(ApiKey, r), key=r["key"])
        except KaoheError as e:
            return ApiKeyPayload(errors=[UserError.of(e)])

    @strawberry.mutation(description="Revoke an API key (effective within seconds on every replica)")
    async def api_key_revoke(self, info: Info[Context, None], id: strawberry.ID) -> ApiKeyPayload:
        try:
            authorize(info.context.caller, Op.apikey_manage)
            r = await info.context.services.apikeys.revoke(info.context.caller, str(id))
            return ApiKeyPayload(api_key=mk(ApiKey, r))
        except KaoheError as e:
            return ApiKeyPayload(errors=[UserError.of(e)])

    @strawberry.mutation(description="Register a URL for event types (results.published, warning.raised, …)")
    async def webhook_create(
        self, info: Info[Context, None], url: str, event_types: list[str]
    ) -> WebhookPayload:
        try:
            authorize(info.context.caller, Op.webhook_manage)
            r = await info.context.services.webhooks.create(
                info.context.caller, url=url, event_types=capped(info, event_types, "eventTypes")
            )
            return WebhookPayload(webhook=mk(Webhook, r), secret=r["secret"])
        except KaoheError as e:
            return WebhookPayload(errors=[UserError.of(e)])

    @strawberry.mutation(description="Deactivate a webhook (its history stays queryable)")
    async def webhook_delete(self, info: Info[Context, None], id: strawberry.ID) -> WebhookPayload:
        try:
            authorize(info.context.caller, Op.webhook_manage)
            r = await info.context.services.webhooks.delete(info.context.caller, str(id))
            return WebhookPayload(webhook=mk(Webhook, r))
        except KaoheError as e:
            return WebhookPayload(errors=[UserError.of(e)])
