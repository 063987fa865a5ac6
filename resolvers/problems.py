"""RFC 7807 problem responses for every plain HTTP endpoint (the internal endpoints, Stripe's
webhook, a body over the size limit): the same stable ``code`` a GraphQL error would carry,
so a calling service can pass a refusal on to its own caller unchanged."""

from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from resolvers.errors import BadUserInput, Conflict, Forbidden, NotFound, ShopgraphError, Unauthenticated, Unavailable

PROBLEM_JSON = "application/problem+json"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
# The code of a refusal made before any of our code ran (a body that does not parse, a path or
# method that does not exist): callers switch on codes, and a refusal without one reads to a
# calling service as a service failing.
HTTP_CODES: Final = {
    400: BadUserInput.code,
    404: NotFound.code,
    405: "METHOD_NOT_ALLOWED",
    413: PAYLOAD_TOO_LARGE,
    415: "UNSUPPORTED_MEDIA_TYPE",
}

_STATUS = {
    BadUserInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unavailable: 503,
}


class PayloadTooLarge(HTTPException):
    """A request body over the size limit, found while it streamed in (resolvers.body_limit)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body must be at most {max_bytes} bytes.")
        self.limit = max_bytes


def install_problem_responses(app: FastAPI) -> None:
    """Errors from plain HTTP endpoints answer as ``application/problem+json``."""

    @app.exception_handler(ShopgraphError)
    async def domain_problem(_request: Request, exc: ShopgraphError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(HTTPException)
    async def http_problem(_request: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc, PayloadTooLarge):
            return payload_too_large(exc.limit)
        return problem(exc.status_code, str(exc.detail), code=HTTP_CODES.get(exc.status_code, BadUserInput.code))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return problem(422, details, code=BadUserInput.code)


def problem_for(exc: ShopgraphError) -> JSONResponse:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
    return problem(status, exc.message, code=exc.code, **exc.extensions)


def payload_too_large(max_bytes: int) -> JSONResponse:
    return problem(413, f"The request body must be at most {max_bytes} bytes.", code=PAYLOAD_TOO_LARGE, limit=max_bytes)


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
