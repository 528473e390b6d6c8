"""Authentication: JWT bearer tokens (HS256 in development, RS256 via JWKS in production) → Caller."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from kaohe.errors import Unauthenticated
from kaohe.identity import Caller, Role
from kaohe.settings import GatewaySettings

_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def issue_dev_token(
    settings: GatewaySettings,
    *,
    user_id: str,
    roles: list[str],
    org_path: str,
    indicator_codes: list[str] | None = None,
    ttl_s: int = 8 * 3600,
) -> str:
    """A development token signed with the shared HS256 secret (`kaohe token`)."""
    if settings.environment == "production":
        raise RuntimeError("development tokens are disabled in production")
    now = int(time.time())
    claims = {
        "sub": user_id,
        "roles": [Role(r).value for r in roles],
        "org_path": org_path,
        "indicator_codes": indicator_codes or [],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _decode(settings: GatewaySettings, token: str) -> dict[str, Any]:
    opts = {"require": ["exp", "sub"]}
    if settings.jwks_url:
        client = _jwks_clients.setdefault(settings.jwks_url, jwt.PyJWKClient(settings.jwks_url))
        key = client.get_signing_key_from_jwt(token).key
        return jwt.decode(
            token,
            key,
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


def caller_from_header(settings: GatewaySettings, authorization: str | None, trace_id: str) -> Caller:
    """Verify the bearer token and build the caller's scope from its claims."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthenticated("missing bearer token", field="Authorization")
    try:
        claims = _decode(settings, authorization[7:].strip())
        path = str(claims.get("org_path") or "")
        if not (path.startswith("/") and path.endswith("/")):
            raise Unauthenticated("token has no valid org_path claim", field="Authorization")
        return Caller(
            user_id=str(claims["sub"]),
            roles=frozenset(Role(r) for r in claims.get("roles", [])),
            org_path=path,
            indicator_codes=frozenset(claims.get("indicator_codes", [])),
            trace_id=trace_id,
        )
    except (jwt.PyJWTError, ValueError) as e:
        raise Unauthenticated(f"invalid token: {e}", field="Authorization") from None
