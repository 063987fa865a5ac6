"""``create_subgraph_app``: the one setup function every subgraph's app factory calls."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import orjson
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from purgatory import AsyncCircuitBreakerFactory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import BaseRoute, Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from resolvers import scopes
from resolvers.auth import TokenVerifier
from resolvers.context import TENANT_HEADER, Context
from resolvers.db import create_engine, session_factory, writer
from resolvers.errors import ShopgraphError, to_graphql_error
from resolvers.internal import install_problem_responses
from resolvers.runtime import Runtime, runtime_of
from resolvers.schema import SubgraphSchema
from resolvers.service_tokens import ServiceTokens
from resolvers.settings import SubgraphSettings

log = structlog.get_logger(__name__)


MakeLoaders = Callable[[Context[Any], Runtime], Any]


class SubgraphGraphQL(GraphQL[Context[Any], None]):
    """Strawberry's plain ASGI app (measurably cheaper than FastAPI's GraphQLRouter) with our
    context and orjson encoding."""

    def __init__(self, schema: SubgraphSchema, make_loaders: MakeLoaders) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.make_loaders = make_loaders

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context[Any]:
        runtime = runtime_of(request)
        context: Context[Any] = Context(runtime=runtime, tenant_header=request.headers.get(TENANT_HEADER))
        try:
            context.verified_caller = await runtime.verifier.caller_from_header(request.headers.get("authorization"))
        except ShopgraphError as exc:
            context.auth_error = exc
        context.loaders = self.make_loaders(context, runtime)
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error leaves with a stable code and without internals, including the parse
        and validation errors Strawberry answers before any extension sees the result."""
        if result.errors:
            result.errors = [to_graphql_error(error) for error in result.errors]
        return await super().process_result(request, result)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses lone surrogates ("\ud800"), which the standard library lets through
        # to fail later in the database driver; a refused body is answered with a 400.
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def create_subgraph_app(
    settings: SubgraphSettings,
    schema: SubgraphSchema,
    make_loaders: MakeLoaders,
    *,
    routes: Sequence[BaseRoute] = (),
    http_transport: httpx.AsyncBaseTransport | None = None,
    extra: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
) -> FastAPI:
    """Builds one subgraph's app. Nothing connects until the lifespan starts.

    ``http_transport`` replaces the network under the outgoing HTTP client (JWKS, calls to
    other services); tests use it to reach in-process apps. ``extra`` opens what only this
    subgraph needs for the life of the process (the payments' Stripe client), kept as
    ``Runtime.extra``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, echo=settings.sql_echo)
        async with httpx.AsyncClient(transport=http_transport) as http, AsyncExitStack() as resources:
            runtime = Runtime(
                settings=settings,
                engine=engine,
                db=session_factory(engine),
                writer=writer(engine),
                http=http,
                verifier=TokenVerifier(
                    jwks_url=settings.jwks_url,
                    issuer=settings.oidc_issuer,
                    audience=settings.oidc_audience,
                    http=http,
                ),
                service_tokens=ServiceTokens(
                    http,
                    token_url=settings.token_url,
                    client_id=settings.service_client_id,
                    client_secret=settings.service_client_secret,
                    scope=scopes.SERVICES_INTERNAL,
                ),
                breakers=AsyncCircuitBreakerFactory(
                    default_threshold=settings.breaker_threshold, default_ttl=settings.breaker_seconds
                ),
                extra=await resources.enter_async_context(extra()) if extra else None,
            )
            log.info("subgraph started", subgraph=settings.name, port=settings.port)
            app.state.runtime = runtime
            try:
                yield
            finally:
                await engine.dispose()

    app = FastAPI(title=f"shopgraph {settings.name}", lifespan=lifespan, openapi_url="/openapi.json")
    graphql = SubgraphGraphQL(schema, make_loaders)
    app.router.routes.append(Route("/graphql", graphql, methods=["GET", "POST"]))
    app.router.routes.extend(routes)
    install_problem_responses(app)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "subgraph": settings.name}

    @app.get("/ready", include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the database answers too."""
        runtime = runtime_of(request)
        try:
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("not ready", subgraph=settings.name, error=str(exc))
            return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)
        return JSONResponse({"status": "ok", "subgraph": settings.name})

    return app
