"""The demo's client of the public APIs: GraphQL and REST over HTTP with development tokens, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.settings import GatewaySettings
from kaohe.tokens import issue_dev_token

ERR = "errors { code field message }"


class DemoError(RuntimeError):
    """The platform refused part of the demo (the message carries its first problems)."""


class ApiError(DemoError):
    """A mutation answered with errors; `code` is the first one's code."""

    def __init__(self, name: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{name}: {errors[:3]}")
        self.code = str(errors[0].get("code")) if errors else ""


@dataclass(frozen=True)
class Who:
    """A person of the demo: one role over an org subtree (a 责任部门 also over its own indicators)."""

    user_id: str
    role: str
    org_path: str
    codes: frozenset[str] = field(default_factory=frozenset)


def dev_token(who: Who) -> str:
    """A development token for `who`, signed as `kaohe token` signs (the gateway's development secret)."""
    return issue_dev_token(
        GatewaySettings(),
        user_id=who.user_id,
        roles=[who.role],
        org_path=who.org_path,
        indicator_codes=sorted(who.codes) or None,
    )


class Api:
    """GraphQL at /graphql and REST at /api/v1 of one gateway, as a frontend or an integrator calls them."""

    def __init__(
        self, base_url: str, http: httpx.AsyncClient, *, sign: Callable[[Who], str] = dev_token
    ) -> None:
        self.base_url, self.http, self.sign = base_url.rstrip("/"), http, sign
        self._tokens: dict[Who, str] = {}

    def token(self, who: Who) -> str:
        if who not in self._tokens:
            self._tokens[who] = self.sign(who)
        return self._tokens[who]

    async def _send(self, who: Who, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(who)}"}
        for _ in range(20):
            r = await self.http.request(method, f"{self.base_url}{path}", json=body, headers=headers)
            if r.status_code != 429:  # rate limited per person: wait as told, as a polite client does
                return r
            await asyncio.sleep(float(r.headers.get("Retry-After") or 1))
        return r

    async def gql(self, who: Who, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self._send(who, "POST", "/graphql", {"query": query, "variables": variables or {}})
        body = r.json()
        if r.status_code != 200 or body.get("errors"):
            raise DemoError(f"GraphQL error ({r.status_code}): {body.get('errors')}")
        return body["data"]  # type: ignore[no-any-return]

    async def mutate(self, who: Who, name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A mutation's payload; its `errors` (and `problems` when refused) raise ApiError."""
        payload: dict[str, Any] = (await self.gql(who, query, variables))[name]
        if payload.get("errors"):
            raise ApiError(name, payload["errors"])
        return payload

    async def rest(self, who: Who, method: str, path: str, body: dict[str, Any]) -> Any:
        r = await self._send(who, method, f"/api/v1{path}", body)
        if r.status_code >= 400:
            raise DemoError(f"{method} /api/v1{path}: HTTP {r.status_code} {r.text[:300]}")
        return r.json()
