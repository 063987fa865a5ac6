"""What a subgraph process holds for as long as it runs, built in its app's lifespan."""

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request
from purgatory import AsyncCircuitBreakerFactory
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from resolvers.auth import TokenVerifier
from resolvers.live import Hub
from resolvers.service_client import ServiceClient
from resolvers.service_tokens import ServiceTokens
from resolvers.settings import SubgraphSettings


@dataclass(frozen=True, slots=True)
class Runtime:
    """Built in the lifespan, torn down after it; the breakers live here so that every request
    of the process sees the same state of each service it calls."""

    settings: SubgraphSettings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    verifier: TokenVerifier
    service_tokens: ServiceTokens
    breakers: AsyncCircuitBreakerFactory
    extra: Any = None
    # The subscribers of the events this subgraph streams, when it streams any.
    live: Hub | None = None


def service_client(runtime: Runtime, name: str, base_url: str) -> ServiceClient:
    """A client for another service's internal endpoints, sharing the process's token and
    breakers."""
    settings = runtime.settings
    return ServiceClient(
        name,
        base_url,
        http=runtime.http,
        tokens=runtime.service_tokens,
        breakers=runtime.breakers,
        timeout=settings.service_timeout_seconds,
    )


def runtime_of(request: Request | WebSocket) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
