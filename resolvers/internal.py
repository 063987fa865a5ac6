"""The internal service-to-service HTTP endpoints (``/internal/v1/...``): who may call them
and the tenant they act for.

Only services call these endpoints, with a client-credentials token carrying the
``services:internal`` scope; a storefront's token, whatever its other scopes, is refused.
``ServiceCallersOnly`` checks the token before the request is routed, so a caller without
one learns nothing from the endpoints, not even how their bodies are shaped. Refusals are
problem responses (resolvers.problems).
"""

from typing import Annotated, Final

from fastapi import Depends, Header, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers import scopes
from resolvers.auth import Caller
from resolvers.context import TENANT_PATTERN
from resolvers.errors import BadUserInput, Forbidden, ShopgraphError, Unauthenticated
from resolvers.problems import problem_for
from resolvers.runtime import runtime_of

PREFIX: Final = "/internal/"
# Ids between services are UUIDs in their canonical lowercase form, as every subgraph writes them.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class ServiceCallersOnly:
    """Authenticates every request under ``/internal/`` before anything else looks at it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            request = Request(scope)
            try:
                caller = await _authenticate(request)
            except ShopgraphError as exc:
                await problem_for(exc)(scope, receive, send)
                return
            scope.setdefault("state", {})["service_caller"] = caller
        await self.app(scope, receive, send)


async def _authenticate(request: Request) -> Caller:
    authorization = request.headers.get("authorization")
    if not authorization:
        raise Unauthenticated("Internal endpoints need a service access token.")
    caller = await runtime_of(request).verifier.caller_from_header(authorization)
    if not caller.has_scope(scopes.SERVICES_INTERNAL):
        raise Forbidden(f"Internal endpoints need the {scopes.SERVICES_INTERNAL} scope.")
    return caller


def service_caller(request: Request) -> Caller:
    """The calling service, as ``ServiceCallersOnly`` verified it."""
    caller: Caller = request.state.service_caller
    return caller


def tenant_header(x_tenant_id: Annotated[str, Header()]) -> str:
    """Internal calls always name their tenant; there is no default between services."""
    if not TENANT_PATTERN.fullmatch(x_tenant_id):
        raise BadUserInput("X-Tenant-Id must be 1-63 lowercase letters, digits or dashes.", field="X-Tenant-Id")
    return x_tenant_id


ServiceCaller = Annotated[Caller, Depends(service_caller)]
Tenant = Annotated[str, Depends(tenant_header)]
