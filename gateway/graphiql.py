"""GraphiQL for development: the page without a token, its assets served locally (works offline)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import HTTPConnection, Request
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "graphiql"
ASSET_PATH = "/graphiql-assets"

DEFAULT_QUERY = """# Kaohe 考核 GraphQL: the page needs no token,
# every query does (and so do the Docs).
#
# 1. Get a development token in a shell:
#    .venv/bin/kaohe token \\
#      --role assessment_office --org /
# 2. Paste it into the Headers panel below:
#    {"Authorization": "Bearer eyJ…"}
#    (an integration key: {"X-Api-Key": "…"})
# 3. Run with Ctrl-Enter.
#
# Examples that run on the demo data:
# docs/graphql.md

query Tree {
  unitSubtree(rootId: "14", first: 10) {
    nodes { id name kind path }
  }
}
"""

PAGE = """<!doctype html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8" />
    <title>Kaohe 考核 · GraphiQL</title>
    <style>
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
    <script src="__ASSETS__/react.production.min.js"></script>
    <script src="__ASSETS__/react-dom.production.min.js"></script>
    <link rel="stylesheet" href="__ASSETS__/graphiql.min.css" />
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script src="__ASSETS__/graphiql.min.js"></script>
    <script>
      const url = window.location.href.split("?")[0].split("#")[0];
      const ws = new URL(url);
      ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
      const fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: ws.toString() });
      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultQuery: __DEFAULT_QUERY__,
          defaultHeaders: '{"Authorization": "Bearer <paste a token from kaohe token>"}',
          defaultEditorToolsVisibility: "headers",
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
          inputValueDeprecation: true,
        }),
      );
    </script>
  </body>
</html>
"""


def page() -> str:
    """The IDE page; the default query says how to authenticate."""
    return PAGE.replace("__ASSETS__", ASSET_PATH).replace("__DEFAULT_QUERY__", json.dumps(DEFAULT_QUERY))


def wants_ide(connection: HTTPConnection) -> bool:
    """A browser opening /graphql: GET without a query, asking for HTML (as strawberry decides)."""
    if connection.scope["type"] != "http":
        return False
    request = Request(connection.scope)
    accept = request.headers.get("accept", "")
    return (
        request.method == "GET"
        and request.query_params.get("query") is None
        and ("text/html" in accept or "*/*" in accept)
    )


def mount(app: FastAPI) -> None:
    """Serve the vendored GraphiQL assets (development only: production has no IDE)."""
    app.mount(ASSET_PATH, StaticFiles(directory=ASSETS), name="graphiql-assets")
