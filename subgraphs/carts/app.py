"""``create_app``: the carts subgraph as an ASGI app."""

import httpx
from fastapi import FastAPI

from resolvers.app import create_subgraph_app
from subgraphs.carts.internal import router as internal_router
from subgraphs.carts.loaders import make_loaders
from subgraphs.carts.schema import build_schema
from subgraphs.carts.settings import CartsSettings
from subgraphs.carts.subscriptions import CART_EVENTS


def create_app(settings: CartsSettings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    app = create_subgraph_app(
        settings, build_schema(settings), make_loaders, http_transport=http_transport, streams=[CART_EVENTS]
    )
    app.include_router(internal_router)
    return app
