"""The worker killed with SIGKILL in the middle of its work, then started again: no event is lost,
and an event delivered twice has one effect. The worker runs as its own process
(``shopgraph worker``), as in production."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from events.contracts import registry
from events.envelope import decode, new_event
from events.settings import EventSettings
from shopgraph.contracts import ROOT
from shopgraph.registry import event_store
from subgraphs.catalog.tables import ProductOrderDayRow
from subgraphs.orders.tables import EVENTS as ORDERS_EVENTS
from tests.support.graphql import TENANT
from tests.support.kafka import collect, eventually, send, worker

EVENTS = 1000
PRODUCTS = [str(uuid.uuid4()) for _ in range(20)]


def order_created(n: int) -> tuple[str, dict[str, Any]]:
    """The n-th made-up order: one line of ``PRODUCTS[n % 20]``."""
    data = registry().latest("order.created").example
    line = {**data["lines"][0], "productId": PRODUCTS[n % len(PRODUCTS)], "quantity": 1}
    order_id = str(uuid.uuid4())
    return order_id, {**data, "orderId": order_id, "number": f"SG-{n:08X}", "lines": [line]}


@contextmanager
def spawned_worker(
    name: str, database_url: str, settings: EventSettings, log: Path, *flags: str, relay_batch: int = 100
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        f"SHOPGRAPH_{name.upper()}_DATABASE_URL": database_url,
        "SHOPGRAPH_EVENTS_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "SHOPGRAPH_EVENTS_RELAY_BATCH_SIZE": str(relay_batch),
        # Offsets are committed after each fetched batch: large batches leave many events
        # handled but not yet committed when the kill comes.
        "SHOPGRAPH_EVENTS_CONSUMER_BATCH_SIZE": "500",
        "SHOPGRAPH_EVENTS_RELAY_IDLE_POLL_SECONDS": "0.02",
        # The killed consumer never leaves its group; its partitions wait this long for it.
        "SHOPGRAPH_EVENTS_CONSUMER_SESSION_TIMEOUT_MS": "3000",
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopgraph", "worker", name, *flags],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


async def counted_orders(stack: Any) -> Counter[str]:
    async with stack.runtime("catalog").db() as session:
        rows = await session.execute(select(ProductOrderDayRow.product_id, ProductOrderDayRow.orders))
        return Counter(dict(rows.tuples().all()))


async def test_a_relay_killed_mid_batch_loses_nothing_and_its_repeats_have_no_second_effect(
    stack: Any, database_urls: dict[str, str], event_settings: EventSettings, tmp_path: Path
) -> None:
    ids = []
    async with stack.runtime("orders").writer.begin() as session:
        for n in range(EVENTS):
            order_id, data = order_created(n)
            event = await ORDERS_EVENTS.emit(session, "order.created", tenant=TENANT, aggregate_id=order_id, data=data)
            ids.append(event.id)
    outbox = event_store("orders").outbox

    async def sent() -> int:
        async with stack.runtime("orders").db() as session:
            return int(await session.scalar(select(func.count()).where(outbox.c.sent_at.is_not(None))) or 0)

    log = tmp_path / "relay.log"
    # Small batches: the relay takes a second or so for all of them, and the kill lands while
    # one is on its way, long before the last.
    batches = {"relay_batch": 10}
    with spawned_worker("orders", database_urls["orders"], event_settings, log, "--no-consume", **batches) as relay:
        await eventually(sent, lambda n: n >= EVENTS // 10, within=60)
        relay.send_signal(signal.SIGKILL)
        relay.wait()
    marked_at_kill = await sent()
    assert marked_at_kill < EVENTS

    with spawned_worker("orders", database_urls["orders"], event_settings, log, "--no-consume", **batches):
        await eventually(sent, lambda n: n == EVENTS, within=60)
    delivered = await collect(event_settings, "order.created", count=EVENTS)
    assert {decode(m.value).id for m in delivered} == set(ids)

    async with worker("catalog", database_urls["catalog"], event_settings, relay=False):
        counts = await eventually(lambda: counted_orders(stack), lambda c: c.total() == EVENTS, within=90)
    assert counts == Counter({product: EVENTS // len(PRODUCTS) for product in PRODUCTS})


async def test_a_consumer_killed_mid_batch_handles_every_event_once_in_effect(
    stack: Any, database_urls: dict[str, str], event_settings: EventSettings, tmp_path: Path
) -> None:
    messages = []
    for n in range(EVENTS):
        order_id, data = order_created(n)
        event = new_event("order.created", source="test", tenant=TENANT, aggregate_id=order_id, data=data)
        messages.append((order_id.encode(), event.encode()))
    await send(event_settings, "order.created", messages)
    inbox = event_store("catalog").inbox

    async def handled() -> int:
        async with stack.runtime("catalog").db() as session:
            return int(await session.scalar(select(func.count()).select_from(inbox)) or 0)

    log = tmp_path / "consumer.log"
    with spawned_worker("catalog", database_urls["catalog"], event_settings, log, "--no-relay") as consumer:
        await eventually(handled, lambda n: n >= EVENTS // 4, within=60)
        consumer.send_signal(signal.SIGKILL)
        consumer.wait()
    assert await handled() < EVENTS

    with spawned_worker("catalog", database_urls["catalog"], event_settings, log, "--no-relay"):
        await eventually(handled, lambda n: n == EVENTS, within=90)
        await asyncio.sleep(0.5)  # anything redelivered late would show in the counts below

    assert await counted_orders(stack) == Counter({product: EVENTS // len(PRODUCTS) for product in PRODUCTS})
