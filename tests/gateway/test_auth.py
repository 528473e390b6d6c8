"""Authentication: RS256 tokens verified against a JWKS served over HTTP; HS256 refused in that mode."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.conftest import Infra
from tests.support.gateway import Harness, harness

ISS, AUD = "https://sso.example.gov.cn", "kaohe"


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {n: rsa.generate_private_key(public_exponent=65537, key_size=2048) for n in ("idp", "rogue")}


@pytest.fixture(scope="module")
def jwks_url(keys: dict[str, Any]) -> Iterator[str]:
    """A local OIDC-style JWKS endpoint (the identity provider's public key only)."""
    jwk = json.loads(RSAAlgorithm.to_jwk(keys["idp"].public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


@pytest_asyncio.fixture(scope="module")
async def prod(infra: Infra, template_db: str, jwks_url: str) -> AsyncIterator[Harness]:
    async with harness(
        infra, template_db, services=(), environment="production", jwks_url=jwks_url, jwt_issuer=ISS
    ) as h:
        yield h


def _rs256(key: Any, kid: str = "idp-1", **over: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "zhang.san",
        "roles": ["leader"],
        "org_path": "/14/",
        "iss": ISS,
        "aud": AUD,
        "iat": now,
        "exp": now + 600,
        **over,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def _status(h: Harness, token: str) -> int:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            f"{h.url}/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {token}"}
        )
        return r.status_code


async def test_rs256_via_jwks(prod: Harness, keys: dict[str, Any]) -> None:
    assert await _status(prod, _rs256(keys["idp"])) == 200
    assert await _status(prod, _rs256(keys["rogue"])) == 401  # signed by a key the IdP does not publish
    assert await _status(prod, _rs256(keys["idp"], exp=int(time.time()) - 5)) == 401
    assert await _status(prod, _rs256(keys["idp"], aud="someone-else")) == 401
    assert await _status(prod, _rs256(keys["idp"], iss="https://evil.example")) == 401
    assert await _status(prod, _rs256(keys["idp"], org_path="no-slashes")) == 401
    # The development HS256 secret means nothing in production, even with the right claims.
    hs = jwt.encode(
        {
            "sub": "x",
            "roles": ["leader"],
            "org_path": "/",
            "iss": ISS,
            "aud": AUD,
            "exp": int(time.time()) + 60,
        },
        prod.cfg.jwt_secret,
        algorithm="HS256",
    )
    assert await _status(prod, hs) == 401


async def test_no_graphiql_and_no_introspection_in_production(prod: Harness, keys: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        hdr = {"Authorization": f"Bearer {_rs256(keys['idp'])}"}
        r = await http.post(
            f"{prod.url}/graphql", json={"query": "{ __schema { types { name } } }"}, headers=hdr
        )
        assert r.json()["errors"] and "introspection" in r.json()["errors"][0]["message"].lower()
        r = await http.get(f"{prod.url}/graphql", headers={"Accept": "text/html", **hdr})
        assert "graphiql" not in r.text.lower()
