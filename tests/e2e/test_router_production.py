"""The router in production mode (ENVIRONMENT=production), against the development subgraphs
(tests/e2e/test_production.py runs the whole system in production mode, and covers what this
file leaves out: documents by hash, introspection, a checkout):
it refuses development settings, hides the schema, takes JSON by POST and registered documents
by GET, answers the allowed origins only, and runs a first-party client's registered documents
while a partner may send its own operations. Two routers share automatic persisted queries
through Redis."""

import hashlib
import json
import os
import secrets
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import tokens
from shopgraph.contracts import ROUTER_DIR
from shopgraph.system import Ports, System, router_readiness_url
from tests.e2e.conftest import provider_key

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/0"
ORIGIN = "https://shop.example"
PARTNER = "partner-app"
CATEGORIES = "query Categories { categories { name } }"
CLEAR_CART = "mutation ClearCart { clearCart { id } }"
TENANT = {"X-Tenant-Id": "demo"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


@pytest.fixture(scope="module")
def routers(system: System, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two production routers sharing one APQ store in Redis, with a storefront manifest."""
    documents = tmp_path_factory.mktemp("trusted-documents")
    (documents / "storefront.json").write_text(json.dumps({sha256(d): d for d in (CATEGORIES, CLEAR_CART)}))
    first = Ports.free(first_offset=700).router
    second = Ports.free(first_offset=first - Ports().router + 100).router
    # Production refuses the development secret; the development subgraphs behind these routers
    # check a signature only where one is required (production) or where it is present with
    # `_entities`, which no operation here asks for: they answer these routers' requests.
    secret = secrets.token_urlsafe(32)
    names = {f"router-production-{i}": port for i, port in enumerate((first, second))}
    for name, port in names.items():
        system.start_router(
            name,
            port,
            ENVIRONMENT="production",
            ROUTER_HMAC_SECRET=secret,
            TRUSTED_DOCUMENTS_DIR=str(documents),
            APQ_REDIS_URL=REDIS_URL,
            ADHOC_CLIENTS=f"{PARTNER},another-partner",
            CORS_ORIGINS=ORIGIN,
        )
    system.wait_until_ready({name: router_readiness_url(port) for name, port in names.items()})
    return [f"http://127.0.0.1:{port}/graphql" for port in names.values()]


@pytest.fixture(scope="module")
def router(routers: list[str]) -> str:
    return routers[0]


def token(system: System, client_id: str) -> dict[str, str]:
    minted = tokens.mint(
        provider_key(system),
        "demo-shopper",
        scopes=("users:read", "carts:write"),
        tenant="demo",
        issuer=system.config.issuer,
        client_id=client_id,
    )
    return {"Authorization": f"Bearer {minted}"}


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url, json=body, headers={**TENANT, **(headers or {})}, timeout=30)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


def test_production_refuses_to_start_with_development_settings(system: System, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("OIDC_ISSUER", "ROUTER_HMAC_SECRET")}
    started = subprocess.run(
        [str(ROUTER_DIR / "node_modules/.bin/hive-gateway"), "supergraph", "-c", str(ROUTER_DIR / "gateway.config.ts")],
        env={
            **env,
            "ENVIRONMENT": "production",
            "ROUTER_LOG_LEVEL": "debug",
            "SUPERGRAPH_PATH": str(system.supergraph),
        },
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode != 0
    assert "refuses to start (production)" in started.stdout + started.stderr
    for setting in ("OIDC_ISSUER", "ROUTER_HMAC_SECRET", "ROUTER_LOG_LEVEL=debug"):
        assert setting in started.stdout + started.stderr


# ---------------------------------------------------------------------------
# Trusted documents and APQ.


def test_a_registered_query_by_get_may_be_cached_by_a_cdn(router: str) -> None:
    params = {"extensions": json.dumps(persisted(CATEGORIES)), "operationName": "Categories"}

    response = httpx.get(router, params=params, headers=TENANT, timeout=30)

    assert response.status_code == 200 and len(response.json()["data"]["categories"]) == 10
    assert response.headers["cache-control"] == "public, max-age=60"
    assert {"Authorization", "X-Tenant-Id", "Origin"} <= {v.strip() for v in response.headers["vary"].split(",")}


@pytest.mark.parametrize("caller", ["anonymous", "storefront"])
def test_an_unregistered_operation_is_refused_for_a_first_party_client(
    system: System, router: str, caller: str
) -> None:
    headers = token(system, "storefront") if caller == "storefront" else {}

    response = post(router, {"query": "{ categories { name slug } }"}, headers)

    assert response.status_code == 400
    assert codes(response) == ["TRUSTED_DOCUMENT_REQUIRED"]


def test_a_partner_may_send_its_own_operations_within_the_limits(system: System, router: str) -> None:
    partner = token(system, PARTNER)
    by_azp = {
        "Authorization": "Bearer "
        + tokens.mint(provider_key(system), "p2", tenant="demo", issuer=system.config.issuer, azp="another-partner")
    }

    own = post(router, {"query": "{ products(first: 2) { totalCount edges { node { name } } } }"}, partner)
    via_azp = post(router, {"query": "{ categories { slug } }"}, by_azp)
    too_costly = post(
        router,
        {
            "query": "query Grid($n: Int!) { products(first: $n) { edges { node { name } } } }",
            "variables": {"n": 10_000},
        },
        partner,
    )

    assert len(own.json()["data"]["products"]["edges"]) == 2
    assert len(via_azp.json()["data"]["categories"]) == 10
    assert too_costly.status_code == 400 and codes(too_costly) == ["COST_ESTIMATED_TOO_EXPENSIVE"]


def test_automatic_persisted_queries_round_trip_across_routers(system: System, routers: list[str]) -> None:
    # A document no run has stored before.
    document = f"query Fresh {{ products(first: 1) {{ totalCount }} _{uuid.uuid4().hex}: __typename }}"
    first, second = routers

    unknown = post(second, {"extensions": persisted(document)})
    registered = post(first, {"query": document, "extensions": persisted(document)}, token(system, PARTNER))
    by_hash = post(second, {"extensions": persisted(document)})

    assert unknown.status_code == 200 and codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert registered.json()["data"]["products"]["totalCount"] > 100
    assert by_hash.json()["data"] == registered.json()["data"]


def test_a_hash_that_is_not_the_querys_is_refused(system: System, router: str) -> None:
    response = post(router, {"query": "{ __typename }", "extensions": persisted(CATEGORIES)}, token(system, PARTNER))

    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]


# ---------------------------------------------------------------------------
# What production hides and refuses.


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ produts(first: 1) { totalCount } }"},
        {"query": "{ products(frist: 1) { totalCount } }"},
        {"query": "{ products(first: 1) { edges { node { nme } } } }"},
        {"query": "{ products(first: 1, sort: {field: PRIC}) { totalCount } }"},
        {
            "query": "query Sorted($sort: ProductSort) { products(first: 1, sort: $sort) { totalCount } }",
            "variables": {"sort": {"field": "PRIC"}},
        },
    ],
    ids=["field", "argument", "nested-field", "enum-value", "enum-value-in-a-variable"],
)
def test_no_error_suggests_a_name(system: System, router: str, body: dict[str, Any]) -> None:
    production = post(router, body, token(system, PARTNER))
    development = post(system.config.router_url, body)

    assert all(error["extensions"]["code"] for error in production.json()["errors"])
    assert "Did you mean" not in production.text
    assert "Did you mean" in development.text


def test_graphiql_and_the_landing_page_are_not_served(router: str) -> None:
    graphiql = httpx.get(router, headers={"Accept": "text/html"}, timeout=10)
    landing = httpx.get(router.removesuffix("/graphql") + "/", headers={"Accept": "text/html"}, timeout=10)

    assert graphiql.status_code != 200 and "graphiql" not in graphiql.text.lower()
    assert landing.status_code == 404


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", f"query={CLEAR_CART}"),
        ("text/plain", json.dumps({"query": CLEAR_CART})),
        ("application/graphql", CLEAR_CART),
    ],
)
def test_a_post_that_is_not_json_is_refused(system: System, router: str, content_type: str, body: str) -> None:
    headers = {"Content-Type": content_type, **TENANT, **token(system, PARTNER)}

    response = httpx.post(router, content=body, headers=headers, timeout=10)

    assert response.status_code == 415
    assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


@pytest.mark.parametrize(
    "params",
    [
        {"query": "{ __typename }"},
        {"query": CATEGORIES, "extensions": json.dumps(persisted(CATEGORIES))},
        {"extensions": json.dumps(persisted(CLEAR_CART))},
    ],
    ids=["operation-text", "text-with-its-hash", "a-registered-mutation"],
)
def test_get_runs_registered_queries_only(system: System, router: str, params: dict[str, str]) -> None:
    response = httpx.get(router, params=params, headers={**TENANT, **token(system, PARTNER)}, timeout=10)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["METHOD_NOT_ALLOWED"]


@pytest.mark.parametrize(("origin", "allowed"), [(ORIGIN, True), ("http://localhost:3000", False)])
def test_cors_answers_the_configured_origins_only(router: str, origin: str, allowed: bool) -> None:
    preflight = httpx.options(router, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=10)
    answer = httpx.post(
        router, json={"extensions": persisted(CATEGORIES)}, headers={"Origin": origin, **TENANT}, timeout=10
    )

    for response in (preflight, answer):
        assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    assert answer.status_code == 200
