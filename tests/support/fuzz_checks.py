"""What counts as a failure when fuzzing: our error contract, not schemathesis's idea of one.

A GraphQL answer is data, or errors that each carry a code the client can act on; an internal
endpoint answers below 500, refuses with RFC 7807 problem+json carrying our ``code``, and
succeeds in the shape its OpenAPI document gives.
"""

import json
from typing import Any

from schemathesis import APIOperation, Case, CheckContext, CheckFunction, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

# Codes that say the server, not the request, failed. SERVICE_UNAVAILABLE is one here: every
# service is up during the run, so it can only mean a service called on the way failed.
SERVER_FAILURE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
PROBLEM_JSON = "application/problem+json"

Operation = APIOperation[Any, Any, Any, Any]


def graphql_answer_has_codes(ctx: CheckContext, response: Response, case: Case[Operation]) -> bool | None:
    """Data, or errors that each carry a code the client can act on.

    Schemathesis's own ``not_a_server_error`` calls any GraphQL error with a ``path`` a server
    error, NOT_FOUND and FORBIDDEN included; our codes say which errors are the server's.
    """
    assert response.status_code < 500, f"HTTP {response.status_code}"
    body = _loads(response.text)
    assert isinstance(body, dict), f"not a GraphQL response: {response.text[:200]}"
    for error in body.get("errors") or []:
        assert isinstance(error, dict), f"not a GraphQL error: {error!r}"
        code = (error.get("extensions") or {}).get("code")
        assert code and code not in SERVER_FAILURE_CODES, f"{code or 'no code'}: {error.get('message')}"
    return None


def refusal_is_a_problem_with_a_code(ctx: CheckContext, response: Response, case: Case[Operation]) -> bool | None:
    """``assert_refusal_is_a_problem`` as a schemathesis check."""
    assert_refusal_is_a_problem(response.status_code, ",".join(response.headers.get("content-type", [])), response.text)
    return None


def assert_refusal_is_a_problem(status: int, content_type: str, text: str) -> None:
    """A 4xx is RFC 7807 problem+json carrying our ``code``, as the README promises: a calling
    service passes the code on, and takes a refusal without one for its callee failing."""
    if 400 <= status < 500:
        assert content_type.startswith(PROBLEM_JSON), f"HTTP {status} as {content_type!r}: {text[:200]}"
        body = _loads(text)
        assert isinstance(body, dict) and isinstance(body.get("code"), str), (
            f"HTTP {status} without a code: {text[:200]}"
        )


def success_matches_the_document(ctx: CheckContext, response: Response, case: Case[Operation]) -> bool | None:
    """A 2xx has the content type and the shape the OpenAPI document gives. Refusals are held to
    the problem contract instead: the document describes FastAPI's default 422 body, which the
    subgraphs do not send."""
    if 200 <= response.status_code < 300:
        content_type_conformance(ctx, response, case)
        response_schema_conformance(ctx, response, case)
    return None


GRAPHQL_CHECKS: tuple[CheckFunction, ...] = (graphql_answer_has_codes,)
INTERNAL_API_CHECKS: tuple[CheckFunction, ...] = (
    not_a_server_error,
    refusal_is_a_problem_with_a_code,
    success_matches_the_document,
)


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
