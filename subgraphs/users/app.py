"""``create_app``: the users subgraph as an ASGI app."""

import httpx
from fastapi import FastAPI

from resolvers.app import create_subgraph_app
from subgraphs.users.loaders import make_loaders
from subgraphs.users.schema import build_schema
from subgraphs.users.settings import UsersSettings


def create_app(settings: UsersSettings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    return create_subgraph_app(settings, build_schema(settings), make_loaders, http_transport=http_transport)
