"""Every state-changing mutation writes exactly one event, valid against its contract and keyed
by its aggregate, into its subgraph's outbox in the mutation's own transaction."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from events.envelope import Event, InvalidEvent, decode
from shopgraph.registry import event_store
from subgraphs.catalog.tables import EVENTS as CATALOG_EVENTS
from subgraphs.catalog.tables import ProductRow
from tests.support import factories
from tests.support.graphql import TENANT, data, error_codes

ADMIN_SCOPES = ("catalog:write", "inventory:write")
HOME = {"recipient": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "GB"}


async def outbox(stack: Any, name: str) -> list[Event]:
    table = event_store(name).outbox
    async with stack.runtime(name).db() as session:
        payloads = (await session.execute(select(table.c.payload).order_by(table.c.seq))).scalars()
        return [decode(payload.encode()) for payload in payloads]


async def emitted(stack: Any, name: str, action: Callable[[], Awaitable[Any]]) -> list[Event]:
    """The events ``action`` added to ``name``'s outbox (each decoded, so each valid)."""
    before = len(await outbox(stack, name))
    await action()
    return (await outbox(stack, name))[before:]


def one(events: list[Event], event_type: str, aggregate_id: str) -> Event:
    assert [(e.type, e.aggregate_id, e.tenant) for e in events] == [(event_type, aggregate_id, TENANT)]
    return events[0]


async def test_each_catalog_mutation_writes_one_event(stack: Any, token: Any) -> None:
    catalog, admin = stack.client("catalog"), token("admin", scopes=ADMIN_SCOPES)

    async def run(query: str, **variables: Any) -> Any:
        return data(await catalog(query, variables, token=admin))

    holder: dict[str, Any] = {}

    async def create_category() -> None:
        holder["category"] = (await run('mutation { createCategory(input: {slug: "mugs", name: "Mugs"}) { id } }'))[
            "createCategory"
        ]["id"]

    events = await emitted(stack, "catalog", create_category)
    category = one(events, "category.created", holder["category"])
    assert category.data == {"categoryId": holder["category"], "slug": "mugs", "name": "Mugs"}

    async def create_product() -> None:
        holder["product"] = (
            await run(
                'mutation($c: ID!) { createProduct(input: {sku: "mug-1", name: "Mug", price: {amount: 900, currency: "EUR"}, categoryId: $c}) { id } }',
                c=holder["category"],
            )
        )["createProduct"]["id"]

    created = await emitted(stack, "catalog", create_product)
    product = holder["product"]
    assert one(created, "product.created", product).data["price"] == {"amount": 900, "currency": "EUR"}

    updated = await emitted(
        stack,
        "catalog",
        lambda: run(
            'mutation($id: ID!) { updateProduct(id: $id, input: {priceAmount: 950, name: "Big mug"}) { id } }',
            id=product,
        ),
    )
    assert sorted(one(updated, "product.updated", product).data["changed"]) == ["name", "price"]
    assert updated[0].data["price"]["amount"] == 950

    stocked = await emitted(
        stack, "catalog", lambda: run("mutation($id: ID!) { setStock(productId: $id, onHand: 7) { id } }", id=product)
    )
    assert one(stocked, "inventory.adjusted", product).data == {
        "productId": product,
        "onHand": 7,
        "previousOnHand": 0,
        "reserved": 0,
        "available": 7,
    }

    archived = await emitted(
        stack, "catalog", lambda: run("mutation($id: ID!) { archiveProduct(id: $id) { id } }", id=product)
    )
    assert one(archived, "product.archived", product).data == {"productId": product, "sku": "MUG-1"}


async def test_updates_that_change_nothing_publish_nothing_and_archiving_twice_publishes_once(
    stack: Any, token: Any
) -> None:
    catalog, admin = stack.client("catalog"), token("admin", scopes=ADMIN_SCOPES)
    product = await factories.product(stack, price=500, on_hand=3)

    async def repeat() -> None:
        data(
            await catalog(
                "mutation($id: ID!) { updateProduct(id: $id, input: {priceAmount: 500}) { id } }",
                {"id": product.id},
                token=admin,
            )
        )
        data(
            await catalog(
                "mutation($id: ID!) { setStock(productId: $id, onHand: 3) { id } }", {"id": product.id}, token=admin
            )
        )
        data(await catalog("mutation($id: ID!) { archiveProduct(id: $id) { id } }", {"id": product.id}, token=admin))
        data(await catalog("mutation($id: ID!) { archiveProduct(id: $id) { id } }", {"id": product.id}, token=admin))

    assert [e.type for e in await emitted(stack, "catalog", repeat)] == ["product.archived"]


async def test_a_refused_mutation_leaves_no_event(stack: Any, token: Any) -> None:
    catalog, admin = stack.client("catalog"), token("admin", scopes=ADMIN_SCOPES)
    await factories.product(stack)
    taken = (await outbox(stack, "catalog"))[0].data["sku"]

    async def duplicate() -> None:
        body = await catalog(
            f'mutation {{ createProduct(input: {{sku: "{taken}", name: "Again", price: {{amount: 1, currency: "USD"}}}}) {{ id }} }}',
            token=admin,
        )
        assert error_codes(body) == ["CONFLICT"]

    assert await emitted(stack, "catalog", duplicate) == []


async def test_each_users_mutation_writes_one_event(stack: Any, token: Any) -> None:
    users, ada = stack.client("users"), token("ada", email="ada@example.com", name="Ada")

    registered = await emitted(stack, "users", lambda: users("{ me { id } }", token=ada))
    assert one(registered, "user.registered", "ada").data == {
        "userId": "ada",
        "email": "ada@example.com",
        "name": "Ada",
    }
    assert await emitted(stack, "users", lambda: users("{ me { id } }", token=ada)) == []

    updated = await emitted(
        stack, "users", lambda: users('mutation { updateProfile(input: {name: "Ada L."}) { id } }', token=ada)
    )
    assert one(updated, "user.updated", "ada").data["name"] == "Ada L."

    holder: dict[str, str] = {}

    async def add() -> None:
        body = await users("mutation($i: AddressInput!) { addAddress(input: $i) { id } }", {"i": HOME}, token=ada)
        holder["address"] = data(body)["addAddress"]["id"]

    added = one(await emitted(stack, "users", add), "user.address_added", "ada")
    assert added.data == {"userId": "ada", "addressId": holder["address"], "label": None, "country": "GB"}

    removed = await emitted(
        stack,
        "users",
        lambda: users("mutation($id: ID!) { removeAddress(id: $id) { id } }", {"id": holder["address"]}, token=ada),
    )
    assert one(removed, "user.address_removed", "ada").data == {"userId": "ada", "addressId": holder["address"]}


async def test_each_cart_mutation_writes_the_whole_cart(stack: Any, token: Any) -> None:
    carts, ada = stack.client("carts"), token("ada")
    mug = await factories.product(stack)

    async def run(query: str, **variables: Any) -> Any:
        return data(await carts(query, variables, token=ada))

    added = await emitted(
        stack, "carts", lambda: run("mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { id } }", p=mug.id)
    )
    cart_id = added[0].aggregate_id
    [line] = one(added, "cart.updated", cart_id).data["lines"]
    assert (line["productId"], line["quantity"], added[0].data["cause"]) == (mug.id, 2, "shopper")

    changed = await emitted(
        stack,
        "carts",
        lambda: run("mutation($l: ID!) { updateCartLine(lineId: $l, quantity: 5) { id } }", l=line["lineId"]),
    )
    assert one(changed, "cart.updated", cart_id).data["lines"][0]["quantity"] == 5

    removed = await emitted(
        stack, "carts", lambda: run("mutation($l: ID!) { removeCartLine(lineId: $l) { id } }", l=line["lineId"])
    )
    assert one(removed, "cart.updated", cart_id).data["lines"] == []

    cleared = await emitted(stack, "carts", lambda: run("mutation { clearCart { id } }"))
    assert one(cleared, "cart.updated", cart_id).data["userId"] == "ada"


async def test_placing_an_order_writes_order_created(stack: Any) -> None:
    holder: dict[str, Any] = {}

    async def place() -> None:
        holder["order"] = await factories.order(stack, "ada", lines=2)

    created = await emitted(stack, "orders", place)
    order = holder["order"]
    event = one(created, "order.created", order.id)
    assert event.data["number"] == order.number
    assert event.data["total"] == {"amount": order.total_amount, "currency": "USD"}
    assert [line["quantity"] for line in event.data["lines"]] == [1, 2]


async def test_an_event_its_contract_refuses_rolls_the_change_back(stack: Any) -> None:
    """A producer's mistake stops in the producer: the change and its event go together or not at all."""
    with pytest.raises(InvalidEvent, match="productId"):
        async with stack.runtime("catalog").writer.begin() as session:
            session.add(
                ProductRow(tenant_id=TENANT, sku="X-1", name="X", description="", price_amount=1, currency="USD")
            )
            await session.flush()
            await CATALOG_EVENTS.emit(
                session,
                "product.archived",
                tenant=TENANT,
                aggregate_id="x",
                data={"productId": "not-a-uuid", "sku": "X-1"},
            )

    async with stack.runtime("catalog").db() as session:
        assert (await session.scalars(select(ProductRow))).all() == []
    assert await outbox(stack, "catalog") == []
