"""Carts: one open cart per shopper, priced by the catalog at read time."""

import asyncio
from typing import Any

from sqlalchemy import func, select

from subgraphs.carts.tables import CartRow
from tests.support import factories
from tests.support.graphql import data, error_codes

CART = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on User { cart { itemCount subtotal { amount currency } lines { id quantity product { id } unitPrice { amount } } } }
  }
}
"""
ADD = "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { itemCount } }"


async def cart_of(stack: Any, user: str, token: str) -> Any:
    body = await stack.client("carts")(CART, {"r": [{"__typename": "User", "id": user}]}, token=token)
    return data(body)["_entities"][0]["cart"]


async def test_adding_products_builds_a_cart_priced_by_the_catalog(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack, price=1200)
    pen = await factories.product(stack, price=300)

    data(await carts(ADD, {"p": mug.id, "q": 2}, token=ada))
    data(await carts(ADD, {"p": pen.id, "q": 1}, token=ada))
    data(await carts(ADD, {"p": mug.id, "q": 1}, token=ada))
    cart = await cart_of(stack, "ada", ada)

    assert cart["itemCount"] == 4
    assert cart["subtotal"] == {"amount": 3 * 1200 + 300, "currency": "USD"}
    assert [(line["product"]["id"], line["quantity"]) for line in cart["lines"]] == [(mug.id, 3), (pen.id, 1)]


async def test_subtotal_follows_the_current_catalog_price(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack, price=1000)
    data(await carts(ADD, {"p": mug.id, "q": 2}, token=ada))

    await stack.client("catalog")(
        "mutation($id: ID!) { updateProduct(id: $id, input: {priceAmount: 800}) { id } }",
        {"id": mug.id},
        token=token("admin", scopes=("catalog:write",)),
    )

    assert (await cart_of(stack, "ada", ada))["subtotal"]["amount"] == 1600


async def test_update_remove_and_clear_lines(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack)
    pen = await factories.product(stack)
    data(await carts(ADD, {"p": mug.id, "q": 1}, token=ada))
    data(await carts(ADD, {"p": pen.id, "q": 1}, token=ada))
    mug_line, pen_line = (line["id"] for line in (await cart_of(stack, "ada", ada))["lines"])

    data(
        await carts(
            "mutation($l: ID!) { updateCartLine(lineId: $l, quantity: 5) { itemCount } }", {"l": mug_line}, token=ada
        )
    )
    data(await carts("mutation($l: ID!) { removeCartLine(lineId: $l) { itemCount } }", {"l": pen_line}, token=ada))
    assert [(line["id"], line["quantity"]) for line in (await cart_of(stack, "ada", ada))["lines"]] == [(mug_line, 5)]

    data(await carts("mutation { clearCart { itemCount } }", token=ada))
    assert (await cart_of(stack, "ada", ada))["lines"] == []


async def test_unknown_archived_and_out_of_range_are_refused(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack)
    gone = await factories.product(stack)
    await stack.client("catalog")(
        "mutation($id: ID!) { archiveProduct(id: $id) { id } }",
        {"id": gone.id},
        token=token("admin", scopes=("catalog:write",)),
    )

    cases = [
        ({"p": "00000000-0000-4000-8000-000000000000", "q": 1}, "NOT_FOUND"),
        ({"p": "not-a-uuid", "q": 1}, "BAD_USER_INPUT"),
        ({"p": gone.id, "q": 1}, "CONFLICT"),
        ({"p": mug.id, "q": 0}, "BAD_USER_INPUT"),
        ({"p": mug.id, "q": -3}, "BAD_USER_INPUT"),
        ({"p": mug.id, "q": 100}, "BAD_USER_INPUT"),
        ({"p": mug.id, "q": 2**31 - 1}, "BAD_USER_INPUT"),
    ]
    for variables, code in cases:
        assert error_codes(await carts(ADD, variables, token=ada)) == [code], variables
    # Beyond GraphQL's Int: refused before execution, as a request error.
    too_big = await carts(ADD, {"p": mug.id, "q": 2**40}, token=ada, expect_status=400)
    assert error_codes(too_big) == ["BAD_USER_INPUT"]

    assert await cart_of(stack, "ada", ada) is None


async def test_quantity_cannot_grow_past_the_limit_by_adding_twice(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack)
    data(await carts(ADD, {"p": mug.id, "q": 60}, token=ada))

    body = await carts(ADD, {"p": mug.id, "q": 60}, token=ada)

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert (await cart_of(stack, "ada", ada))["itemCount"] == 60


async def test_a_shopper_reads_and_changes_only_their_own_cart(stack: Any, token: Any) -> None:
    carts = stack.client("carts")
    mug = await factories.product(stack)
    data(await carts(ADD, {"p": mug.id, "q": 1}, token=token("ada")))
    ada_line = (await cart_of(stack, "ada", token("ada")))["lines"][0]["id"]

    peek = await carts(CART, {"r": [{"__typename": "User", "id": "ada"}]}, token=token("mallory"))
    change = await carts(
        "mutation($l: ID!) { updateCartLine(lineId: $l, quantity: 9) { id } }", {"l": ada_line}, token=token("mallory")
    )

    assert error_codes(peek) == ["FORBIDDEN"]
    assert error_codes(change) == ["NOT_FOUND"]
    assert (await cart_of(stack, "ada", token("ada")))["itemCount"] == 1


async def test_catalog_down_is_a_clear_error(stack: Any, token: Any) -> None:
    carts = stack.client("carts")
    mug = await factories.product(stack)
    transport = stack.transport
    saved = transport.apps.pop("catalog.test")
    try:
        body = await carts(ADD, {"p": mug.id, "q": 1}, token=token("ada"))
    finally:
        transport.apps["catalog.test"] = saved

    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]


async def test_concurrent_adds_make_one_cart_and_lose_no_units(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack)

    bodies = await asyncio.gather(*(carts(ADD, {"p": mug.id, "q": 2}, token=ada) for _ in range(8)))

    assert all("errors" not in body for body in bodies), [b for b in bodies if "errors" in b]
    cart = await cart_of(stack, "ada", ada)
    assert cart["itemCount"] == 16 and len(cart["lines"]) == 1
    async with stack.runtime("carts").db() as session:
        assert await session.scalar(select(func.count()).select_from(CartRow)) == 1


async def test_many_full_carts_are_priced_in_one_read(stack: Any, token: Any) -> None:
    # Given five shoppers with fifty different products each: 250 products to price
    products = [await factories.product(stack, price=100 + i) for i in range(250)]
    carts = stack.client("carts")
    for shopper in range(5):
        for product in products[shopper * 50 : (shopper + 1) * 50]:
            data(await carts(ADD, {"p": product.id, "q": 1}, token=token(f"user-{shopper}")))

    # When an admin reads all five carts at once
    transport = stack.transport
    calls_before = transport.requests["catalog.test"]
    body = await carts(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { cart { subtotal { amount } } } } }",
        {"r": [{"__typename": "User", "id": f"user-{shopper}"} for shopper in range(5)]},
        token=token("root", scopes=("users:admin",)),
    )

    # Then every subtotal is there, priced by one batch: three calls of at most 100 ids
    subtotals = [entity["cart"]["subtotal"]["amount"] for entity in data(body)["_entities"]]
    assert subtotals == [sum(100 + i for i in range(s * 50, (s + 1) * 50)) for s in range(5)]
    assert transport.requests["catalog.test"] - calls_before == 3
