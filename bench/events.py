"""Events, measured end to end: orders placed (each with its `order.created` in the outbox, one
transaction per order, as a mutation writes it), the orders relay publishing to the local
Kafka broker, and the catalog's consumer counting them, each worker in its own process.

Reports events per second through outbox, relay and consumer when orders arrive as fast as
four writers can place them, and the commit-to-handled latency (p50, p99) both under that load
and at a steady rate well below it.

    .venv/bin/python -m bench.events [--events 3000] [--rate 20] [--postgres]
"""

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.grid import drop, prepare
from devstack.broker import Broker
from resolvers.db import create_engine, writer
from shopgraph.contracts import ROOT
from shopgraph.registry import event_store, topics
from subgraphs.catalog.tables import ProductRow
from subgraphs.orders import services as orders
from tests.support.kafka import free_port

WRITERS = 4


async def place(engine: AsyncEngine, product_ids: list[str], count: int, *, rate: float | None) -> None:
    """``count`` one-line orders from ``WRITERS`` concurrent writers, paced to ``rate`` per second
    when given."""
    sessions = writer(engine)
    started = time.perf_counter()

    async def one(n: int) -> None:
        if rate:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        line = orders.LineDraft(product_ids[n % len(product_ids)], "SKU", "Thing", 500, 1)
        address: dict[str, str | None] = {
            "recipient": "Ada",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "1",
            "country": "US",
        }
        async with sessions.begin() as session:
            await orders.place_order(
                "demo", f"bench-{n}", [line], currency="USD", shipping_address=address, session=session
            )

    async def writer_loop(offset: int) -> None:
        for n in range(offset, count, WRITERS):
            await one(n)

    await asyncio.gather(*(writer_loop(offset) for offset in range(WRITERS)))


async def latencies(orders_engine: AsyncEngine, catalog_engine: AsyncEngine, since: datetime) -> list[float]:
    """Seconds from each event's commit (its outbox row's time) to its handling (its inbox row)."""
    outbox, inbox = event_store("orders").outbox, event_store("catalog").inbox
    async with orders_engine.connect() as connection:
        written = dict(
            (
                await connection.execute(
                    select(outbox.c.event_id, outbox.c.created_at).where(outbox.c.created_at >= since)
                )
            )
            .tuples()
            .all()
        )
    async with catalog_engine.connect() as connection:
        handled = dict(
            (
                await connection.execute(
                    select(inbox.c.event_id, inbox.c.processed_at).where(inbox.c.processed_at >= since)
                )
            )
            .tuples()
            .all()
        )
    return [(handled[event] - at).total_seconds() for event, at in written.items() if event in handled]


async def wait_handled(catalog_engine: AsyncEngine, since: datetime, count: int) -> float:
    inbox = event_store("catalog").inbox
    while True:
        async with catalog_engine.connect() as connection:
            done = len((await connection.execute(select(inbox.c.event_id).where(inbox.c.processed_at >= since))).all())
        if done >= count:
            return time.perf_counter()
        await asyncio.sleep(0.02)


def milliseconds(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return f"{cuts[49] * 1000:6.0f} / {cuts[98] * 1000:.0f} ms"


async def run(var: Path, events: int, rate: float, postgres: bool) -> None:
    urls, databases = await prepare(var, postgres)
    broker = Broker(free_port(), topics(), log=var / "broker.log")
    await broker.start()
    env = {
        **os.environ,
        "SHOPGRAPH_EVENTS_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "SHOPGRAPH_ORDERS_DATABASE_URL": urls["orders"],
        "SHOPGRAPH_CATALOG_DATABASE_URL": urls["catalog"],
    }
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            *["-m", "shopgraph", "worker", *arguments],
            cwd=ROOT,
            env=env,
            stdout=(var / f"{arguments[0]}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        for arguments in (["orders", "--no-consume"], ["catalog", "--no-relay"])
    ]
    orders_engine, catalog_engine = create_engine(urls["orders"]), create_engine(urls["catalog"])
    try:
        async with catalog_engine.connect() as connection:
            products = list((await connection.execute(select(ProductRow.id))).scalars())
        # Warm up: the workers start and the consumer joins its group.
        since = datetime.now().astimezone()
        await place(orders_engine, products, 20, rate=None)
        await wait_handled(catalog_engine, since, 20)

        since = datetime.now().astimezone()
        started = time.perf_counter()
        await place(orders_engine, products, events, rate=None)
        written = time.perf_counter()
        finished = await wait_handled(catalog_engine, since, events)
        flood = await latencies(orders_engine, catalog_engine, since)

        since = datetime.now().astimezone()
        steady_count = int(rate * 10)
        await place(orders_engine, products, steady_count, rate=rate)
        await wait_handled(catalog_engine, since, steady_count)
        steady = await latencies(orders_engine, catalog_engine, since)
    finally:
        for worker in workers:
            worker.terminate()
            await worker.wait()
        await broker.stop()
        await orders_engine.dispose()
        await catalog_engine.dispose()
        await drop(databases)

    backend = "PostgreSQL" if postgres else "SQLite"
    print(f"{backend}, {platform.python_version()}, {os.cpu_count()} cores, {events} events")
    print(f"outbox writes (orders placed):      {events / (written - started):8.0f} /s")
    print(f"through relay and consumer:         {events / (finished - started):8.0f} /s")
    print(f"commit to handled, flood   p50/p99: {milliseconds(flood)}")
    print(f"commit to handled, {rate:.0f}/s    p50/p99: {milliseconds(steady)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second in the steady phase")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        asyncio.run(run(Path(var), args.events, args.rate, args.postgres))


if __name__ == "__main__":
    main()
