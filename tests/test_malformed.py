"""Malformed input at the subgraphs is a clear error with a code, never a 500 and never a
change: `_entities` representations of every wrong shape, correctly signed Stripe webhooks
whose bodies are not events, internal calls without credentials, and federation internals
asked for without the router's signature. (Generated inputs of every kind are the fuzz
tests', tests/e2e/test_fuzz.py.)"""

import json
import subprocess
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, build_schema, get_named_type

from resolvers.router_signature import signature
from resolvers.scopes import SERVICES_INTERNAL
from resolvers.settings import DEVELOPMENT_ROUTER_SECRET
from shopgraph import contracts
from shopgraph.contracts import ROUTER_DIR
from shopgraph.registry import SUBGRAPHS
from subgraphs.payments.tables import StripeEventRow
from tests.support import factories
from tests.support.checkout import signed
from tests.support.graphql import data, error_codes

ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
PRODUCT = "00000000-0000-4000-8000-000000000001"
WRONG_REPRESENTATIONS = [
    {"__typename": "Product", "id": PRODUCT, "extra": 1},
    {"__typename": "Product"},
    {"__typename": "Product", "id": {"a": 1}},
    {"__typename": "Nope", "id": "1"},
    {"id": "1"},
    1,
    "x",
    [],
]


async def test_every_wrong_representation_is_bad_input_at_every_subgraph(stack: Any) -> None:
    for name in SUBGRAPHS:
        body = await stack.client(name)(ENTITIES, {"r": WRONG_REPRESENTATIONS})

        assert body["data"] == {"_entities": [None] * len(WRONG_REPRESENTATIONS)}, (name, body)
        assert error_codes(body) == ["BAD_USER_INPUT"] * len(WRONG_REPRESENTATIONS), name
        assert [error["path"] for error in body["errors"]] == [["_entities", i] for i in range(8)]


async def test_a_good_representation_next_to_bad_ones_still_resolves(stack: Any) -> None:
    product = await factories.product(stack, name="Mug")

    body = await stack.client("catalog")(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name } } }",
        {"r": [1, {"__typename": "Product", "id": product.id}, {"__typename": "Product"}]},
    )

    assert body["data"] == {"_entities": [None, {"name": "Mug"}, None]}
    assert error_codes(body) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "body",
    [
        b"[1,2]",
        b'"x"',
        b"42",
        b"null",
        b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": "pi_1"}}',
        b'{"id": "evt_\\ud800", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}',
        b'{"id": "evt_1", "type": "x", "data": {"object": {"id": ' + b"[" * 5000 + b"]" * 5000 + b"}}}",
        b"\xff\xfe not even text",
        # Longer than the column that would keep it.
        b'{"id": "evt_1", "type": "' + b"x" * 101 + b'", "data": {"object": {"id": "pi_1"}}}',
    ],
)
async def test_a_signed_webhook_that_is_not_an_event_is_refused_and_changes_nothing(stack: Any, body: bytes) -> None:
    response = await stack.client("payments").http.post("/webhooks/stripe", content=body, headers=signed(body))

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "BAD_USER_INPUT"
    async with stack.runtime("payments").db() as session:
        assert await session.get(StripeEventRow, "evt_1") is None


async def test_internal_endpoints_ask_who_calls_before_reading_the_body(stack: Any, token: Any) -> None:
    http = stack.client("payments").http
    url = "/internal/v1/orders/00000000-0000-4000-8000-000000000000/payments/1"
    service = {"Authorization": f"Bearer {token('shopgraph-services', scopes=[SERVICES_INTERNAL], tenant=None)}"}
    headers = {"content-type": "application/json", "X-Tenant-Id": "acme"}
    shopper = {"Authorization": f"Bearer {token('ada')}"}

    anonymous = await http.put(url, content=b"{not json", headers=headers)
    storefront = await http.put(url, content=b"{not json", headers={**headers, **shopper})
    caller = await http.put(url, content=b"{not json", headers={**headers, **service})

    not_text = await http.put(url, content=b"\xff", headers={**headers, **service})
    nowhere = await http.get("/internal/v1/nowhere", headers={**headers, **service})
    wrong_method = await http.delete(url, headers={**headers, **service})

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    assert (storefront.status_code, storefront.json()["code"]) == (403, "FORBIDDEN")
    assert (caller.status_code, caller.json()["code"]) == (422, "BAD_USER_INPUT")
    # Refused before any of our code runs, and still with a code a calling service can pass on.
    assert (not_text.status_code, not_text.json()["code"]) == (400, "BAD_USER_INPUT")
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "NOT_FOUND")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


async def test_a_router_signature_that_does_not_verify_is_refused(stack: Any) -> None:
    product = await factories.product(stack, name="Mug")
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name } } }"
    variables = {"r": [{"__typename": "Product", "id": product.id}]}
    right = signature(DEVELOPMENT_ROUTER_SECRET, query, variables)
    catalog = stack.client("catalog").http

    async def ask(sig: str) -> Any:
        body = {"query": query, "variables": variables, "extensions": {"hmac-signature": sig}}
        return (await catalog.post("/graphql", json=body, headers={"X-Tenant-Id": "acme"})).json()

    signed_body, forged = await ask(right), await ask(signature("guess", query, variables))

    assert data(signed_body) == {"_entities": [{"name": "Mug"}]}
    assert error_codes(forged) == ["FORBIDDEN"] and forged["data"] is None


NODE_SIGNER = """
const { createRequire } = await import('node:module');
const require = createRequire(process.argv[1]);
const { defaultExecutionRequestSerializer } = require('@graphql-mesh/hmac-upstream-signature');
const { parse, print } = require('graphql');
const { createHmac } = require('node:crypto');
const [query, variables, secret] = JSON.parse(process.argv[2]);
const payload = defaultExecutionRequestSerializer({ document: parse(query), variables });
const sent = JSON.parse(payload).query;
console.log(JSON.stringify({ sent, signature: createHmac('sha256', secret).update(payload).digest('base64') }));
"""


def test_our_signature_is_the_one_hive_gateway_makes() -> None:
    query = "query($r: [_Any!]!, $s: String) { _entities(representations: $r) { __typename } }"
    variables = {"r": [{"__typename": "Product", "id": 'é\u2028\u0001"\\ \U0001f600'}], "n": -7, "b": True, "z": None}

    made = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            NODE_SIGNER,
            str(ROUTER_DIR / "package.json"),
            json.dumps([query, variables, "s3cret"]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    hive = json.loads(made.stdout)

    assert signature("s3cret", hive["sent"], variables) == hive["signature"]
    assert signature("s3cret", hive["sent"], {}) != hive["signature"]


def test_no_subgraph_takes_a_float_the_signature_would_print_differently() -> None:
    """The router signs variables as JavaScript prints them and we check them as Python does;
    the two print some floats differently (1e-07 and 1e-7), so a Float input would make a
    production subgraph refuse the router's own signed requests. Integers print alike."""
    floats = []
    for name in SUBGRAPHS:
        schema = build_schema(contracts.sdl_path(name).read_text(), assume_valid_sdl=True)
        for type_ in schema.type_map.values():
            if isinstance(type_, GraphQLInputObjectType):
                inputs = {f"{type_.name}.{field}": f.type for field, f in type_.fields.items()}
            elif isinstance(type_, GraphQLObjectType):
                inputs = {
                    f"{type_.name}.{field}({arg})": a.type
                    for field, f in type_.fields.items()
                    for arg, a in f.args.items()
                }
            else:
                continue
            floats += [
                f"{name}: {where}" for where, input_type in inputs.items() if get_named_type(input_type).name == "Float"
            ]

    assert floats == []
