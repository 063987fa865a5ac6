"""The catalog as a storefront and an admin use it."""

import base64
import json
from typing import Any

from tests.support import factories
from tests.support.graphql import data, error_codes

ADMIN = ("catalog:write", "inventory:write")

GRID = """
query Grid($first: Int!, $after: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    edges { cursor node { id sku name price { amount currency } stock { available } category { name } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE = """
mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) { id sku name price { amount currency } active stock { onHand available } }
}
"""


async def test_paging_through_products_visits_each_once_in_price_order(stack: Any) -> None:
    # Given seven products with distinct prices
    for price in [700, 100, 500, 300, 600, 200, 400]:
        await factories.product(stack, price=price)
    catalog = stack.client("catalog")

    # When a shopper pages through them three at a time, cheapest first
    seen, after = [], None
    while True:
        page = data(await catalog(GRID, {"first": 3, "after": after, "sort": {"field": "PRICE", "direction": "ASC"}}))[
            "products"
        ]
        seen += [edge["node"]["price"]["amount"] for edge in page["edges"]]
        assert page["totalCount"] == 7
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # Then every product comes exactly once, in order
    assert seen == [100, 200, 300, 400, 500, 600, 700]


async def test_paging_with_equal_prices_in_both_directions_loses_and_repeats_nothing(stack: Any) -> None:
    # Given nine products with only three distinct prices, so the id breaks the ties
    made = [await factories.product(stack, price=price) for price in [300, 100, 200] * 3]
    catalog = stack.client("catalog")

    for direction in ("ASC", "DESC"):
        # When a shopper pages through them two at a time
        seen, after = [], None
        while True:
            variables = {"first": 2, "after": after, "sort": {"field": "PRICE", "direction": direction}}
            page = data(await catalog(GRID, variables))["products"]
            seen += [(edge["node"]["price"]["amount"], edge["node"]["id"]) for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]

        # Then each product comes once, in price order, ties in a stable order
        expected = sorted(((p.price_amount, p.id) for p in made), reverse=direction == "DESC")
        assert seen == expected, direction


async def test_forged_cursors_are_bad_input(stack: Any) -> None:
    await factories.product(stack)
    catalog = stack.client("catalog")
    forged: list[list[Any]] = [
        ["products:price:asc", "not-a-number", "00000000-0000-4000-8000-000000000000"],
        ["products:price:asc", 2**70, "00000000-0000-4000-8000-000000000000"],
        ["products:price:asc", True, "00000000-0000-4000-8000-000000000000"],
        ["products:price:asc", {"$gt": 1}, "x"],
        ["products:created_at:asc", "2020-01-01T00:00:00", "x"],
        ["products:created_at:asc", "yesterday", "x"],
        ["products:created_at:asc", "0001-01-01T00:00:00+05:00", "x"],
        ["products:created_at:desc", "9999-12-31T23:59:59-05:00", "x"],
        ["products:name:asc", "n" * 300, "x"],
    ]
    for values in forged:
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        _, field, direction = values[0].upper().split(":")
        body = await catalog(GRID, {"first": 2, "after": cursor, "sort": {"field": field, "direction": direction}})
        assert error_codes(body) == ["BAD_USER_INPUT"], values


async def test_inventory_staff_see_stock_counts(stack: Any, token: Any) -> None:
    product = await factories.product(stack, on_hand=7)
    catalog = stack.client("catalog")

    body = await catalog(
        "query($id: ID!) { product(id: $id) { stock { onHand reserved available } } }",
        {"id": product.id},
        token=token("clerk", scopes=("inventory:write",)),
    )

    assert data(body)["product"]["stock"] == {"onHand": 7, "reserved": 0, "available": 7}


async def test_filters_combine(stack: Any) -> None:
    await factories.product(stack, price=500, name="Red Boot", on_hand=0)
    await factories.product(stack, price=900, name="Red Hat", on_hand=5)
    await factories.product(stack, price=300, name="Blue Boot", on_hand=5)
    catalog = stack.client("catalog")

    body = await catalog(GRID, {"first": 10, "filter": {"search": "red", "minPrice": 400, "inStock": True}})

    assert [edge["node"]["name"] for edge in data(body)["products"]["edges"]] == ["Red Hat"]


async def test_search_treats_wildcards_literally(stack: Any) -> None:
    await factories.product(stack, name="100% Wool")
    await factories.product(stack, name="Cotton")
    catalog = stack.client("catalog")

    body = await catalog(GRID, {"first": 10, "filter": {"search": "%"}})

    assert [edge["node"]["name"] for edge in data(body)["products"]["edges"]] == ["100% Wool"]


async def test_admin_creates_prices_stocks_and_archives_a_product(stack: Any, token: Any) -> None:
    catalog = stack.client("catalog")
    admin = token("admin", scopes=ADMIN)

    created = data(
        await catalog(
            CREATE,
            {"input": {"sku": "mug-1", "name": "Mug", "price": {"amount": 1250, "currency": "EUR"}}},
            token=admin,
        )
    )
    product_id = created["createProduct"]["id"]
    assert created["createProduct"]["sku"] == "MUG-1"
    assert created["createProduct"]["stock"] == {"onHand": 0, "available": 0}

    stocked = await catalog(
        "mutation($id: ID!) { setStock(productId: $id, onHand: 8) { stock { onHand available } } }",
        {"id": product_id},
        token=admin,
    )
    assert data(stocked)["setStock"]["stock"] == {"onHand": 8, "available": 8}

    updated = await catalog(
        "mutation($id: ID!) { updateProduct(id: $id, input: {priceAmount: 999}) { price { amount currency } } }",
        {"id": product_id},
        token=admin,
    )
    assert data(updated)["updateProduct"]["price"] == {"amount": 999, "currency": "EUR"}

    await catalog("mutation($id: ID!) { archiveProduct(id: $id) { active } }", {"id": product_id}, token=admin)
    listing = data(await catalog(GRID, {"first": 10}))["products"]
    assert listing["totalCount"] == 0
    still = data(
        await catalog(
            'query($id: ID!) { product(id: $id) { active } productBySku(sku: "mug-1") { id } }', {"id": product_id}
        )
    )
    assert still == {"product": {"active": False}, "productBySku": {"id": product_id}}


async def test_shoppers_cannot_use_admin_mutations(stack: Any, token: Any) -> None:
    catalog = stack.client("catalog")
    variables = {"input": {"sku": "X", "name": "X", "price": {"amount": 1, "currency": "USD"}}}

    anonymous = await catalog(CREATE, variables)
    shopper = await catalog(CREATE, variables, token=token("shopper", scopes=("orders:read",)))

    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert error_codes(shopper) == ["FORBIDDEN"]
    assert data(await catalog(GRID, {"first": 5}))["products"]["totalCount"] == 0


async def test_stock_counts_are_for_inventory_staff_only(stack: Any) -> None:
    await factories.product(stack, on_hand=4)
    catalog = stack.client("catalog")

    body = await catalog("{ products { edges { node { stock { onHand available } } } } }")

    assert body["data"]["products"]["edges"][0]["node"]["stock"] == {"onHand": None, "available": 4}
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_duplicate_sku_is_a_conflict(stack: Any, token: Any) -> None:
    catalog = stack.client("catalog")
    variables = {"input": {"sku": "dup", "name": "One", "price": {"amount": 100, "currency": "USD"}}}
    data(await catalog(CREATE, variables, token=token("admin", scopes=ADMIN)))

    again = await catalog(CREATE, variables, token=token("admin", scopes=ADMIN))

    assert error_codes(again) == ["CONFLICT"]


async def test_bad_input_is_refused_and_changes_nothing(stack: Any, token: Any) -> None:
    catalog = stack.client("catalog")
    admin = token("admin", scopes=ADMIN)
    product = await factories.product(stack, on_hand=3)
    bad: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"input": {"sku": "ok", "name": "x" * 201, "price": {"amount": 100, "currency": "USD"}}}),
        (CREATE, {"input": {"sku": "ok", "name": "Fine", "price": {"amount": -1, "currency": "USD"}}}),
        (CREATE, {"input": {"sku": "ok", "name": "Fine", "price": {"amount": 100, "currency": "dollars"}}}),
        (CREATE, {"input": {"sku": "no spaces", "name": "Fine", "price": {"amount": 100, "currency": "USD"}}}),
        (CREATE, {"input": {"sku": "ok", "name": "   ", "price": {"amount": 100, "currency": "USD"}}}),
        ("mutation($id: ID!) { setStock(productId: $id, onHand: -5) { id } }", {"id": product.id}),
        ("mutation($id: ID!) { setStock(productId: $id, onHand: 10000000) { id } }", {"id": product.id}),
        ('mutation { setStock(productId: "not-an-id", onHand: 1) { id } }', {}),
    ]
    for query, variables in bad:
        assert error_codes(await catalog(query, variables, token=admin)) == ["BAD_USER_INPUT"], (query, variables)

    listing = data(await catalog(GRID, {"first": 10}))["products"]
    assert listing["totalCount"] == 1
    assert listing["edges"][0]["node"]["stock"]["available"] == 3


async def test_bad_listing_arguments_get_clear_errors(stack: Any) -> None:
    catalog = stack.client("catalog")
    # Values the resolver refuses, and one that does not coerce (a request error: 400).
    cases = [
        ({"first": 0}, 200),
        ({"first": 101}, 200),
        ({"first": 5, "after": "garbage"}, 200),
        ({"first": 5, "filter": {"minPrice": 500, "maxPrice": 100}}, 200),
        ({"first": 5, "filter": {"search": "s" * 101}}, 200),
        ({"first": 5, "sort": {"field": "COLOUR"}}, 400),
    ]
    for variables, status in cases:
        body = await catalog(GRID, variables, expect_status=status)
        assert error_codes(body) == ["BAD_USER_INPUT"], variables
        assert body["errors"][0]["message"]


async def test_cursor_from_another_sort_is_refused(stack: Any) -> None:
    for _ in range(3):
        await factories.product(stack)
    catalog = stack.client("catalog")
    by_name = data(await catalog(GRID, {"first": 1}))["products"]["pageInfo"]["endCursor"]

    body = await catalog(GRID, {"first": 1, "after": by_name, "sort": {"field": "PRICE"}})

    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_categories_and_entity_references(stack: Any) -> None:
    shoe = await factories.product(stack, category_id=await factories.category(stack, "Shoes"))
    catalog = stack.client("catalog")

    categories = data(await catalog("{ categories { name } }"))["categories"]
    entities = data(
        await catalog(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name category { name } } } }",
            {
                "r": [
                    {"__typename": "Product", "id": shoe.id},
                    {"__typename": "Product", "id": "00000000-0000-4000-8000-000000000000"},
                ]
            },
        )
    )["_entities"]

    assert categories == [{"name": "Shoes"}]
    assert entities == [{"name": shoe.name, "category": {"name": "Shoes"}}, None]
