"""Events through a real Kafka-protocol broker: the relay publishes the outbox, consumers act on
what arrives once in effect, and what cannot be handled lands on the dead-letter topic."""

import asyncio
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from events.consumer import PoisonEvent
from events.contracts import registry
from events.envelope import decode, new_event
from events.settings import EventSettings
from shopgraph.registry import event_store
from subgraphs.carts.tables import CartLineRow
from subgraphs.catalog import handlers as catalog_handlers
from subgraphs.catalog import published as catalog_published
from subgraphs.catalog.tables import ProductOrderDayRow, ProductRow
from tests.support import factories
from tests.support.graphql import TENANT, data
from tests.support.kafka import collect, eventually, send, switched_broker, worker

ADMIN = ("catalog:write", "inventory:write")
PRODUCT_EXAMPLE = orjson.dumps(registry().latest("product.created").example)
ADD = "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { id } }"
PRICE = "mutation($id: ID!, $a: Int!) { updateProduct(id: $id, input: {priceAmount: $a}) { id } }"


def by_key(messages: list[ConsumerRecord[bytes, bytes]]) -> dict[str, list[Any]]:
    """Per message key, the prices in the order Kafka holds them."""
    prices: defaultdict[str, list[Any]] = defaultdict(list)
    for message in messages:
        event = decode(message.value)
        assert message.key == event.aggregate_id.encode()
        prices[event.aggregate_id].append(event.data["price"]["amount"])
    return dict(prices)


async def reprice(stack: Any, products: list[ProductRow], amount: int, *, description: str = "") -> None:
    """One ``product.updated`` per product in one transaction, as the catalog writes it, but
    past the mutation's checks (so a description may be too large for Kafka)."""
    async with stack.runtime("catalog").writer.begin() as session:
        for product in products:
            row = await session.get(ProductRow, product.id)
            assert row is not None
            row.price_amount, row.description = amount, description
            await session.flush()
            await catalog_published.product_updated(session, row, ["price"])


async def unsent(stack: Any, name: str) -> int:
    outbox = event_store(name).outbox
    async with stack.runtime(name).db() as session:
        return int(await session.scalar(select(func.count()).where(outbox.c.sent_at.is_(None))) or 0)


async def test_the_relay_publishes_each_event_keyed_by_its_aggregate_in_order(
    stack: Any, token: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    catalog, admin = stack.client("catalog"), token("admin", scopes=ADMIN)
    products = [await factories.product(stack, price=100) for _ in range(3)]
    for amount, product in itertools.product((101, 102, 103), products):
        data(await catalog(PRICE, {"id": product.id, "a": amount}, token=admin))

    async with worker("catalog", database_urls["catalog"], event_settings, consume=False):
        updates = await collect(event_settings, "product.updated", count=9)
        await eventually(lambda: unsent(stack, "catalog"), lambda n: n == 0)

    assert by_key(updates) == {product.id: [101, 102, 103] for product in products}
    assert {dict(m.headers)["content-type"] for m in updates} == {b"application/cloudevents+json; charset=UTF-8"}


async def test_mutations_succeed_while_kafka_is_down_and_their_events_arrive_once_in_order_after(
    stack: Any, token: Any, database_urls: dict[str, str], tmp_path: Path
) -> None:
    catalog, admin = stack.client("catalog"), token("admin", scopes=ADMIN)
    products = [await factories.product(stack, price=100) for _ in range(3)]

    async with (
        switched_broker(tmp_path / "broker.log") as (settings, kafka_link),
        worker("catalog", database_urls["catalog"], settings, consume=False),
    ):
        data(await catalog(PRICE, {"id": products[0].id, "a": 200}, token=admin))
        await eventually(lambda: unsent(stack, "catalog"), lambda n: n == 0)
        await kafka_link.off()
        for amount, product in itertools.product(range(201, 205), products):
            data(await catalog(PRICE, {"id": product.id, "a": amount}, token=admin))
        await asyncio.sleep(1)  # the relay tries, fails and backs off meanwhile
        assert await unsent(stack, "catalog") == 12
        await kafka_link.on()
        updates = await collect(settings, "product.updated", count=13)
        await eventually(lambda: unsent(stack, "catalog"), lambda n: n == 0)

    expected = {product.id: [201, 202, 203, 204] for product in products}
    assert by_key(updates) == {**expected, products[0].id: [200, 201, 202, 203, 204]}


async def test_two_relays_share_one_postgresql_outbox_without_duplicates_or_reordering(
    stack: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    if stack.backend != "postgresql":
        pytest.skip("several relays per outbox is a PostgreSQL feature; SQLite runs one")
    products = [await factories.product(stack) for _ in range(20)]
    for amount in range(1, 51):
        await reprice(stack, products, amount)
    small_batches = event_settings.model_copy(update={"relay_batch_size": 50})

    async with (
        worker("catalog", database_urls["catalog"], small_batches, consume=False),
        worker("catalog", database_urls["catalog"], small_batches, consume=False),
    ):
        updates = await collect(event_settings, "product.updated", count=1000)

    assert by_key(updates) == {product.id: list(range(1, 51)) for product in products}


async def test_an_archived_product_leaves_open_carts(
    stack: Any, token: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    carts, catalog = stack.client("carts"), stack.client("catalog")
    mug, pen = await factories.product(stack), await factories.product(stack)
    for shopper in ("ada", "bob"):
        data(await carts(ADD, {"p": mug.id}, token=token(shopper)))
    data(await carts(ADD, {"p": pen.id}, token=token("ada")))

    data(
        await catalog(
            "mutation($id: ID!) { archiveProduct(id: $id) { id } }", {"id": mug.id}, token=token("admin", scopes=ADMIN)
        )
    )

    async def lines() -> list[tuple[str, str]]:
        async with stack.runtime("carts").db() as session:
            rows = await session.execute(select(CartLineRow.tenant_id, CartLineRow.product_id))
            return sorted(tuple(row) for row in rows)

    async with (
        worker("catalog", database_urls["catalog"], event_settings, consume=False),
        worker("carts", database_urls["carts"], event_settings),
    ):
        assert await eventually(lines, lambda found: mug.id not in {p for _, p in found}) == [(TENANT, pen.id)]
        changes = await collect(event_settings, "cart.updated", count=5)

    causes = [decode(m.value).data["cause"] for m in changes]
    assert sorted(causes) == ["product_archived", "product_archived", "shopper", "shopper", "shopper"]


async def test_placed_orders_count_towards_a_products_recent_orders(
    stack: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    mug, pen = await factories.product(stack), await factories.product(stack)
    await factories.order(stack, "ada", product_ids=[mug.id, pen.id])
    await factories.order(stack, "bob", product_ids=[mug.id])

    async def counts() -> list[int]:
        body = await stack.client("catalog")(
            "query($m: ID!, $p: ID!) { m: product(id: $m) { recentOrders } p: product(id: $p) { recentOrders } }",
            {"m": mug.id, "p": pen.id},
        )
        return [data(body)["m"]["recentOrders"], data(body)["p"]["recentOrders"]]

    assert await counts() == [0, 0]
    async with (
        worker("orders", database_urls["orders"], event_settings, consume=False),
        worker("catalog", database_urls["catalog"], event_settings),
    ):
        assert await eventually(counts, lambda found: found == [2, 1]) == [2, 1]


async def test_events_that_cannot_be_handled_go_to_the_dead_letter_topic_and_the_rest_still_flow(
    stack: Any, token: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    mug = await factories.product(stack)
    data(await stack.client("carts")(ADD, {"p": mug.id}, token=token("ada")))
    valid = new_event(
        "product.archived",
        source="test",
        tenant=TENANT,
        aggregate_id=mug.id,
        data={"productId": mug.id, "sku": mug.sku},
    ).to_cloudevent()
    broken = {**valid, "data": {"sku": mug.sku}}
    misfiled = new_event(
        "product.created", source="test", tenant=TENANT, aggregate_id=mug.id, data=orjson.loads(PRODUCT_EXAMPLE)
    ).to_cloudevent()
    await send(
        event_settings,
        "product.archived",
        [
            (mug.id.encode(), b"{not json"),
            (mug.id.encode(), orjson.dumps(broken)),
            (mug.id.encode(), orjson.dumps(misfiled)),
            (mug.id.encode(), orjson.dumps(valid)),
            (mug.id.encode(), orjson.dumps(valid)),  # a redelivery: no second effect
        ],
    )

    async with worker("carts", database_urls["carts"], event_settings, relay=False):
        dead = await collect(event_settings, "carts.dead-letter", count=3)

        async def lines() -> int:
            async with stack.runtime("carts").db() as session:
                return int(await session.scalar(select(func.count()).select_from(CartLineRow)) or 0)

        await eventually(lines, lambda n: n == 0)

    reasons = [dict(m.headers)["dead-letter.reason"].decode() for m in dead]
    assert "not JSON" in reasons[0]
    assert "productId" in reasons[1] and "breaks its contract" in reasons[1]
    assert "a product.created event on topic product.archived" in reasons[2]
    assert [m.value for m in dead] == [b"{not json", orjson.dumps(broken), orjson.dumps(misfiled)]
    assert {dict(m.headers)["dead-letter.topic"] for m in dead} == {b"product.archived"}
    async with stack.runtime("carts").db() as session:
        inbox = event_store("carts").inbox
        assert await session.scalar(select(func.count()).select_from(inbox)) == 1
        outbox = event_store("carts").outbox
        payloads = (await session.scalars(select(outbox.c.payload).order_by(outbox.c.seq))).all()
    assert [decode(p.encode()).data["cause"] for p in payloads] == ["shopper", "product_archived"]


async def test_a_failing_handler_is_retried_a_poisoned_or_exhausted_event_dead_lettered_a_success_counted_once(
    stack: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    mug = await factories.product(stack)
    flaky, doomed, poisoned, after = [await factories.order(stack, f"u{i}", product_ids=[mug.id]) for i in range(4)]
    failures: defaultdict[str, int] = defaultdict(int)

    async def unreliable(event: Any, session: Any) -> None:
        await catalog_handlers.count_order(event, session)  # undone when this attempt fails
        if event.aggregate_id == poisoned.id:
            failures[poisoned.id] += 1
            raise PoisonEvent("this order can never be counted")
        if event.aggregate_id == doomed.id or (event.aggregate_id == flaky.id and failures[flaky.id] < 2):
            failures[event.aggregate_id] += 1
            raise RuntimeError(f"cannot handle {event.aggregate_id} yet")

    async with (
        worker("orders", database_urls["orders"], event_settings, consume=False),
        worker("catalog", database_urls["catalog"], event_settings, relay=False, handled={"order.created": unreliable}),
    ):
        dead_letters = await collect(event_settings, "catalog.dead-letter", count=2)

        async def counted() -> int:
            async with stack.runtime("catalog").db() as session:
                return int(await session.scalar(select(func.sum(ProductOrderDayRow.orders))) or 0)

        await eventually(counted, lambda n: n == 2)

    dead = {decode(m.value).aggregate_id: dict(m.headers) for m in dead_letters}
    assert set(dead) == {doomed.id, poisoned.id}
    assert dead[doomed.id]["dead-letter.attempts"] == str(event_settings.handler_attempts).encode()
    assert dead[doomed.id]["dead-letter.reason"] == f"RuntimeError: cannot handle {doomed.id} yet".encode()
    assert dead[poisoned.id]["dead-letter.attempts"] == b"1"  # not retried
    assert dead[poisoned.id]["dead-letter.reason"] == b"PoisonEvent: this order can never be counted"
    assert failures == {flaky.id: 2, doomed.id: event_settings.handler_attempts, poisoned.id: 1}
    assert after.id not in failures


async def test_an_event_kafka_refuses_holds_its_aggregate_while_the_others_flow(
    stack: Any, database_urls: dict[str, str], event_settings: EventSettings
) -> None:
    big, small = await factories.product(stack), await factories.product(stack)
    await reprice(stack, [big], 1, description="x" * 2_000_000)  # over Kafka's default message size
    await reprice(stack, [big], 2)
    await reprice(stack, [small], 3)

    async with worker("catalog", database_urls["catalog"], event_settings, consume=False):
        updates = await collect(event_settings, "product.updated", count=1)
        assert await eventually(lambda: unsent(stack, "catalog"), lambda n: n == 2) == 2

    assert by_key(updates) == {small.id: [3]}
