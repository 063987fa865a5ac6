"""Events between real processes: a subgraph's change reaches another subgraph through the
outbox, the relay, the local Kafka broker and a consumer, all started as `make run` starts them."""

from typing import Any

from shopgraph.system import System
from tests.e2e.conftest import ask, mint, until

TENANT = {"X-Tenant-Id": "demo"}


def test_a_product_archived_at_the_router_leaves_shoppers_carts(system: System) -> None:
    router = system.urls()["router"]
    admin = mint(system, "e2e-admin", scopes=("catalog:write", "inventory:write"))
    shopper = mint(system, "e2e-events-shopper")
    created = ask(
        router,
        'mutation { createProduct(input: {sku: "E2E-EVENTS", name: "Soon gone", price: {amount: 700, currency: "USD"}}) { id } }',
        admin,
        headers=TENANT,
    )
    product = created["data"]["createProduct"]["id"]
    ask(
        router,
        "mutation($p: ID!) { setStock(productId: $p, onHand: 5) { id } }",
        admin,
        variables={"p": product},
        headers=TENANT,
    )
    added = ask(
        router,
        "mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { itemCount } }",
        shopper,
        variables={"p": product},
        headers=TENANT,
    )
    assert added["data"]["addToCart"]["itemCount"] == 2

    archived = ask(
        router,
        "mutation($p: ID!) { archiveProduct(id: $p) { active } }",
        admin,
        variables={"p": product},
        headers=TENANT,
    )
    assert archived["data"]["archiveProduct"]["active"] is False

    def cart() -> Any:
        return ask(router, "{ me { cart { itemCount } } }", shopper, headers=TENANT)["data"]["me"]["cart"]

    assert until(cart, lambda found: found["itemCount"] == 0) == {"itemCount": 0}


def test_demo_orders_count_towards_their_products_recent_orders(system: System) -> None:
    shopper = mint(system, "demo-shopper")
    query = "{ me { orders(first: 5) { edges { node { lines { product { recentOrders } } } } } } }"

    def counts() -> list[int]:
        body = ask(system.urls()["router"], query, shopper, headers=TENANT)
        edges = body["data"]["me"]["orders"]["edges"]
        return [line["product"]["recentOrders"] for edge in edges for line in edge["node"]["lines"]]

    found = until(counts, lambda numbers: bool(numbers) and all(n >= 1 for n in numbers))
    assert found and all(n >= 1 for n in found)
