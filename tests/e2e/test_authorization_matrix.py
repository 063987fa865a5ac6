"""Every protected field of the composed supergraph, asked for as an anonymous caller, with a
token lacking its scope and with a token holding it, through the router and straight to the
subgraph that owns it. A protected field this file cannot reach fails the suite."""

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from graphql import GraphQLField, GraphQLObjectType, build_schema, get_named_type, is_object_type, is_required_argument

from resolvers.scopes import SCOPES
from shopgraph import contracts
from shopgraph.system import System
from tests.e2e.conftest import ask, mint

pytestmark = pytest.mark.e2e

UNKNOWN = str(uuid.uuid4())
# Mutations run as a user of their own, so the demo shopper's data stays as other tests expect;
# arguments that are wrong on purpose still prove the field let the caller in.
ARGUMENTS = {
    "Mutation.addToCart": "(productId: $product, quantity: 1)",
    "Mutation.updateCartLine": f'(lineId: "{UNKNOWN}", quantity: 1)',
    "Mutation.removeCartLine": f'(lineId: "{UNKNOWN}")',
    "Mutation.createCategory": '(input: {slug: "Not A Slug!", name: "x"})',
    "Mutation.createProduct": '(input: {sku: "", name: "", price: {amount: -1, currency: "USD"}})',
    "Mutation.updateProduct": f'(id: "{UNKNOWN}", input: {{name: "x"}})',
    "Mutation.archiveProduct": f'(id: "{UNKNOWN}")',
    "Mutation.setStock": f'(productId: "{UNKNOWN}", onHand: 1)',
    "Mutation.updateProfile": '(input: {name: "Matrix"})',
    "Mutation.addAddress": '(input: {recipient: "", line1: "", city: "", postalCode: "", country: ""})',
    "Mutation.removeAddress": f'(id: "{UNKNOWN}")',
    "Mutation.checkout": '(input: {idempotencyKey: "matrix", shippingAddress: {recipient: "M", line1: "1 Way", city: "C", postalCode: "1", country: "US"}})',
    "Mutation.retryPayment": f'(orderId: "{UNKNOWN}")',
    "Mutation.cancelOrder": f'(id: "{UNKNOWN}")',
    "Mutation.markFulfilled": f'(id: "{UNKNOWN}")',
    "Mutation.refundPayment": f'(paymentId: "{UNKNOWN}", amount: 1)',
    "Query.order": "(id: $order)",
    "Query.payment": "(id: $payment)",
    "Query.users": "(first: 1)",
    "User.orders": "(first: 1)",
}
# How to reach a field of each type: (through the router, straight to the owning subgraph),
# each a selection with ``{}`` where the field goes and the keys leading to it.
ROUTES: dict[str, tuple[tuple[str, list[Any]], tuple[str, list[Any]]]] = {
    "User": (
        ("me { {} }", ["me"]),
        (
            '_entities(representations: [{__typename: "User", id: "demo-shopper"}]) { ... on User { {} } }',
            ["_entities", 0],
        ),
    ),
    "Order": (
        ("order(id: $order) { {} }", ["order"]),
        ('_entities(representations: [{__typename: "Order", id: $order}]) { ... on Order { {} } }', ["_entities", 0]),
    ),
    "Stock": (
        ("product(id: $product) { stock { {} } }", ["product", "stock"]),
        ("product(id: $product) { stock { {} } }", ["product", "stock"]),
    ),
}
VARIABLE_TYPES = {"product": "ID!", "order": "ID!", "payment": "ID!"}


@dataclass(frozen=True)
class Protected:
    type: str
    field: str
    subgraph: str
    groups: tuple[tuple[str, ...], ...]
    """``@requiresScopes``' groups; empty for ``@authenticated`` alone."""

    @property
    def coordinate(self) -> str:
        return f"{self.type}.{self.field}"


SUPERGRAPH = build_schema((contracts.SCHEMA_DIR / contracts.SUPERGRAPH).read_text())


def protected_fields(*, subscriptions: bool = False) -> list[Protected]:
    """Those of queries and mutations, which this file asks over HTTP; or those of
    subscriptions, which test_subscriptions.py asks over a socket."""
    found = []
    for type_ in SUPERGRAPH.type_map.values():
        if not is_object_type(type_) or type_.name.startswith("__"):
            continue
        if (type_.name == "Subscription") != subscriptions:
            continue
        assert isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items():
            directives = {d.name.value: d for d in _directives(field)}
            if "authenticated" in directives or "requiresScopes" in directives:
                found.append(
                    Protected(type_.name, name, _owner(type_, field), _groups(directives.get("requiresScopes")))
                )
    return found


def _owner(type_: GraphQLObjectType, field: GraphQLField) -> str:
    joins = [d for d in _directives(field) if d.name.value == "join__field"]
    joins = joins or [d for d in _directives(type_) if d.name.value == "join__type"]
    graphs = {getattr(a.value, "value", "") for d in joins for a in d.arguments or () if a.name.value == "graph"}
    assert len(graphs) == 1, f"{type_.name} has no single owner: {graphs}"
    return graphs.pop().lower()


def _directives(element: GraphQLField | GraphQLObjectType) -> list[Any]:
    return list(element.ast_node.directives or ()) if element.ast_node else []


def _groups(directive: Any) -> tuple[tuple[str, ...], ...]:
    if directive is None:
        return ()
    scopes = directive.arguments[0].value
    return tuple(tuple(item.value for item in group.values) for group in scopes.values)


PROTECTED = protected_fields()


def test_every_protected_field_is_reachable_by_this_matrix() -> None:
    missing = []
    for field in PROTECTED:
        if field.type not in ("Query", "Mutation", *ROUTES):
            missing.append(f"{field.coordinate}: add a route to {field.type} in ROUTES")
        definition = SUPERGRAPH.get_type(field.type).fields[field.field]  # type: ignore[union-attr]
        if any(is_required_argument(a) for a in definition.args.values()) and field.coordinate not in ARGUMENTS:
            missing.append(f"{field.coordinate}: add its arguments to ARGUMENTS")
    assert not missing, missing
    assert len(PROTECTED) >= 20


@cache
def ids(system: System) -> dict[str, str]:
    body = ask(
        system.config.router_url,
        "{ me { orders(first: 1) { edges { node { id payment { id } } } } } products(first: 1) { edges { node { id } } } }",
        mint(system, "demo-shopper", scopes=tuple(SCOPES)),
    )
    order = body["data"]["me"]["orders"]["edges"][0]["node"]
    return {
        "order": order["id"],
        "payment": order["payment"]["id"],
        "product": body["data"]["products"]["edges"][0]["node"]["id"],
    }


def request_for(field: Protected, *, direct: bool) -> tuple[str, list[Any]]:
    named = f"{field.field}{ARGUMENTS.get(field.coordinate, '')}"
    definition = SUPERGRAPH.get_type(field.type)
    returns = get_named_type(definition.fields[field.field].type)  # type: ignore[union-attr]
    selection = named + (" { __typename }" if is_object_type(returns) else "")
    if field.type in ("Query", "Mutation"):
        body, keys = selection, [field.field]
    else:
        template, prefix = ROUTES[field.type][1 if direct else 0]
        body, keys = template.replace("{}", selection), [*prefix, field.field]
    used = [name for name in VARIABLE_TYPES if f"${name}" in body]
    declared = f"({', '.join(f'${n}: {VARIABLE_TYPES[n]}' for n in used)})" if used else ""
    operation = "mutation" if field.type == "Mutation" else "query"
    return f"{operation} Matrix{declared} {{ {body} }}", keys


def leaf(data: Any, keys: list[Any]) -> Any:
    for key in keys:
        if data is None:
            return None
        data = data[key]
    return data


def codes(body: dict[str, Any]) -> set[str]:
    return {error.get("extensions", {}).get("code") for error in body.get("errors", [])}


@pytest.mark.parametrize("direct", [False, True], ids=["router", "subgraph"])
@pytest.mark.parametrize("field", PROTECTED, ids=lambda field: field.coordinate)
def test_a_protected_field_needs_its_scope(system: System, field: Protected, direct: bool) -> None:
    query, keys = request_for(field, direct=direct)
    url = system.urls()[field.subgraph if direct else "router"]
    variables = {name: value for name, value in ids(system).items() if f"${name}" in query}
    subject = "matrix-user" if field.type == "Mutation" else "demo-shopper"
    named_scopes = {scope for group in field.groups for scope in group}
    # Every scope but the field's own, so whatever leads to the field still lets the caller in.
    lacking = tuple(scope for scope in SCOPES if scope not in named_scopes)
    right = lacking + (field.groups[0] if field.groups else ())

    def send(token: str | None) -> dict[str, Any]:
        body: dict[str, Any] = ask(url, query, token, variables=variables, headers={"X-Tenant-Id": "demo"})
        return body

    anonymous = send(None)
    assert "UNAUTHENTICATED" in codes(anonymous) and leaf(anonymous.get("data"), keys) is None, anonymous

    if field.groups:
        without = send(mint(system, subject, scopes=lacking))
        assert codes(without) & {"FORBIDDEN", "UNAUTHENTICATED"} == {"FORBIDDEN"}, without
        assert leaf(without.get("data"), keys) is None

    allowed = send(mint(system, subject, scopes=right))
    assert not codes(allowed) & {"FORBIDDEN", "UNAUTHENTICATED"}, allowed
