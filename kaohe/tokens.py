"""Development tokens: HS256 JWTs the gateway accepts outside production (`kaohe token`, demo, tests)."""

from __future__ import annotations

import time
import uuid
from typing import Protocol

import jwt

from kaohe.identity import Role


class TokenSettings(Protocol):
    """What signing needs from the gateway's settings (gateway.settings.GatewaySettings has it)."""

    environment: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str


def issue_dev_token(
    settings: TokenSettings,
    *,
    user_id: str,
    roles: list[str],
    org_path: str,
    indicator_codes: list[str] | None = None,
    ttl_s: int = 8 * 3600,
) -> str:
    """A development token signed with the shared HS256 secret."""
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
