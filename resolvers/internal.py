"""Shared pieces of the internal service-to-service HTTP endpoints (``/internal/v1/...``):
who may call them, the tenant they act for, and RFC 7807 problem responses.

Only services call these endpoints, with a client-credentials token carrying the
``services:internal`` scope; a storefront's token, whatever its other scopes, is refused.
A problem carries the same stable ``code`` a GraphQL error would, so the calling service
can pass the refusal on to its own caller unchanged.
"""

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from resolvers import scopes
from resolvers.auth import Caller
from resolvers.context import TENANT_PATTERN
from resolvers.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    NotFound,
    ShopgraphError,
    Unauthenticated,
    Unavailable,
)
from resolvers.runtime import runtime_of

PROBLEM_JSON = "application/problem+json"
# Ids between services are UUIDs in their canonical lowercase form, as every subgraph writes them.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

_STATUS = {
    BadUserInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unavailable: 503,
}


def tenant_header(x_tenant_id: Annotated[str, Header()]) -> str:
    """Internal calls always name their tenant; there is no default between services."""
    if not TENANT_PATTERN.fullmatch(x_tenant_id):
        raise BadUserInput("X-Tenant-Id must be 1-63 lowercase letters, digits or dashes.", field="X-Tenant-Id")
    return x_tenant_id


async def service_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The calling service, verified like any access token and holding the service scope."""
    if not authorization:
        raise Unauthenticated("Internal endpoints need a service access token.")
    caller = await runtime_of(request).verifier.caller_from_header(authorization)
    if not caller.has_scope(scopes.SERVICES_INTERNAL):
        raise Forbidden(f"Internal endpoints need the {scopes.SERVICES_INTERNAL} scope.")
    return caller


ServiceCaller = Annotated[Caller, Depends(service_caller)]
Tenant = Annotated[str, Depends(tenant_header)]


def install_problem_responses(app: FastAPI) -> None:
    """Errors from plain HTTP endpoints answer as ``application/problem+json``."""

    @app.exception_handler(ShopgraphError)
    async def domain_problem(_request: Request, exc: ShopgraphError) -> JSONResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
        return problem(status, exc.message, code=exc.code, **exc.extensions)

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return problem(422, details, code=BadUserInput.code)


def problem(status: int, detail: str, *, code: str | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if code is not None:
        body["code"] = code
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
