"""Authentication: JWT bearer tokens (HS256 in development, RS256 via JWKS in production) and API keys."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt

from gateway.settings import GatewaySettings
from kaohe.errors import Unauthenticated
from kaohe.identity import Caller, Role

_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks(url: str) -> jwt.PyJWKClient:
    client = _jwks_clients.get(url)
    if client is None:
        client = _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
    return client


async def decode_token(settings: GatewaySettings, token: str) -> dict[str, Any]:
    """Verify signature, issuer, audience and expiry; RS256 keys come from the JWKS URL when set."""
    opts: dict[str, Any] = {"require": ["exp", "sub"]}
    if settings.jwks_url:
        # PyJWKClient fetches synchronously (then caches): keep it off the event loop.
        signing = await asyncio.to_thread(_jwks(settings.jwks_url).get_signing_key_from_jwt, token)
        return jwt.decode(
            token,
            signing.key,
            algorithms=["RS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=opts,
        )
    if settings.environment == "production":
        raise Unauthenticated("no JWKS URL configured for production")
    return jwt.decode(
        token,
        settings.jwt_secret,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options=opts,
    )


def caller_from_claims(claims: dict[str, Any], trace_id: str) -> Caller:
    path = str(claims.get("org_path") or "")
    if not (path.startswith("/") and path.endswith("/")):
        raise Unauthenticated("token has no valid org_path claim", field="Authorization")
    roles = frozenset(Role(r) for r in claims.get("roles", []))
    if Role.system in roles or Role.integration in roles:
        # `system` is the platform's own; integrations authenticate with API keys carrying scopes.
        raise Unauthenticated("this role cannot be carried by a user token", field="Authorization")
    return Caller(
        user_id=str(claims["sub"]),
        roles=roles,
        org_path=path,
        indicator_codes=frozenset(claims.get("indicator_codes", [])),
        trace_id=trace_id,
    )


async def caller_from_bearer(settings: GatewaySettings, token: str, trace_id: str) -> Caller:
    """Verify the bearer token and build the caller's scope from its claims."""
    try:
        return caller_from_claims(await decode_token(settings, token), trace_id)
    except (jwt.PyJWTError, ValueError) as e:
        raise Unauthenticated(f"invalid token: {e}", field="Authorization") from None


def credentials(headers: Any) -> tuple[str, str]:
    """('bearer'|'apikey', secret) from `Authorization: Bearer|ApiKey …` or `X-Api-Key`."""
    key = headers.get("x-api-key")
    if key:
        return "apikey", key.strip()
    auth = headers.get("authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "bearer", value.strip()
    if scheme.lower() == "apikey" and value.strip():
        return "apikey", value.strip()
    raise Unauthenticated("missing bearer token or API key", field="Authorization")


class VerifiedTokens:
    """Recently verified bearer tokens → their caller, for a few seconds (never past the token's expiry).

    Verifying an HS256/RS256 signature and building the Caller costs ~0.1 ms per request; a dashboard sends
    the same token many times a second. Entries live at most `ttl_s`, so a key rotation takes effect quickly.
    """

    def __init__(self, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Caller]] = {}

    async def caller(self, settings: GatewaySettings, token: str, trace_id: str) -> Caller:
        now = time.time()
        hit = self._entries.get(token)
        if hit is not None and hit[0] > now:
            return hit[1].model_copy(update={"trace_id": trace_id})
        try:
            claims = await decode_token(settings, token)
            caller = caller_from_claims(claims, trace_id)
        except (jwt.PyJWTError, ValueError) as e:
            raise Unauthenticated(f"invalid token: {e}", field="Authorization") from None
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[token] = (min(now + self.ttl_s, float(claims["exp"])), caller)
        return caller
