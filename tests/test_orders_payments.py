"""Orders and their payments, as their owner and an admin see them."""

from typing import Any

from subgraphs.orders.tables import OrderStatus
from tests.support import factories
from tests.support.graphql import data, error_codes

HISTORY = """
query($r: [_Any!]!, $first: Int!, $after: String) {
  _entities(representations: $r) {
    ... on User { orders(first: $first, after: $after) { totalCount edges { node { number status } } pageInfo { hasNextPage endCursor } } }
  }
}
"""
ORDER = """
query($id: ID!) {
  order(id: $id) {
    number status customer { id }
    totals { subtotal { amount } total { amount currency } }
    lines { sku quantity unitPrice { amount } lineTotal { amount } product { id } }
    shippingAddress { city country }
  }
}
"""


async def test_owner_reads_an_order_with_its_lines_and_totals(stack: Any, token: Any) -> None:
    placed = await factories.order(stack, "ada", lines=2)

    order = data(await stack.client("orders")(ORDER, {"id": placed.id}, token=token("ada")))["order"]

    assert order["number"] == placed.number and order["status"] == "PENDING_PAYMENT"
    assert order["customer"] == {"id": "ada"}
    assert [
        (line["quantity"], line["unitPrice"]["amount"], line["lineTotal"]["amount"]) for line in order["lines"]
    ] == [(1, 500, 500), (2, 501, 1002)]
    assert order["totals"] == {"subtotal": {"amount": 1502}, "total": {"amount": 1502, "currency": "USD"}}
    assert order["shippingAddress"] == {"city": "Springfield", "country": "US"}


async def test_others_cannot_read_an_order_but_an_admin_can(stack: Any, token: Any) -> None:
    placed = await factories.order(stack, "ada")
    orders = stack.client("orders")

    stranger = await orders(ORDER, {"id": placed.id}, token=token("mallory"))
    anonymous = await orders(ORDER, {"id": placed.id})
    admin = await orders(ORDER, {"id": placed.id}, token=token("root", scopes=("orders:admin",)))

    assert error_codes(stranger) == ["FORBIDDEN"] and stranger["data"]["order"] is None
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert data(admin)["order"]["number"] == placed.number


async def test_order_history_pages_newest_first(stack: Any, token: Any) -> None:
    placed = [await factories.order(stack, "ada") for _ in range(5)]
    await factories.order(stack, "bob")
    orders, ada = stack.client("orders"), token("ada")
    representations = [{"__typename": "User", "id": "ada"}]

    first = data(await orders(HISTORY, {"r": representations, "first": 3}, token=ada))["_entities"][0]["orders"]
    rest = data(
        await orders(HISTORY, {"r": representations, "first": 3, "after": first["pageInfo"]["endCursor"]}, token=ada)
    )["_entities"][0]["orders"]

    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"]
    assert not rest["pageInfo"]["hasNextPage"]
    numbers = [edge["node"]["number"] for edge in first["edges"] + rest["edges"]]
    assert numbers == [order.number for order in reversed(placed)]


async def test_order_payment_shows_client_secret_to_the_payer_only(stack: Any, token: Any) -> None:
    placed = await factories.order(stack, "ada", status=OrderStatus.PAID)
    paid = await factories.payment(stack, placed)
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { payment { status amount { amount } clientSecret order { id } } } } }"
    representations = {"r": [{"__typename": "Order", "id": placed.id}]}
    payments = stack.client("payments")

    own = data(await payments(query, representations, token=token("ada")))["_entities"][0]["payment"]
    admin = data(await payments(query, representations, token=token("root", scopes=("orders:admin",))))["_entities"][0][
        "payment"
    ]
    stranger = await payments(query, representations, token=token("mallory"))

    assert own == {
        "status": "SUCCEEDED",
        "amount": {"amount": placed.total_amount},
        "clientSecret": paid.client_secret,
        "order": {"id": placed.id},
    }
    assert admin["clientSecret"] is None and admin["status"] == "SUCCEEDED"
    assert error_codes(stranger) == ["FORBIDDEN"]


async def test_unknown_and_malformed_ids(stack: Any, token: Any) -> None:
    unknown = await stack.client("orders")(ORDER, {"id": "00000000-0000-4000-8000-000000000000"}, token=token("ada"))
    malformed = await stack.client("payments")('{ payment(id: "1 OR 1=1") { id } }', token=token("ada"))

    assert data(unknown) == {"order": None}
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
