"""Fuzzing a subgraph with schemathesis: every operation of its GraphQL schema or of its internal
OpenAPI document, with generated valid and invalid input, a bounded number of examples each, the
answers judged by our error contract.

The suite draws few examples per operation and the same ones every run (Hypothesis derandomized),
so a CI failure reproduces; ``SHOPGRAPH_FUZZ_EXAMPLES`` asks for more, drawn afresh each run
(``make fuzz``, before a release). Every operation is fuzzed even after one fails, and each
failure is reported with its smallest example as a curl command and the answer it got.
"""

import os
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import graphql
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import BaseSchema, Case, CheckFunction, GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from tests.support.fuzz_checks import Operation
from tests.support.fuzz_entities import representations
from tests.support.fuzz_store import FuzzStore

EXAMPLES = "SHOPGRAPH_FUZZ_EXAMPLES"
SUITE_EXAMPLES = 10
REQUEST_TIMEOUT_SECONDS = 30
# How often a generated string argument is replaced by one of the fuzz store's ids or values.
STORE_VALUE_PROBABILITY = 0.5

# Valid JSON ("\ud800") that no database can store. In GraphQL documents only: in a URL, the
# HTTP client itself cannot encode it.
LONE_SURROGATE = "\ud800"


def hypothesis_settings() -> settings:
    """``SUITE_EXAMPLES`` per operation, the same each run; or as many as ``SHOPGRAPH_FUZZ_EXAMPLES``
    asks, new each run."""
    asked = os.environ.get(EXAMPLES)
    return settings(
        max_examples=int(asked) if asked else SUITE_EXAMPLES,
        derandomize=asked is None,
        database=None,
        # A shared, noisy machine: a slow answer is judged by the request timeout instead.
        deadline=None,
        # Generating a document from a large schema is slow, and big documents are the point.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        phases=[Phase.generate, Phase.shrink],
    )


def _config(strings: list[str]) -> schemathesis.Config:
    """String arguments drawn from ``strings`` now and then (the fuzz store's ids, so lookups
    find something)."""
    return schemathesis.Config.from_dict(
        {
            "dictionaries": {"store": {"values": strings}},
            "generation": {"dictionaries": {"string": {"dictionary": "store", "probability": STORE_VALUE_PROBABILITY}}},
        }
    )


def graphql_schema(url: str, store: FuzzStore) -> BaseSchema:
    """Every root field of the subgraph at ``url``, ``_entities`` and ``_service`` too: whoever
    reaches a subgraph reaches them."""
    schema = schemathesis.graphql.from_url(
        url, config=_config([*store.strings, LONE_SURROGATE]), timeout=REQUEST_TIMEOUT_SECONDS
    )
    entity = schema.client_schema.get_type("_Entity")
    assert isinstance(entity, graphql.GraphQLUnionType), "not a federation subgraph"
    # The scalar registry is process-wide; the fuzz tests are its only user, one subgraph at a time.
    keys = [*store.ids, store.user]
    schemathesis.graphql.scalar("_Any", representations([t.name for t in entity.types], keys))
    return schema.include(name_regex=r"^(Query|Mutation)\.")


def internal_api_schema(url: str, store: FuzzStore) -> BaseSchema:
    """The ``/internal/v1`` operations of the OpenAPI document at ``url`` (the Stripe webhook,
    signed by Stripe rather than called with a token, is not one)."""
    schema = schemathesis.openapi.from_url(url, config=_config(store.strings), timeout=REQUEST_TIMEOUT_SECONDS)
    return schema.include(path_regex=r"^/internal/v1/")


@dataclass
class Outcome:
    operations: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def report(self) -> str:
        return f"{len(self.failures)} failing of {len(self.operations)} operations\n\n" + "\n\n".join(self.failures)


def fuzz(schema: BaseSchema, *, checks: Sequence[CheckFunction], headers: dict[str, str]) -> Outcome:
    """Each operation with valid, then invalid, generated input, sent with ``headers``."""
    outcome = Outcome()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                outcome.failures.append(f"cannot fuzz: {result.err()}")
                continue
            operation = result.ok()
            outcome.operations.append(operation.label)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for failure in _failures(operation, mode, checks, headers, session):
                    outcome.failures.append(f"{operation.label}, {mode.value} input:\n{failure}")
    return outcome


def _failures(
    operation: Operation,
    mode: GenerationMode,
    checks: Sequence[CheckFunction],
    headers: dict[str, str],
    session: requests.Session,
) -> list[str]:
    @hypothesis_settings()
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    def exchange(case: Case[Operation]) -> None:
        response = case.call(session=session, timeout=REQUEST_TIMEOUT_SECONDS)
        case.validate_response(response, checks=list(checks), headers=headers)

    try:
        exchange()
    except (Exception, BaseExceptionGroup) as error:  # reported; the other operations still run
        return list(_describe(error))
    return []


def _describe(error: BaseException) -> Iterator[str]:
    """Schemathesis's own report of a failed check (the checks, the answer, a curl command), or
    the error with its notes (a transport error carries the curl command as one)."""
    if isinstance(error, FailureGroup):
        yield error.message
    elif isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _describe(inner)
    else:
        yield "".join(traceback.format_exception_only(error)).strip()
