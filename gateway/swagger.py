"""Swagger UI at /docs with its assets served locally (works offline), remembering the authorization."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "swagger"
ASSET_PATH = "/swagger-assets"


def mount(app: FastAPI) -> None:
    """/docs before the framework's own (which loads from a CDN), and the assets it needs."""
    app.mount(ASSET_PATH, StaticFiles(directory=ASSETS), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Kaohe integration API",
            swagger_js_url=f"{ASSET_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSET_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSET_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )
