"""``create_subgraph_app``: the one setup function every subgraph's app factory calls."""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import orjson
import structlog
from cross_web import HTTPException
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from purgatory import AsyncCircuitBreakerFactory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from resolvers import scopes
from resolvers.auth import TokenVerifier
from resolvers.body_limit import BodyLimit
from resolvers.context import TENANT_HEADER, Context
from resolvers.db import create_engine, session_factory, writer
from resolvers.errors import to_graphql_error
from resolvers.internal import ServiceCallersOnly
from resolvers.live import Stream, live_hub
from resolvers.problems import HTTP_CODES, install_problem_responses
from resolvers.runtime import Runtime, runtime_of
from resolvers.schema import SubgraphSchema
from resolvers.service_tokens import ServiceTokens
from resolvers.settings import SubgraphSettings

log = structlog.get_logger(__name__)


MakeLoaders = Callable[[Context[Any], Runtime], Any]


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are JSON in text frames; clients (graphql-ws's among them)
    refuse binary ones, which is what Strawberry sends when the encoder gives bytes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class SubgraphGraphQL(GraphQL[Context[Any], None]):
    """Strawberry's plain ASGI app (measurably cheaper than FastAPI's GraphQLRouter) with our
    context, orjson encoding, and answers with a code for everything it refuses.

    Production serves no GraphiQL and takes operations by POST only: the router never sends
    anything else, and a GET is how a cross-site page would try.

    Subscriptions come over a WebSocket speaking graphql-transport-ws, whose `connection_init`
    payload carries the caller as headers would (``Authorization``, ``X-Tenant-Id``, keys in
    any case): a bad token closes the socket with 4403 before any operation runs.
    """

    websocket_adapter_class = TextFrames

    def __init__(self, schema: SubgraphSchema, make_loaders: MakeLoaders, settings: SubgraphSettings) -> None:
        production = settings.is_production
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=not production,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.make_loaders = make_loaders
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            self._check_transport(request)
            response: Response = await self.run(request)
        except HTTPException as exc:
            response = _refusal(exc.status_code, exc.reason)
        await response(scope, receive, send)

    def _check_transport(self, request: Request) -> None:
        """Operations come as JSON: a form or a text body is what a cross-site page can send
        without asking first, so it is refused before anything reads it."""
        if request.method == "GET" and self.production:
            raise HTTPException(405, "Send operations by POST.")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type != "application/json":
            raise HTTPException(415, "Send operations as application/json.")

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context[Any]:
        runtime = runtime_of(request)
        make_loaders = self.make_loaders
        context: Context[Any] = Context(
            runtime=runtime,
            tenant_header=request.headers.get(TENANT_HEADER),
            make_loaders=lambda context: make_loaders(context, runtime),
        )
        if isinstance(request, Request):
            await context.authenticate(request.headers.get("authorization"))
        context.request_loaders = make_loaders(context, runtime)
        return context

    async def on_ws_connect(self, context: Context[Any]) -> UnsetType:
        params = context.connection_params or {}
        authorization = _param(params, "authorization")
        tenant = _param(params, TENANT_HEADER)
        await context.authenticate(authorization or None)
        if context.auth_error is not None:
            raise ConnectionRejectionError
        context.tenant_header = tenant or context.tenant_header
        unset: UnsetType = UNSET  # an acknowledgement without a payload
        return unset

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error leaves with a stable code and without internals, including the parse
        and validation errors Strawberry answers before any extension sees the result."""
        if result.errors:
            result.errors = [to_graphql_error(error, hide_suggestions=self.production) for error in result.errors]
        return await super().process_result(request, result)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """A request refused before execution (it does not parse, validate, coerce its
        variables, or fit the limits) is a 400, as the router answers it: no data, and errors
        that point at no field."""
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and response_data.get("data") is None:
            errors = response_data.get("errors") or []
            if errors and not any(isinstance(error, dict) and error.get("path") for error in errors):
                response.status_code = 400
        return response

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses lone surrogates ("\ud800"), which the standard library lets through
        # to fail later in the database driver; a refused body is answered with a 400.
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _param(params: Mapping[str, object], name: str) -> str | None:
    """A `connection_init` entry by its name in any case; one that is not text refuses the socket."""
    for key, value in params.items():
        if key.lower() == name:
            if not isinstance(value, str):
                raise ConnectionRejectionError
            return value
    return None


def _refusal(status: int, message: str) -> Response:
    code = HTTP_CODES.get(status, "BAD_USER_INPUT")
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def create_subgraph_app(
    settings: SubgraphSettings,
    schema: SubgraphSchema,
    make_loaders: MakeLoaders,
    *,
    routes: Sequence[BaseRoute] = (),
    http_transport: httpx.AsyncBaseTransport | None = None,
    extra: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
    streams: Sequence[Stream] = (),
) -> FastAPI:
    """Builds one subgraph's app. Nothing connects until the lifespan starts.

    ``streams`` are its subscription fields' event streams: the process then reads their
    topics from Kafka (``SHOPGRAPH_EVENTS_*`` settings) for as long as it runs.

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
                live=await resources.enter_async_context(live_hub(settings, streams)) if streams else None,
            )
            log.info("subgraph started", subgraph=settings.name, port=settings.port)
            app.state.runtime = runtime
            try:
                yield
            finally:
                await engine.dispose()

    # Production does not publish its internal API's shape: the OpenAPI documents and their
    # pages are for development, and for the suite that fuzzes them.
    documented = not settings.is_production
    app = FastAPI(
        title=f"shopgraph {settings.name}",
        lifespan=lifespan,
        openapi_url="/openapi.json" if documented else None,
        docs_url="/docs" if documented else None,
        redoc_url="/redoc" if documented else None,
    )
    graphql = SubgraphGraphQL(schema, make_loaders, settings)
    app.router.routes.append(Route("/graphql", graphql, methods=["GET", "POST"]))
    app.router.routes.append(WebSocketRoute("/graphql", graphql))
    app.router.routes.extend(routes)
    install_problem_responses(app)
    # Outermost first: an oversized body is refused before the caller is even looked at.
    app.add_middleware(ServiceCallersOnly)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

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
