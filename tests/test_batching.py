"""Nested fields are batched: the SQL a request runs does not grow with the page size."""

from typing import Any

import pytest
from sqlalchemy import select

from subgraphs.catalog.tables import ProductRow
from subgraphs.orders.tables import OrderRow, OrderStatus
from tests.support import factories
from tests.support.graphql import data

SIZES = (5, 50)


async def statements(stack: Any, subgraph: str, query: str, variables: dict[str, Any], token: str | None = None) -> int:
    client = stack.client(subgraph)
    with stack.count_sql(subgraph) as sql:
        data(await client(query, variables, token=token))
    count: int = sql.count
    return count


@pytest.fixture
async def shop(stack: Any) -> Any:
    """Fifty products in five categories, fifty shoppers with two orders and payments each."""
    categories = [await factories.category(stack, f"Category {i}") for i in range(5)]
    for i in range(50):
        await factories.product(stack, category_id=categories[i % 5])
    for i in range(50):
        for _ in range(2):
            placed = await factories.order(stack, f"user-{i}", lines=3, status=OrderStatus.PAID)
            await factories.payment(stack, placed)
    return stack


async def test_product_grid(shop: Any) -> None:
    query = "query($n: Int!) { products(first: $n) { edges { node { name price { amount } stock { available } category { name } } } } }"

    counts = [await statements(shop, "catalog", query, {"n": n}) for n in SIZES]

    # one statement: the page of products joined with their stock and category
    assert counts == [1, 1]


async def test_product_references(shop: Any) -> None:
    async with shop.runtime("catalog").db() as session:
        ids = (await session.scalars(select(ProductRow.id))).all()
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name category { name } } } }"

    counts = [
        await statements(shop, "catalog", query, {"r": [{"__typename": "Product", "id": i} for i in ids[:n]]})
        for n in SIZES
    ]

    assert counts == [1, 1]


async def test_order_histories_with_lines(shop: Any, token: Any) -> None:
    query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on User {
        orders(first: 5) { totalCount edges { node { number lines { sku } } } } } } }"""
    admin = token("root", scopes=("orders:admin",))

    counts = [
        await statements(
            shop, "orders", query, {"r": [{"__typename": "User", "id": f"user-{i}"} for i in range(n)]}, admin
        )
        for n in SIZES
    ]

    # histories, their counts, and the lines of every order shown
    assert counts == [3, 3]


async def test_order_payments_with_refunds(shop: Any, token: Any) -> None:
    async with shop.runtime("orders").db() as session:
        ids = (await session.scalars(select(OrderRow.id))).all()
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { payment { status refunds { id } } } } }"
    )
    admin = token("root", scopes=("orders:admin",))

    counts = [
        await statements(shop, "payments", query, {"r": [{"__typename": "Order", "id": i} for i in ids[:n]]}, admin)
        for n in SIZES
    ]

    assert counts == [2, 2]


async def test_user_list_with_addresses(stack: Any, token: Any) -> None:
    users = stack.client("users")
    for i in range(50):
        data(await users("{ me { id } }", token=token(f"user-{i}")))
    query = "query($n: Int!) { users(first: $n) { edges { node { id addresses { city } } } } }"

    counts = [await statements(stack, "users", query, {"n": n}, token("root", scopes=("users:admin",))) for n in SIZES]

    assert counts == [2, 2]


async def test_carts_of_many_users(stack: Any, token: Any) -> None:
    product = await factories.product(stack)
    carts = stack.client("carts")
    for i in range(50):
        data(
            await carts(
                "mutation($p: ID!) { addToCart(productId: $p) { itemCount } }",
                {"p": product.id},
                token=token(f"user-{i}"),
            )
        )
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { cart { itemCount lines { quantity } } } } }"
    admin = token("root", scopes=("users:admin",))

    counts = [
        await statements(
            stack, "carts", query, {"r": [{"__typename": "User", "id": f"user-{i}"} for i in range(n)]}, admin
        )
        for n in SIZES
    ]

    assert counts == [2, 2]
