"""``create_app``: the payments subgraph as an ASGI app."""

import httpx
from fastapi import FastAPI

from resolvers.app import create_subgraph_app
from subgraphs.payments.loaders import make_loaders
from subgraphs.payments.schema import build_schema
from subgraphs.payments.settings import PaymentsSettings


def create_app(settings: PaymentsSettings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    return create_subgraph_app(settings, build_schema(settings), make_loaders, http_transport=http_transport)
