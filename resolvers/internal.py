"""Shared pieces of the internal service-to-service HTTP endpoints (``/internal/v1/...``):
the tenant they act for, and RFC 7807 problem responses."""

from http import HTTPStatus
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from resolvers.context import TENANT_PATTERN

PROBLEM_JSON = "application/problem+json"


def tenant_header(x_tenant_id: Annotated[str, Header()]) -> str:
    """Internal calls always name their tenant; there is no default between services."""
    if not TENANT_PATTERN.fullmatch(x_tenant_id):
        raise HTTPException(status_code=400, detail="X-Tenant-Id must be 1-63 lowercase letters, digits or dashes.")
    return x_tenant_id


def install_problem_responses(app: FastAPI) -> None:
    """Errors from plain HTTP endpoints answer as ``application/problem+json``."""

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return problem(422, details)


def problem(status: int, detail: str) -> JSONResponse:
    title = HTTPStatus(status).phrase
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type=PROBLEM_JSON,
    )
