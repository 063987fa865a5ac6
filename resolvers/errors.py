"""Expected failures, each with a stable ``extensions.code`` that clients can switch on.

    ShopgraphError                 an expected failure; its message is safe to show
    ├── BadUserInput               BAD_USER_INPUT   malformed or out-of-range input
    ├── NotFound                   NOT_FOUND        no such object in the caller's tenant
    ├── Unauthenticated            UNAUTHENTICATED  no valid token where one is needed
    ├── Forbidden                  FORBIDDEN        a valid token that may not do this
    ├── Conflict                   CONFLICT         the request contradicts current state
    │   ├── CartEmpty              CART_EMPTY       checkout of a cart with nothing in it
    │   ├── ProductUnavailable     PRODUCT_UNAVAILABLE  a product is archived or unknown
    │   ├── PriceChanged           PRICE_CHANGED    the total differs from the one shown
    │   ├── InsufficientStock      INSUFFICIENT_STOCK   fewer units available than asked
    │   ├── InvalidTransition      INVALID_STATUS   the object's status does not allow it
    │   ├── RefundExceedsCaptured  REFUND_EXCEEDS_CAPTURED  more back than was taken
    │   └── TooManyPendingCheckouts  TOO_MANY_PENDING_CHECKOUTS  unpaid orders hold enough stock
    ├── Unavailable                SERVICE_UNAVAILABLE  a service we depend on did not answer
    ├── SlowConsumer               SLOW_CONSUMER    a subscriber fell too far behind its events
    └── TooManySubscriptions       TOO_MANY_SUBSCRIPTIONS  the caller holds as many as one may

Domain services raise these without knowing about GraphQL. ``to_graphql_error``, applied by
the GraphQL app to every result, turns them into GraphQL errors carrying the code, keeps graphql-core's own
request errors (syntax, validation, variable coercion) as ``BAD_USER_INPUT`` with their
message, and masks everything else as ``INTERNAL_SERVER_ERROR`` after logging it: an
unexpected exception's text may leak internals, and a client can do nothing with it anyway.
"""

import re
import traceback
from functools import cache
from typing import Any, ClassVar

import structlog
from graphql import GraphQLError

log = structlog.get_logger(__name__)

# graphql-core's hints: "Did you mean 'products'?", "Did you mean the enum value 'PRICE'?".
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class ShopgraphError(Exception):
    """An expected failure whose message is written for the API's caller."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInput(ShopgraphError):
    code = "BAD_USER_INPUT"


class NotFound(ShopgraphError):
    code = "NOT_FOUND"


class Unauthenticated(ShopgraphError):
    code = "UNAUTHENTICATED"


class Forbidden(ShopgraphError):
    code = "FORBIDDEN"


class Conflict(ShopgraphError):
    code = "CONFLICT"


class CartEmpty(Conflict):
    code = "CART_EMPTY"


class ProductUnavailable(Conflict):
    code = "PRODUCT_UNAVAILABLE"


class PriceChanged(Conflict):
    code = "PRICE_CHANGED"


class InsufficientStock(Conflict):
    code = "INSUFFICIENT_STOCK"


class InvalidTransition(Conflict):
    code = "INVALID_STATUS"


class RefundExceedsCaptured(Conflict):
    code = "REFUND_EXCEEDS_CAPTURED"


class TooManyPendingCheckouts(Conflict):
    code = "TOO_MANY_PENDING_CHECKOUTS"


class Unavailable(ShopgraphError):
    code = "SERVICE_UNAVAILABLE"


class SlowConsumer(ShopgraphError):
    code = "SLOW_CONSUMER"


class TooManySubscriptions(ShopgraphError):
    code = "TOO_MANY_SUBSCRIPTIONS"


def _codes(cls: type[ShopgraphError]) -> dict[str, type[ShopgraphError]]:
    found = {cls.code: cls}
    for sub in cls.__subclasses__():
        found.update(_codes(sub))
    return found


@cache
def _by_code() -> dict[str, type[ShopgraphError]]:
    """Every error class by its code, gathered once (all are defined above)."""
    return _codes(ShopgraphError)


def error_for(code: str, message: str, **extensions: Any) -> ShopgraphError:
    """The error a code names, as another service reported it; an unknown code is our own
    service failing, which the caller cannot act on."""
    cls = _by_code().get(code)
    if cls is None or cls is ShopgraphError:
        return Unavailable(message, **extensions)
    return cls(message, **extensions)


def _is_request_error(original: BaseException | None) -> bool:
    return original is None or isinstance(original, GraphQLError | ValueError)


def to_graphql_error(error: GraphQLError, *, hide_suggestions: bool = False) -> GraphQLError:
    """Give one execution error its public shape: a stable code, and no internals; and, with
    ``hide_suggestions`` (production), no "Did you mean ...?" that would spell the schema
    out to someone probing it with introspection turned off."""
    original = error.original_error
    if isinstance(original, ShopgraphError):
        extensions = {**original.extensions, "code": original.code}
        message = original.message
    elif (error.extensions or {}).get("code") or (error.path is None and _is_request_error(original)):
        # Errors that carry their code (permission classes) and graphql-core's request errors
        # before execution (syntax, validation, variable coercion: no path, and no cause but
        # a GraphQL error or a scalar's ValueError): their text is meant for the client.
        extensions = {"code": "BAD_USER_INPUT", **(error.extensions or {})}
        message = error.message
    else:
        # Where it broke, not what it said: an exception's text may quote the input (a
        # database error names the value it refused), and logs carry no personal data.
        log.error(
            "unexpected resolver error",
            path=error.path,
            error=type(original).__name__ if original else "GraphQLError",
            stack="".join(traceback.format_tb(original.__traceback__)) if original else None,
        )
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
        message = "Internal server error."
    if hide_suggestions:
        message = _SUGGESTION.sub("", message)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )
