"""``create_app``: the catalog subgraph as an ASGI app."""

import httpx
from fastapi import FastAPI

from resolvers.app import create_subgraph_app
from subgraphs.catalog.internal import router as internal_router
from subgraphs.catalog.loaders import make_loaders
from subgraphs.catalog.schema import build_schema
from subgraphs.catalog.settings import CatalogSettings
from subgraphs.catalog.subscriptions import PRODUCT_EVENTS


def create_app(settings: CatalogSettings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    app = create_subgraph_app(
        settings, build_schema(settings), make_loaders, http_transport=http_transport, streams=[PRODUCT_EVENTS]
    )
    app.include_router(internal_router)
    return app
