"""Whatever a client sends, it gets an answer with a code: never a 500, never internals."""

from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager

from resolvers.scopes import SCOPES, SERVICES_INTERNAL
from shopgraph.registry import app_factory, settings_for
from tests.support import factories
from tests.support.graphql import GraphQLClient, data, error_codes

NASTY = ["\x00", "'; DROP TABLE products; --", "ü" * 300, "\U0001f600" * 70, "a\x1bb", " ", "%_%", "\\"]


@pytest.mark.parametrize("text", NASTY)
async def test_hostile_text_is_refused_or_stored_never_crashes(stack: Any, token: Any, text: str) -> None:
    admin = token("admin", scopes=("catalog:write", "users:read"))
    catalog, users = stack.client("catalog"), stack.client("users")
    queries = [
        (
            catalog,
            'mutation($t: String!) { createProduct(input: {sku: $t, name: $t, price: {amount: 1, currency: "USD"}}) { id } }',
        ),
        (catalog, "mutation($t: String!) { createCategory(input: {slug: $t, name: $t}) { id } }"),
        (catalog, "query($t: String!) { productBySku(sku: $t) { id } products(filter: {search: $t}) { totalCount } }"),
        (users, "mutation($t: String!) { updateProfile(input: {name: $t}) { id } }"),
        (
            users,
            "mutation($t: String!) { addAddress(input: {recipient: $t, line1: $t, city: $t, postalCode: $t, country: $t}) { id } }",
        ),
    ]
    for client, query in queries:
        body = await client(query, {"t": text}, token=admin)
        assert set(error_codes(body)) <= {"BAD_USER_INPUT", "CONFLICT"}, (query, text, body)


async def test_wrong_variable_types_and_unknown_fields_are_bad_input(stack: Any) -> None:
    catalog = stack.client("catalog")

    wrong_type = await catalog(
        "query($n: Int!) { products(first: $n) { totalCount } }", {"n": "five"}, expect_status=400
    )
    unknown = await catalog("{ products { priceInBitcoin } }", expect_status=400)
    syntax = await catalog("{ products { ", expect_status=400)

    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    assert error_codes(unknown) == ["BAD_USER_INPUT"]
    assert error_codes(syntax) == ["BAD_USER_INPUT"]


async def test_too_many_representations_are_refused(stack: Any) -> None:
    representations = [{"__typename": "Product", "id": f"00000000-0000-4000-8000-{i:012d}"} for i in range(1001)]

    body = await stack.client("catalog")(
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }", {"r": representations}
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_database_down_is_masked_and_not_ready(stack: Any, signing_key: Any) -> None:
    settings = settings_for(
        "catalog", database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none", environment="test"
    )
    app = app_factory("catalog")(settings)
    async with LifespanManager(app):
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog.test")
        with structlog.testing.capture_logs() as logged:
            body = await GraphQLClient(http)(
                "query($sku: String!) { productBySku(sku: $sku) { id } }", {"sku": "ADA-LOVELACE-SKU"}
            )
        ready = await http.get("/ready")
        health = await http.get("/health")

    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["message"] == "Internal server error."
    assert "asyncpg" not in str(body) and "127.0.0.1" not in str(body)
    assert ready.status_code == 503 and health.status_code == 200
    # The log says where it broke, and nothing the caller sent.
    [failure] = [entry for entry in logged if entry["event"] == "unexpected resolver error"]
    assert failure["path"] == ["productBySku"] and "reads.py" in failure["stack"]
    assert "ADA-LOVELACE" not in str(logged)


async def test_internal_endpoints_take_service_tokens_only_and_answer_problem_json(stack: Any, token: Any) -> None:
    product = await factories.product(stack)
    http = stack.client("catalog").http
    service = {"Authorization": f"Bearer {token('shopgraph-services', scopes=[SERVICES_INTERNAL], tenant=None)}"}
    shopper = {"Authorization": f"Bearer {token('ada', scopes=list(SCOPES))}"}
    url, ids = "/internal/v1/products", {"ids": [product.id, "junk"]}

    ok = await http.get(url, params=ids, headers={**service, "X-Tenant-Id": "acme"})
    no_tenant = await http.get(url, params=ids, headers=service)
    anonymous = await http.get(url, params=ids, headers={"X-Tenant-Id": "acme"})
    storefront = await http.get(url, params=ids, headers={**shopper, "X-Tenant-Id": "acme"})

    assert [p["id"] for p in ok.json()["products"]] == [product.id]
    assert no_tenant.status_code == 422
    assert no_tenant.headers["content-type"] == "application/problem+json"
    assert no_tenant.json()["status"] == 422 and no_tenant.json()["code"] == "BAD_USER_INPUT"
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    assert (storefront.status_code, storefront.json()["code"]) == (403, "FORBIDDEN")


async def test_unknown_product_reference_resolves_to_null(stack: Any) -> None:
    body = await stack.client("catalog")(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id } } }",
        {"r": [{"__typename": "Product", "id": "garbage"}]},
    )

    assert data(body) == {"_entities": [None]}


async def test_a_lone_surrogate_is_refused_before_it_reaches_the_database(stack: Any) -> None:
    http = stack.client("catalog").http
    body = b'{"query": "query($t: String!) { productBySku(sku: $t) { id } }", "variables": {"t": "\\ud800"}}'

    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json", "X-Tenant-Id": "acme"}
    )

    assert response.status_code == 400
