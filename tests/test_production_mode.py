"""A subgraph in production mode: no introspection, no suggestions, no GraphiQL or API pages,
operations by JSON POST only, and the federation internals only for the router's signed
requests. (The whole system in production mode is tests/e2e/test_production.py.)"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from resolvers.router_signature import signature
from shopgraph.registry import app_factory, settings_for
from tests.conftest import JWKS_URL
from tests.support import factories
from tests.support.graphql import GraphQLClient, data, error_codes

# Production needs a server database: these tests run on the suite's PostgreSQL only.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

ROUTER_SECRET = "a-router-secret-of-at-least-32-characters"
ENTITY = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name } } }"


@pytest.fixture
async def production(stack: Any, database_urls: dict[str, str]) -> AsyncIterator[GraphQLClient]:
    settings = settings_for(
        "catalog",
        environment="production",
        database_url=database_urls["catalog"],
        oidc_issuer="http://oidc.test",
        jwks_url=JWKS_URL,
        token_url="http://oidc.test/token",
        service_client_secret="a-real-secret",
        router_hmac_secret=ROUTER_SECRET,
    )
    app = app_factory("catalog")(settings, http_transport=stack.transport)
    async with LifespanManager(app):
        yield GraphQLClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog.test"))


async def test_introspection_and_suggestions_are_off(production: GraphQLClient) -> None:
    introspection = await production("{ __schema { types { name } } }", expect_status=400)
    misspelt = await production("{ prodcts { totalCount } }", expect_status=400)
    enum = await production(
        "query($s: ProductSortField!) { products(sort: {field: $s}) { totalCount } }",
        {"s": "PRICEE"},
        expect_status=400,
    )

    assert set(error_codes(introspection)) == {"BAD_USER_INPUT"} and introspection.get("data") is None
    assert "introspection" in introspection["errors"][0]["message"]
    assert error_codes(misspelt) == ["BAD_USER_INPUT"] and error_codes(enum) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in str(misspelt) + str(enum)
    assert "products" not in misspelt["errors"][0]["message"] and "PRICE'" not in enum["errors"][0]["message"]


async def test_no_graphiql_no_api_pages_and_post_only(production: GraphQLClient) -> None:
    http = production.http

    graphiql = await http.get("/graphql", headers={"Accept": "text/html"})
    by_get = await http.get("/graphql", params={"query": "{ __typename }"})
    pages = [await http.get(path) for path in ("/docs", "/redoc", "/openapi.json")]
    form = await http.post("/graphql", data={"query": "{ __typename }"})

    assert graphiql.status_code == 405 and "graphiql" not in graphiql.text.lower()
    assert (by_get.status_code, by_get.json()["errors"][0]["extensions"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert [page.status_code for page in pages] == [404, 404, 404]
    assert form.status_code == 415


async def test_federation_internals_answer_only_the_routers_signed_requests(
    stack: Any, production: GraphQLClient
) -> None:
    product = await factories.product(stack, name="Mug")
    variables = {"r": [{"__typename": "Product", "id": product.id}]}

    async def ask(query: str, variables: dict[str, Any], secret: str | None) -> Any:
        extensions = {"hmac-signature": signature(secret, query, variables)} if secret else {}
        body = {"query": query, "variables": variables, "extensions": extensions}
        return (await production.http.post("/graphql", json=body, headers={"X-Tenant-Id": "acme"})).json()

    unsigned = await ask(ENTITY, variables, None)
    wrong_secret = await ask(ENTITY, variables, "shopgraph-router-development-secret")
    signed = await ask(ENTITY, variables, ROUTER_SECRET)
    sdl_unsigned = await ask("{ _service { sdl } }", {}, None)
    sdl_signed = await ask("{ _service { sdl } }", {}, ROUTER_SECRET)
    # Anything else is open to whoever reaches the subgraph, within the limits and the auth rules.
    plain = await production("{ product(id: $id) { name } }".replace("$id", f'"{product.id}"'))

    assert error_codes(unsigned) == ["FORBIDDEN"] and unsigned["data"] is None
    assert error_codes(wrong_secret) == ["FORBIDDEN"]
    assert data(signed) == {"_entities": [{"name": "Mug"}]}
    assert error_codes(sdl_unsigned) == ["FORBIDDEN"]
    assert "type Product" in data(sdl_signed)["_service"]["sdl"]
    assert data(plain) == {"product": {"name": "Mug"}}
