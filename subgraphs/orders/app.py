"""``create_app``: the orders subgraph as an ASGI app."""

import httpx
from fastapi import FastAPI

from resolvers.app import create_subgraph_app
from subgraphs.orders.loaders import make_loaders
from subgraphs.orders.schema import build_schema
from subgraphs.orders.settings import OrdersSettings
from subgraphs.orders.subscriptions import ORDER_EVENTS


def create_app(settings: OrdersSettings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    return create_subgraph_app(
        settings, build_schema(settings), make_loaders, http_transport=http_transport, streams=[ORDER_EVENTS]
    )
