"""GraphiQL (no token needed for the page in development) and Swagger UI open in a browser, offline."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from gateway.app import OrjsonGraphQLRouter
from gateway.config import GatewayConfig
from gateway.graphiql import ASSET_PATH
from kaohe.runtime import create_app
from kaohe.settings import InfraSettings
from tests.support.gateway import Harness

SHOTS = Path(os.environ.get("KAOHE_SCREENSHOT_DIR", "/tmp"))


async def test_graphiql_page_needs_no_token_but_the_api_does(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    r = await http.get(f"{gw.url}/graphql", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "kaohe token" in page and "--role assessment_office" in page and "Authorization" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith(f"{ASSET_PATH}/") for a in assets), assets  # nothing from a CDN
    for a in assets:
        got = await http.get(f"{gw.url}{a}")
        assert got.status_code == 200 and len(got.content) > 1000, a
    r = await http.post(f"{gw.url}/graphql", json={"query": "{ __typename }"})
    assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    r = await http.get(f"{gw.url}/graphql", params={"query": "{ __typename }"})
    assert r.status_code == 401  # a GET that runs a query is the API, not the page


def test_production_serves_no_ide_and_no_assets() -> None:
    prod = GatewayConfig(environment="production", jwks_url="https://idp.example/jwks")
    app = create_app(prod, InfraSettings())
    included = [r.original_router for r in app.routes if hasattr(r, "original_router")]
    graphql = [r for r in included if isinstance(r, OrjsonGraphQLRouter)]
    assert len(graphql) == 1 and graphql[0].graphql_ide is None
    assert ASSET_PATH not in {getattr(r, "path", None) for r in app.routes}
    dev = create_app(GatewayConfig(environment="development"), InfraSettings())
    assert ASSET_PATH in {getattr(r, "path", None) for r in dev.routes}


FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1400,900",
    "--virtual-time-budget=8000",
)


def _browser() -> str:
    """Chromium's path. `python3 dev.py test` installs it and sets KAOHE_REQUIRE_BROWSER, so there a
    missing browser fails the test; a bare pytest on a machine without one skips these two tests."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("KAOHE_REQUIRE_BROWSER"):
            pytest.fail("chromium is missing (dev.py test installs it: apt-get install -y chromium)")
        pytest.skip("needs chromium (apt-get install -y chromium)")
    return path


async def chromium(*args: str) -> str:
    """Run headless Chromium once; its stdout (the DOM with --dump-dom)."""
    proc = await asyncio.create_subprocess_exec(
        _browser(), *FLAGS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    return out.decode()


async def test_headless_chromium_renders_the_ide_offline(gw: Harness) -> None:
    shot = SHOTS / "kaohe-graphiql.png"
    shot.unlink(missing_ok=True)
    html = await chromium("--dump-dom", f"{gw.url}/graphql")
    # rendered by React: the editors and the toolbar exist, the query comment is in the editor
    assert "graphiql-editors" in html and "graphiql-execute-button" in html, html[:2000]
    assert "kaohe token" in html
    await chromium(f"--screenshot={shot}", f"{gw.url}/graphql")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_swagger_ui_assets_are_local(gw: Harness, http: httpx.AsyncClient) -> None:
    page = (await http.get(f"{gw.url}/docs")).text
    assets = re.findall(r"(?:src|href)=['\"]([^'\"]+)['\"]", page)
    assert assets and all(a.startswith("/swagger-assets/") for a in assets), assets
    for a in assets:
        assert (await http.get(f"{gw.url}{a}")).status_code == 200, a


async def test_headless_chromium_renders_swagger_with_authorize(gw: Harness) -> None:
    shot = SHOTS / "kaohe-swagger.png"
    shot.unlink(missing_ok=True)
    html = await chromium("--dump-dom", f"{gw.url}/docs")
    assert "btn authorize" in html and "/api/v1/statistics" in html, html[:2000]
    await chromium(f"--screenshot={shot}", f"{gw.url}/docs")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
