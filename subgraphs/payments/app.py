"""``create_app``: the payments subgraph as an ASGI app."""

import httpx
from fastapi import FastAPI

from resolvers.app import create_subgraph_app
from subgraphs.payments.gateway import StripeGateway
from subgraphs.payments.internal import router as internal_router
from subgraphs.payments.loaders import make_loaders
from subgraphs.payments.schema import build_schema
from subgraphs.payments.settings import PaymentsSettings
from subgraphs.payments.subscriptions import PAYMENT_EVENTS
from subgraphs.payments.webhooks import router as webhooks_router


def create_app(settings: PaymentsSettings, *, http_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    app = create_subgraph_app(
        settings,
        build_schema(settings),
        make_loaders,
        http_transport=http_transport,
        streams=[PAYMENT_EVENTS],
        extra=lambda: StripeGateway.open(settings),
    )
    app.include_router(internal_router)
    app.include_router(webhooks_router)
    return app
