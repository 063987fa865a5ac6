"""The router's guard and its answers to malformed input, in development mode, through a router
whose subgraph requests all pass a counting proxy: a refused operation gets its code and status
and the proxy sees nothing of it; a subgraph failure leaves no request body in the router's log."""

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopgraph.registry import SUBGRAPHS
from shopgraph.system import Ports, System, router_readiness_url
from tests.e2e.conftest import mint

pytestmark = pytest.mark.e2e

DEVELOPMENT_HMAC_SECRET = "shopgraph-router-development-secret"
TENANT = {"X-Tenant-Id": "demo"}
# Fails loudly in the subgraph's answer to the router, so the test can look for it in the log.
UPSTREAM_MARKER = "upstream-answer-8c1f"


class SubgraphProxy:
    """Forwards `/<subgraph>/graphql` to that subgraph and keeps every request body it saw; a
    subgraph listed in `failing` instead answers an HTML 502 ("html") or drops the connection
    ("reset")."""

    def __init__(self, upstream: dict[str, str]) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.failing: dict[str, str] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def calls(self) -> int:
        with self._lock:
            return len(self.seen)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._client.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                name = self.path.strip("/").split("/")[0]
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with proxy._lock:
                    proxy.seen.append((name, json.loads(body)))
                    failing = proxy.failing.get(name)
                if failing == "reset":
                    self.close_connection = True
                    return
                if failing == "html":
                    self._answer(502, "text/html", f"<html><body>{UPSTREAM_MARKER}</body></html>".encode())
                    return
                headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
                answer = proxy._client.post(proxy.upstream[name], content=body, headers=headers)
                self._answer(answer.status_code, answer.headers.get("content-type", ""), answer.content)

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(scope="module")
def proxy(system: System) -> Iterator[SubgraphProxy]:
    proxy = SubgraphProxy({name: f"{system.config.subgraph_url(name)}/graphql" for name in SUBGRAPHS})
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def router(system: System, proxy: SubgraphProxy, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A development router (default limits) whose supergraph sends every subgraph request
    through the proxy."""
    supergraph = system.supergraph.read_text()
    for name in SUBGRAPHS:
        direct = f'url: "{system.config.subgraph_url(name)}/graphql"'
        assert supergraph.count(direct) == 1
        supergraph = supergraph.replace(direct, f'url: "http://127.0.0.1:{proxy.port}/{name}/graphql"')
    path = tmp_path_factory.mktemp("guard") / "supergraph.graphql"
    path.write_text(supergraph)
    port = Ports.free(first_offset=600).router
    system.start_router("router-guard", port, SUPERGRAPH_PATH=str(path))
    system.wait_until_ready({"router-guard": router_readiness_url(port)})
    return f"http://127.0.0.1:{port}/graphql"


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """`body` as JSON, escapes kept (a lone surrogate stays a `\\ud800` escape)."""
    sent = {"Content-Type": "application/json", **TENANT, **(headers or {})}
    return httpx.post(url, content=json.dumps(body).encode(), headers=sent, timeout=30)


def jwt_part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def error_of(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


# The storefront grid of the spec's example: products 1 + edges n + node n + price n + stock n
# + category n + pageInfo 1.
GRID_FRAGMENT = "fragment Tile on Product { id price { amount } stock { available } category { name } }"
# The issue's two attacks: 500 aliases of a full page of products, and a nest alternating
# between the orders and payments subgraphs (each subgraph sees only its own part of it).
ALIASES_ATTACK = {"query": "{ " + " ".join(f"a{i}: products(first: 100) {{ totalCount }}" for i in range(500)) + " }"}
NEST_ATTACK = {
    "query": '{ payment(id: "p") { order { customer { orders { edges { node { '
    + "payment { order { customer { orders { edges { node { " * 2
    + "id"
    + " } } } } } }" * 3
    + " }"
}

LIMITS = {
    "depth": (
        {
            "query": "{ me { orders { edges { node { payment { order { ...Owner } } } } } } } "
            "fragment Owner on Order { customer { orders { edges { node { id } } } } }"
        },
        400,
        "QUERY_TOO_DEEP",
        10,
        11,
    ),
    # Validation compares same-named fields pairwise: refused before it runs.
    "fields": ({"query": "{ " + "categories { id } " * 101 + "}"}, 400, "TOO_MANY_FIELDS", 200, 202),
    "aliases": (
        {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"},
        400,
        "TOO_MANY_ALIASES",
        30,
        31,
    ),
    "directives": (
        {"query": "{ " + " ".join("__typename @skip(if: false)" for _ in range(21)) + " }"},
        400,
        "TOO_MANY_DIRECTIVES",
        20,
        21,
    ),
    "tokens": ({"query": "{ " + "__typename " * 1999 + "}"}, 400, "TOO_MANY_TOKENS", 2000, None),
    "cost-of-fragments": (
        {
            "query": "{ "
            + " ".join(
                f"p{i}: products(first: 100) {{ edges {{ node {{ ...Tile }} }} pageInfo {{ hasNextPage }} }}"
                for i in range(20)
            )
            + " } "
            + GRID_FRAGMENT
        },
        400,
        "COST_ESTIMATED_TOO_EXPENSIVE",
        10_000,
        20 * 502,
    ),
    "cost-of-a-variable": (
        {
            "query": "query Grid($n: Int!) { products(first: $n) { edges { node { ...Tile } } pageInfo { hasNextPage } } } "
            + GRID_FRAGMENT,
            "variables": {"n": 5000},
        },
        400,
        "COST_ESTIMATED_TOO_EXPENSIVE",
        10_000,
        2 + 5 * 5000,
    ),
    "batch": ([{"query": "{ __typename }"}] * 11, 400, "BATCH_TOO_LARGE", 10, 11),
    "body": (
        {"query": "{ __typename }", "variables": {"pad": "x" * 140_000}},
        413,
        "PAYLOAD_TOO_LARGE",
        131_072,
        len(json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 140_000}})),
    ),
    "literal-nested-5000-deep": (
        {"query": "{ products(filter: {search: " + "[" * 5000 + '"x"' + "]" * 5000 + "}) { totalCount } }"},
        400,
        "TOO_MANY_TOKENS",
        2000,
        None,
    ),
}


@pytest.mark.parametrize(("body", "status", "code", "limit", "found"), LIMITS.values(), ids=LIMITS.keys())
def test_each_limit_is_refused_before_any_subgraph_is_called(
    system: System, router: str, proxy: SubgraphProxy, body: Any, status: int, code: str, limit: int, found: int | None
) -> None:
    before = proxy.calls()

    response = post(router, body, {"Authorization": f"Bearer {mint(system, 'demo-shopper')}"})

    assert response.status_code == status, response.text
    extensions = error_of(response)["extensions"]
    assert (extensions["code"], extensions["limit"], extensions.get("found")) == (code, limit, found)
    assert proxy.calls() == before


def test_a_chunked_body_is_refused_while_it_streams_in(router: str, proxy: SubgraphProxy) -> None:
    before = proxy.calls()
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 1_000_000}}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    response = httpx.post(router, content=chunks(), headers={"Content-Type": "application/json"}, timeout=30)

    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 413
    assert error_of(response)["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": 131_072}
    assert proxy.calls() == before


def test_operations_within_the_limits_reach_the_subgraphs(router: str, proxy: SubgraphProxy) -> None:
    before = proxy.calls()
    grid = "{ products(first: 20) { edges { node { ...Tile } } pageInfo { hasNextPage } } } " + GRID_FRAGMENT

    single = post(router, {"query": grid})
    batch = post(router, [{"query": "{ categories { name } }"}] * 10)

    assert single.status_code == 200 and "errors" not in single.json()
    assert len(single.json()["data"]["products"]["edges"]) == 20
    assert batch.status_code == 200
    assert [len(item["data"]["categories"]) for item in batch.json()] == [10] * 10
    assert proxy.calls() > before


def test_the_issues_two_attacks_are_refused_up_front(system: System, router: str, proxy: SubgraphProxy) -> None:
    before = proxy.calls()
    token = {"Authorization": f"Bearer {mint(system, 'demo-shopper')}"}

    aliases = post(router, ALIASES_ATTACK, token)
    nest = post(router, NEST_ATTACK, token)

    # 500 aliases take ~5,000 tokens: the lexer stops before the parser builds anything.
    assert aliases.status_code == 400 and error_of(aliases)["extensions"]["code"] == "TOO_MANY_TOKENS"
    assert nest.status_code == 400 and error_of(nest)["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert proxy.calls() == before


async def test_a_simple_query_stays_fast_while_attacks_arrive(router: str) -> None:
    attacks = [ALIASES_ATTACK, NEST_ATTACK, LIMITS["cost-of-fragments"][0]]
    async with (
        httpx.AsyncClient(timeout=30, headers=TENANT) as attacker,
        httpx.AsyncClient(timeout=30, headers=TENANT) as shopper,
    ):

        async def attack(worker: int) -> list[int]:
            return [(await attacker.post(router, json=attacks[(worker + i) % 3])).status_code for i in range(10)]

        async def simple() -> float:
            await asyncio.sleep(0.2)  # the attacks are in flight by then
            started = time.monotonic()
            answer = await shopper.post(router, json={"query": "{ categories { name } }"})
            assert answer.status_code == 200 and len(answer.json()["data"]["categories"]) == 10
            return time.monotonic() - started

        statuses, took = await asyncio.gather(asyncio.gather(*(attack(worker) for worker in range(8))), simple())

    assert {status for worker in statuses for status in worker} == {400}
    assert took < 1.0


# ---------------------------------------------------------------------------
# Malformed input.


def test_a_subscription_selecting_no_event_is_a_validation_error(router: str) -> None:
    response = post(router, {"query": "subscription { __typename }"})

    assert response.status_code < 500
    error = error_of(response)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Subscription" in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"query": '{ productBySku(sku: "\ud800") { name } }'},
        {"query": "query Sku($sku: String!) { productBySku(sku: $sku) { name } }", "variables": {"sku": "a\udc00"}},
        {
            "query": "mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { id } }",
            "variables": {
                "input": {
                    "idempotencyKey": "lone-surrogate",
                    "shippingAddress": {
                        "recipient": "Ada \ud800",
                        "line1": "1 Main St",
                        "city": "Springfield",
                        "postalCode": "12345",
                        "country": "US",
                    },
                }
            },
        },
    ],
    ids=["in-the-query", "in-a-variable", "in-checkout-variables"],
)
def test_a_lone_surrogate_is_bad_user_input_before_any_subgraph_call(
    system: System, router: str, proxy: SubgraphProxy, body: dict[str, Any]
) -> None:
    before = proxy.calls()

    response = post(router, body, {"Authorization": f"Bearer {mint(system, 'demo-shopper')}"})

    assert response.status_code == 400
    assert error_of(response)["extensions"]["code"] == "BAD_USER_INPUT"
    assert proxy.calls() == before


def test_variables_that_do_not_coerce_are_bad_user_input(router: str, proxy: SubgraphProxy) -> None:
    before = proxy.calls()

    response = post(
        router, {"query": "query Grid($n: Int!) { products(first: $n) { totalCount } }", "variables": {"n": "twenty"}}
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and '"$n"' in error["message"]
    assert proxy.calls() == before


def test_get_parameters_that_are_not_json_are_a_bad_request(router: str) -> None:
    response = httpx.get(router, params={"query": "{ __typename }", "variables": "{not json"}, timeout=10)

    assert response.status_code == 400
    assert error_of(response)["extensions"]["code"] == "BAD_REQUEST"


def test_a_mutation_is_never_sent_by_get(router: str, proxy: SubgraphProxy) -> None:
    before = proxy.calls()

    response = httpx.get(router, params={"query": "mutation { clearCart { id } }"}, headers=TENANT, timeout=10)

    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert error_of(response)["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert proxy.calls() == before


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic ZGVtbzpkZW1v",
        "Bearer",
        "Bearer a b",
        "Bearer not-a-jwt",
        f"Bearer bnVsbA.{jwt_part({'exp': 4102444800})}.c2ln",
    ],
    ids=["another-scheme", "no-token", "two-tokens", "not-a-jwt", "header-not-an-object"],
)
def test_a_malformed_authorization_is_unauthenticated(router: str, authorization: str) -> None:
    response = post(router, {"query": "{ __typename }"}, {"Authorization": authorization})

    assert response.status_code == 401
    assert error_of(response)["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(system: System, router: str, scheme: str) -> None:
    token = mint(system, "demo-shopper")

    response = post(router, {"query": "{ me { name } }"}, {"Authorization": f"{scheme} {token}"})

    assert response.json() == {"data": {"me": {"name": "Dana Demo"}}}


# ---------------------------------------------------------------------------
# Signing and logging.


def test_every_subgraph_request_carries_the_routers_hmac_signature(
    system: System, router: str, proxy: SubgraphProxy
) -> None:
    """The signature is base64(HMAC-SHA256(secret, json-stable-stringify({query, variables}))),
    variables left out when empty, as the subgraphs check it."""
    token = {"Authorization": f"Bearer {mint(system, 'demo-shopper')}"}
    first = proxy.calls()

    post(
        router,
        {"query": "query Mine($n: Int!) { me { orders(first: $n) { totalCount } } }", "variables": {"n": 3}},
        token,
    )
    post(router, {"query": "{ categories { name } }"})

    sent = [body for _, body in proxy.seen[first:]]
    assert any(body.get("variables") for body in sent) and any(not body.get("variables") for body in sent)
    for body in sent:
        signed = {"query": body["query"], **({"variables": body["variables"]} if body.get("variables") else {})}
        payload = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        expected = base64.b64encode(hmac.new(DEVELOPMENT_HMAC_SECRET.encode(), payload, hashlib.sha256).digest())
        assert body["extensions"]["hmac-signature"] == expected.decode()


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        ("html", "RESPONSE_VALIDATION_FAILED", 'Service "orders" gave an invalid response.'),
        ("reset", "SUBREQUEST_HTTP_ERROR", 'Service "orders" is unavailable.'),
    ],
)
def test_a_subgraph_failure_is_logged_without_the_request_or_the_answer(
    system: System, router: str, proxy: SubgraphProxy, failure: str, code: str, message: str
) -> None:
    log = system.config.var / "logs" / "router-guard.log"
    logged_before = log.stat().st_size
    street = f"{uuid.uuid4().hex[:12]} Marmalade Lane"
    token = mint(system, "demo-shopper")
    address = {
        "recipient": "Zebulon Quux",
        "line1": street,
        "city": "Springfield",
        "postalCode": "12345",
        "country": "US",
    }
    proxy.failing["orders"] = failure
    try:
        response = post(
            router,
            {
                "query": "mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { id } }",
                "variables": {"input": {"idempotencyKey": uuid.uuid4().hex, "shippingAddress": address}},
            },
            {"Authorization": f"Bearer {token}"},
        )
    finally:
        del proxy.failing["orders"]

    error = error_of(response)
    assert (error["message"], error["extensions"]) == (message, {"code": code, "serviceName": "orders"})
    logged = _read_from(log, logged_before, until=lambda text: code in text)
    assert "orders" in logged
    for secret in (street, token, UPSTREAM_MARKER):
        assert secret not in logged
        assert secret not in response.text
    assert f":{proxy.port}/" not in response.text


# ---------------------------------------------------------------------------
# Development mode keeps its conveniences, within the CORS allowlist.


def test_development_keeps_introspection_and_suggestions(router: str) -> None:
    introspection = post(router, {"query": "{ __schema { queryType { name } } }"})
    typo = post(router, {"query": "{ produts(first: 1) { totalCount } }"})

    assert introspection.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean" in error_of(typo)["message"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://localhost:3000", True), ("http://127.0.0.1:3000", True), ("https://evil.example", False)],
)
def test_cors_answers_only_the_development_origins(router: str, origin: str, allowed: bool) -> None:
    preflight = httpx.options(
        router,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    answer = post(router, {"query": "{ __typename }"}, {"Origin": origin})

    for response in (preflight, answer):
        assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
        assert "access-control-allow-credentials" not in response.headers
    assert answer.json() == {"data": {"__typename": "Query"}}


def _read_from(path: Path, offset: int, *, until: Any, within: float = 10.0) -> str:
    """What the process wrote to its log after `offset`, once `until` holds for it."""
    deadline = time.monotonic() + within
    while True:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        if until(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)
