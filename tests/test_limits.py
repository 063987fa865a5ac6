"""Bounded work per request at a subgraph reached directly: each limit refuses an operation
with HTTP 400 and its own code before any resolver (or SQL statement) runs, the cost estimate
counts what the operation may resolve, and oversized bodies are refused before they are read."""

import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import parse

from resolvers.limits import Limits, document_errors
from resolvers.scopes import SERVICES_INTERNAL
from shopgraph.registry import app_factory, settings_for
from tests.conftest import subgraph_settings
from tests.support.graphql import GraphQLClient, error_codes

GRID = (
    "query($first: Int!) { products(first: $first) { edges { node { id price { amount } stock { available }"
    " category { name } } } pageInfo { hasNextPage } } }"
)
TIGHT = {
    "max_query_depth": 3,
    "max_fields": 6,
    "max_aliases": 2,
    "max_directives": 2,
    "max_tokens": 40,
    "max_cost": 30,
}


def estimate(subgraph: str, query: str, variables: dict[str, Any] | None = None) -> int:
    schema = importlib.import_module(f"subgraphs.{subgraph}.schema").build_schema(settings_for(subgraph))
    cost: int = schema.cost.estimate(parse(query), None, variables or {})
    return cost


@pytest.mark.parametrize(
    ("subgraph", "query", "variables", "expected"),
    [
        # products 1 + edges 20 + node 20 + price 20 + stock 20 + category 20 + pageInfo 1
        ("catalog", GRID, {"first": 20}, 102),
        ("catalog", GRID, {"first": 100}, 502),
        # `first` left out: the argument's default (20).
        ("catalog", "{ products { edges { node { id } } } }", None, 41),
        # Scalars and __typename are free; the connection itself costs 1.
        ("catalog", "{ products(first: 100) { totalCount } __typename }", None, 1),
        ("catalog", "{ categories { id name } }", None, 200),
        # A fragment counts where it is spread, times the lists above it.
        (
            "catalog",
            "query($n: Int!) { products(first: $n) { edges { ...Card } } } fragment Card on ProductEdge { node { category { id } } }",
            {"n": 10},
            31,
        ),
        # Lists without paging count what they declare: an order's lines (50) and their product.
        ("orders", "query($id: ID!) { order(id: $id) { lines { product { id } } } }", {"id": "x"}, 101),
        ("orders", "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": "x"}, 11),
        # _entities is as long as its representations.
        (
            "catalog",
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { price { amount } } } }",
            {"r": [{"__typename": "Product", "id": str(i)} for i in range(7)]},
            14,
        ),
    ],
)
def test_the_cost_estimate_counts_objects_times_the_lists_above_them(
    subgraph: str, query: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert estimate(subgraph, query, variables) == expected


def test_a_fragment_fan_out_is_measured_once_per_fragment() -> None:
    # 2^40 spreads if expanded naively; execution spreads each fragment once per selection set.
    fragments = " ".join(f"fragment F{i} on Product {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = f"{{ products(first: 100) {{ edges {{ node {{ ...F0 }} }} }} }} {fragments} fragment F40 on Product {{ category {{ id }} }}"

    assert estimate("catalog", query) == 301
    assert document_errors(parse(query), Limits(depth=5, fields=50, aliases=0, directives=0, tokens=0, cost=0)) == []


@pytest.fixture
async def tight_catalog(stack: Any, database_urls: dict[str, str], stripe_api: str) -> AsyncIterator[GraphQLClient]:
    """The catalog with small limits, on the stack's database and token keys."""
    settings = subgraph_settings("catalog", database_urls["catalog"], stripe_api, **TIGHT)
    app = app_factory("catalog")(settings, http_transport=stack.transport)
    async with LifespanManager(app):
        yield GraphQLClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog.test"))


@pytest.mark.parametrize(
    ("query", "code", "found"),
    [
        ("{ products { edges { node { category { name } } } } }", "QUERY_TOO_DEEP", 5),
        ("{ a: categories { id } b: categories { id } c: categories { id } }", "TOO_MANY_ALIASES", 3),
        # Same-named fields are what validation compares pairwise: refused before it runs.
        ("{ categories { id } categories { id } categories { id } categories { id } }", "TOO_MANY_FIELDS", 8),
        (
            "{ categories { id @include(if: true) name @include(if: true) slug @skip(if: false) } }",
            "TOO_MANY_DIRECTIVES",
            3,
        ),
        ("{ categories { id } }", "COST_ESTIMATED_TOO_EXPENSIVE", 200),
        ("{ categories { " + "id " * 60 + "} }", "TOO_MANY_TOKENS", None),
    ],
)
async def test_each_limit_refuses_with_its_code_before_anything_runs(
    stack: Any, tight_catalog: GraphQLClient, query: str, code: str, found: int | None
) -> None:
    with stack.count_sql("catalog") as sql:
        body = await tight_catalog(query, expect_status=400)

    assert error_codes(body) == [code]
    assert (
        body["errors"][0]["extensions"]["limit"]
        == {
            "QUERY_TOO_DEEP": 3,
            "TOO_MANY_FIELDS": 6,
            "TOO_MANY_ALIASES": 2,
            "TOO_MANY_DIRECTIVES": 2,
            "COST_ESTIMATED_TOO_EXPENSIVE": 30,
            "TOO_MANY_TOKENS": 40,
        }[code]
    )
    assert body["errors"][0]["extensions"].get("found") == found
    assert "data" not in body or body["data"] is None
    assert sql.count == 0


async def test_within_the_limits_the_same_catalog_answers(tight_catalog: GraphQLClient) -> None:
    body = await tight_catalog("{ products(first: 2) { totalCount } }")

    assert body == {"data": {"products": {"totalCount": 0}}}


async def test_the_issue_attacks_are_refused_at_a_subgraph_reached_directly(stack: Any) -> None:
    catalog = stack.client("catalog")
    five_hundred = (
        "{" + " ".join(f"a{i}: products(first: 100) {{ edges {{ node {{ id }} }} }}" for i in range(500)) + "}"
    )
    aliased = "{" + " ".join(f"a{i}: __typename" for i in range(61)) + "}"
    # Two pages of a hundred orders with their lines' products: 2 x 10,201.
    page = "orders(first: 100) { edges { node { lines { product { id } } } } }"
    expensive = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on User {{ a: {page} b: {page} }} }} }}"
    user = {"r": [{"__typename": "User", "id": "ada"}]}
    many_fields = "{" + " categories { id }" * 151 + "}"
    nested = "{ products(filter: {search: " + "[" * 5000 + "]" * 5000 + "}) { totalCount } }"
    # Within the token limit, but deeper than the parser's recursion goes.
    nested_within = "{ products(filter: {search: " + "[" * 1000 + "]" * 1000 + "}) { totalCount } }"

    with stack.count_sql("catalog") as sql:
        long = await catalog(five_hundred, expect_status=400)
        aliases = await catalog(aliased, expect_status=400)
        cost = await stack.client("orders")(expensive, user, expect_status=400)
        fields = await catalog(many_fields, expect_status=400)
        deep = await catalog(nested, expect_status=400)
        deep_within = await catalog(nested_within, expect_status=400)

    # 500 aliases take 8,500 tokens: the parser stops at 5,000, before anything counts them.
    assert error_codes(long) == ["TOO_MANY_TOKENS"]
    assert error_codes(aliases) == ["TOO_MANY_ALIASES"]
    assert error_codes(cost) == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert cost["errors"][0]["extensions"]["found"] == 1 + 2 * 10_201
    assert error_codes(fields) == ["TOO_MANY_FIELDS"]
    assert error_codes(deep) == ["TOO_MANY_TOKENS"]
    assert error_codes(deep_within) == ["BAD_USER_INPUT"]
    assert "nested too deeply" in deep_within["errors"][0]["message"]
    assert sql.count == 0


async def _chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent without Content-Length, as a client streaming it chunked would."""
    sent = 0
    while sent < size:
        yield b" " * 65536
        sent += 65536


async def test_bodies_over_the_limit_are_refused_before_they_are_read(stack: Any, token: Any) -> None:
    big = b'{"query": "{ __typename }", "padding": "' + b"x" * 1_100_000 + b'"}'
    service = {"Authorization": f"Bearer {token('shopgraph-services', scopes=[SERVICES_INTERNAL], tenant=None)}"}
    catalog, payments = stack.client("catalog").http, stack.client("payments").http

    declared = await catalog.post("/graphql", content=big, headers={"content-type": "application/json"})
    streamed = await catalog.post("/graphql", content=_chunks(2_000_000), headers={"content-type": "application/json"})
    internal = await payments.put(
        "/internal/v1/orders/00000000-0000-4000-8000-000000000000/payments/1",
        content=big,
        headers={**service, "X-Tenant-Id": "acme", "content-type": "application/json"},
    )
    # Unsigned: the size is refused before the signature is even looked at.
    webhook = await payments.post("/webhooks/stripe", content=_chunks(2_000_000))

    for response in (declared, streamed, internal, webhook):
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE" and response.json()["limit"] == 1_048_576


async def test_only_json_posts_carry_operations(stack: Any) -> None:
    http = stack.client("catalog").http

    form = await http.post("/graphql", data={"query": "{ __typename }"})
    text = await http.post("/graphql", content="{ __typename }", headers={"content-type": "text/plain"})
    batch = await http.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
    get = await http.get("/graphql", params={"query": "{ __typename }"})

    assert (form.status_code, form.json()["errors"][0]["extensions"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert (text.status_code, text.json()["errors"][0]["extensions"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert (batch.status_code, batch.json()["errors"][0]["extensions"]["code"]) == (400, "BAD_USER_INPUT")
    # Development answers queries by GET, for GraphiQL; production does not (test_production_mode).
    assert get.json() == {"data": {"__typename": "Query"}}
