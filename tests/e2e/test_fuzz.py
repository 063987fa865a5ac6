"""Whatever a client or a service sends a subgraph, the answer is data or a refusal with a code:
schemathesis generates input for every GraphQL operation and every internal endpoint of each
subgraph, reached directly, and hypothesis generates bodies for Stripe's webhook, correctly
signed; no answer may be a 5xx or an INTERNAL_SERVER_ERROR.

The callers hold every scope in a store of their own (``fuzz``), so the mutations generated never
touch the demo store other tests read. ``make fuzz`` runs the same with many more examples."""

import httpx
import pytest
from hypothesis import given

from resolvers.scopes import SCOPES, SERVICES_INTERNAL
from shopgraph.registry import SUBGRAPHS
from shopgraph.system import System
from tests.e2e.conftest import mint
from tests.support import fuzz, fuzz_checks, fuzz_store, fuzz_webhooks
from tests.support.checkout import signed
from tests.support.fuzz_store import FuzzStore

pytestmark = pytest.mark.e2e

TENANT = "fuzz"
ADMIN = "fuzz-admin"


@pytest.fixture(scope="module")
def store(system: System) -> FuzzStore:
    return fuzz_store.seed(system.config.router_url, admin_token(system), tenant=TENANT, user=ADMIN)


def admin_token(system: System) -> str:
    return mint(system, ADMIN, scopes=tuple(SCOPES), tenant=TENANT)


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_every_graphql_operation_answers_generated_input_without_a_server_error(
    system: System, store: FuzzStore, name: str
) -> None:
    # given every root field of the subgraph, and a caller holding every scope in the fuzz store
    schema = fuzz.graphql_schema(system.urls()[name], store)
    caller = {"authorization": f"Bearer {admin_token(system)}", "x-tenant-id": TENANT}

    # when each is sent generated arguments and selections, valid and invalid
    outcome = fuzz.fuzz(schema, checks=fuzz_checks.GRAPHQL_CHECKS, headers=caller)

    # then every answer is data or errors with expected codes
    assert outcome.operations
    assert not outcome.failures, outcome.report()


@pytest.mark.parametrize("name", SUBGRAPHS)
def test_every_internal_endpoint_answers_generated_input_without_a_server_error(
    system: System, store: FuzzStore, name: str
) -> None:
    # given the subgraph's /internal/v1 operations (none in some subgraphs), and a service token
    schema = fuzz.internal_api_schema(f"{system.config.subgraph_url(name)}/openapi.json", store)
    token = mint(system, "shopgraph-services", scopes=(SERVICES_INTERNAL,), tenant=TENANT)
    service = {"authorization": f"Bearer {token}", "x-tenant-id": TENANT}

    # when each is sent generated paths, queries and bodies, valid and invalid
    outcome = fuzz.fuzz(schema, checks=fuzz_checks.INTERNAL_API_CHECKS, headers=service)

    # then no answer is a 5xx, every refusal is a problem with a code, and every success has
    # the shape the document gives
    assert not outcome.failures, outcome.report()


def test_every_signed_stripe_webhook_body_is_answered_without_a_server_error(system: System) -> None:
    # given the payments subgraph's Stripe webhook
    url = f"{system.config.subgraph_url('payments')}/webhooks/stripe"

    with httpx.Client(timeout=fuzz.REQUEST_TIMEOUT_SECONDS) as http:
        # when bodies Stripe would never send arrive, each signed with the endpoint's secret
        @fuzz.hypothesis_settings()
        @given(body=fuzz_webhooks.bodies())
        def delivered(body: bytes) -> None:
            response = http.post(url, content=body, headers=signed(body))

            # then each is acknowledged, or refused as a problem with a code; none is a 5xx
            assert response.status_code < 500, response.text
            fuzz_checks.assert_refusal_is_a_problem(
                response.status_code, response.headers.get("content-type", ""), response.text
            )

        delivered()
