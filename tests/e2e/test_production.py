"""The whole system in production mode, on PostgreSQL and Redis, with secrets made up for the
run: what development allows is refused, the storefront runs only its registered documents,
a partner sends its own operations within the limits, persisted queries are shared through
Redis, the subgraphs answer the federation internals to the router alone, and a shopper still
checks out and pays. (tests/e2e/test_router_production.py goes into the router's production
rules in more detail, in front of development subgraphs.)"""

import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from devstack import tokens
from resolvers.scopes import SHOPPER_SCOPES
from shopgraph import demo_data, documents
from shopgraph.system import Ports, Production, System, SystemConfig, running
from tests.e2e.conftest import GENEROUS_RATE_LIMIT, provider_key, until
from tests.support.checkout import ADDRESS, pay, stripe_client
from tests.support.postgres import migrated_databases

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/0"
STOREFRONT_ORIGIN = "https://shop.example"
PARTNER = "acme-integration"
PARTNER_QUERY = 'query Orders { order(id: "00000000-0000-4000-8000-000000000000") { number } categories { name } }'


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    var: Path = tmp_path_factory.mktemp("production")
    production = Production(
        router_secret=secrets.token_urlsafe(32),
        services_secret=secrets.token_urlsafe(32),
        stripe_api_key=f"sk_test_{secrets.token_urlsafe(24)}",
        stripe_webhook_secret=f"whsec_{secrets.token_urlsafe(24)}",
        redis_url=REDIS_URL,
        cors_origins=STOREFRONT_ORIGIN,
        adhoc_clients=PARTNER,
    )
    async with migrated_databases("production") as urls:
        await demo_data.seed(urls)
        config = SystemConfig(
            ports=Ports.free(first_offset=1000),
            var=var,
            database_urls=urls,
            default_tenant=None,
            rate_limit=GENEROUS_RATE_LIMIT,
            production=production,
        )
        with running(config) as started:
            yield started


def registered(name: str) -> tuple[str, str]:
    """The storefront's registered document named ``name``: its id and its text."""
    for key, text in documents.registered()["storefront"].items():
        operation = next(d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode))
        if operation.name is not None and operation.name.value == name:
            return key, text
    raise LookupError(name)


def bearer(
    system: System, client_id: str, *, subject: str = "demo-shopper", scopes: Any = SHOPPER_SCOPES
) -> dict[str, str]:
    token = tokens.mint(
        provider_key(system), subject, scopes=scopes, tenant="demo", issuer=system.config.issuer, client_id=client_id
    )
    return {"Authorization": f"Bearer {token}"}


def send(system: System, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        system.urls()["router"], json=body, headers={"X-Tenant-Id": "demo", **(headers or {})}, timeout=30
    )


def by_id(name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    key, _text = registered(name)
    return {"variables": variables or {}, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": key}}}


def code(response: httpx.Response) -> str:
    found: str = response.json()["errors"][0]["extensions"]["code"]
    return found


def test_what_development_allows_production_refuses(system: System) -> None:
    partner = bearer(system, PARTNER, subject="partner-acme", scopes=("orders:admin",))
    router = system.urls()["router"]

    introspection = send(system, {"query": "{ __schema { types { name } } }"}, partner)
    misspelt = send(system, {"query": "{ categoriez { name } }"}, partner)
    graphiql = httpx.get(router, headers={"Accept": "text/html"}, timeout=10)
    form = httpx.post(router, data={"query": "{ categories { name } }"}, headers={"X-Tenant-Id": "demo"}, timeout=10)
    mutation_by_get = httpx.get(router, params={"query": "mutation { clearCart { id } }"}, headers=partner, timeout=10)

    assert introspection.json().get("data") is None and code(introspection) == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in misspelt.text
    assert "graphiql" not in graphiql.text.lower()
    assert form.status_code == 415 and code(form) == "UNSUPPORTED_MEDIA_TYPE"
    assert mutation_by_get.status_code == 405 and code(mutation_by_get) == "METHOD_NOT_ALLOWED"


def test_the_storefront_runs_its_registered_documents_and_nothing_else(system: System) -> None:
    storefront = bearer(system, "storefront")
    _key, grid_text = registered("ProductGrid")
    params = by_id("ProductGrid", {"first": 3})

    anonymous = send(system, params)
    signed_in = send(system, params, storefront)
    by_get = httpx.get(
        system.urls()["router"],
        params={"variables": json.dumps(params["variables"]), "extensions": json.dumps(params["extensions"])},
        headers={"X-Tenant-Id": "demo"},
        timeout=10,
    )
    its_own_text = send(system, {"query": grid_text, "variables": {"first": 3}})
    ad_hoc = send(system, {"query": "{ categories { name } }"}, storefront)
    anonymous_ad_hoc = send(system, {"query": "{ categories { name } }"})

    # A registered document runs by its id (by GET too, for a CDN) or by its exact text.
    for answer in (anonymous, signed_in, by_get, its_own_text):
        assert answer.status_code == 200 and len(answer.json()["data"]["products"]["edges"]) == 3, answer.text
    assert code(ad_hoc) == code(anonymous_ad_hoc) == "TRUSTED_DOCUMENT_REQUIRED"


def test_a_partner_sends_its_own_operations_within_the_limits(system: System) -> None:
    partner = bearer(system, PARTNER, subject="partner-acme", scopes=("orders:admin",))
    deep = '{ order(id: "x") { customer { orders { edges { node { customer { orders { edges { node { lines { product { category { name } } } } } } } } } } } } }'

    own = send(system, {"query": PARTNER_QUERY}, partner)
    too_deep = send(system, {"query": deep}, partner)

    assert own.status_code == 200 and len(own.json()["data"]["categories"]) == 10
    assert too_deep.status_code == 400 and code(too_deep) == "QUERY_TOO_DEEP"


def test_automatic_persisted_queries_round_trip_through_redis(system: System) -> None:
    partner = bearer(system, PARTNER, subject="partner-acme", scopes=("orders:admin",))
    query = f"query Fresh {{ categories {{ slug }} }} # {secrets.token_hex(8)}"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}

    unknown = send(system, {"extensions": extensions}, partner)
    stored = send(system, {"query": query, "extensions": extensions}, partner)
    by_hash = send(system, {"extensions": extensions})

    assert code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert len(stored.json()["data"]["categories"]) == 10
    assert by_hash.json() == stored.json()


def test_subgraphs_answer_the_federation_internals_to_the_router_only(system: System) -> None:
    product = send(system, by_id("ProductGrid", {"first": 1})).json()["data"]["products"]["edges"][0]["node"]
    representations = {"r": [{"__typename": "Product", "id": product["id"]}]}
    direct = httpx.post(
        system.urls()["catalog"],
        json={
            "query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name } } }",
            "variables": representations,
        },
        headers={"X-Tenant-Id": "demo"},
        timeout=10,
    )
    # The cart's products come from the catalog by _entities, through the router's signed request.
    cart = send(system, by_id("Cart"), bearer(system, "storefront"))

    assert direct.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN" and direct.json()["data"] is None
    lines = cart.json()["data"]["me"]["cart"]["lines"]
    assert lines and all(line["product"]["name"] for line in lines), cart.text


async def test_a_shopper_checks_out_and_pays_in_production(system: System) -> None:
    shopper = bearer(system, "storefront", subject="paying-shopper")
    product = send(system, by_id("ProductGrid", {"first": 1, "filter": {"inStock": True}})).json()["data"]["products"]
    product_id = product["edges"][0]["node"]["id"]
    key = secrets.token_hex(8)

    added = send(system, by_id("AddToCart", {"productId": product_id, "quantity": 1}), shopper)
    checkout = {"idempotencyKey": key, "shippingAddress": ADDRESS, "email": "paying@example.com"}
    checked_out = send(system, by_id("Checkout", {"input": checkout}), shopper)
    order = checked_out.json()["data"]["checkout"]
    assert added.json()["data"]["addToCart"]["itemCount"] == 1, added.text
    assert order["status"] == "PENDING_PAYMENT", checked_out.text

    assert await pay(system.config.stripe_url, order["payment"]["providerRef"]) == "succeeded"
    paid = until(
        lambda: send(system, by_id("Order", {"id": order["id"]}), shopper).json()["data"]["order"],
        lambda found: found["status"] == "PAID",
    )

    assert paid["status"] == "PAID" and paid["payment"]["status"] == "SUCCEEDED"
    async with stripe_client(system.config.stripe_url) as client:
        assert (await client.v1.payment_intents.retrieve_async(order["payment"]["providerRef"])).status == "succeeded"
