"""Checkout, measured end to end: the whole system as real processes (router, five subgraphs,
their event workers, the Stripe test server, the SMTP sink, the local Kafka broker), shoppers
checking out concurrently through the router, then paying at the Stripe test server.

Reports checkouts per second and the checkout mutation's p50/p99 latency under
``--concurrency`` shoppers at once, how long paying all of them took to settle (every order
PAID and mailed), and the consistency counts after the run: orders by status, reservations by
status, PaymentIntents at Stripe, payments, mails in the sink, and the stock.

    .venv/bin/python -m bench.checkout [--checkouts 200] [--concurrency 8] [--postgres]
"""

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy import func, select

from bench.grid import drop, prepare
from devstack import tokens
from devstack.oidc.keys import KeyRing
from devstack.smtp import messages
from resolvers.db import create_engine
from resolvers.scopes import SHOPPER_SCOPES
from shopgraph.system import Ports, System, SystemConfig, running
from subgraphs.catalog.tables import ReservationRow, StockRow
from subgraphs.orders.tables import OrderRow
from subgraphs.payments.tables import PaymentRow

TENANT = "demo"
ADDRESS = {"recipient": "Bench", "line1": "1 Main St", "city": "Springfield", "postalCode": "1", "country": "US"}
CHECKOUT = "mutation($input: CheckoutInput!) { checkout(input: $input) { id payment { providerRef } } }"
ON_HAND = 100_000
CREATE = """
mutation { createProduct(input: {sku: "BENCH-1", name: "Bench mug", price: {amount: 1450, currency: "USD"}}) { id } }
"""
SET_STOCK = "mutation($p: ID!, $n: Int!) { setStock(productId: $p, onHand: $n) { id } }"
ADD = "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { id } }"


async def ask(http: httpx.AsyncClient, url: str, query: str, token: str, variables: dict[str, Any]) -> Any:
    response = await http.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", "X-Tenant-Id": TENANT},
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def setup(system: System, shoppers: int) -> tuple[str, list[str]]:
    """A product with plenty of stock and a cart holding one unit of it per shopper."""
    key = KeyRing(system.config.key_file).signing_key
    url = system.config.router_url

    def mint(subject: str, scopes: tuple[str, ...]) -> str:
        return tokens.mint(key, subject, scopes=scopes, tenant=TENANT, issuer=system.config.issuer)

    admin = mint("bench-admin", ("catalog:write", "inventory:write"))
    async with httpx.AsyncClient(timeout=60) as http:
        created = await ask(
            http,
            url,
            CREATE,
            admin,
            {},
        )
        product = created["createProduct"]["id"]
        await ask(http, url, SET_STOCK, admin, {"p": product, "n": ON_HAND})
        people = [mint(f"bench-{n}", SHOPPER_SCOPES) for n in range(shoppers)]
        for token in people:
            await ask(http, url, ADD, token, {"p": product})
    return product, people


async def check_out_all(url: str, people: list[str], concurrency: int) -> tuple[float, list[float], list[str]]:
    """(wall seconds, each checkout's seconds, the intents to pay)."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    intents: list[str] = []

    async def one(http: httpx.AsyncClient, n: int, token: str) -> None:
        async with gate:
            started = time.perf_counter()
            data = await ask(
                http,
                url,
                CHECKOUT,
                token,
                {"input": {"idempotencyKey": f"bench-{n}", "shippingAddress": ADDRESS, "email": f"b{n}@example.com"}},
            )
            latencies.append(time.perf_counter() - started)
            intents.append(data["checkout"]["payment"]["providerRef"])

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one(http, n, token) for n, token in enumerate(people)))
        return time.perf_counter() - started, latencies, intents


async def pay_all(stripe_api: str, intents: list[str], concurrency: int) -> None:
    http = stripe.HTTPXClient()
    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": stripe_api}, http_client=http)
    gate = asyncio.Semaphore(concurrency)

    async def one(intent: str) -> None:
        async with gate:
            await client.v1.payment_intents.update_async(intent, params={"payment_method": "pm_card_visa"})
            await client.v1.payment_intents.confirm_async(intent)

    try:
        await asyncio.gather(*(one(intent) for intent in intents))
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


async def counts(urls: dict[str, str], product: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, query in (
        ("orders", select(OrderRow.status, func.count()).group_by(OrderRow.status)),
        ("catalog", select(ReservationRow.status, func.count()).group_by(ReservationRow.status)),
        ("payments", select(PaymentRow.status, func.count()).group_by(PaymentRow.status)),
    ):
        engine = create_engine(urls[name])
        async with engine.connect() as connection:
            found[name] = dict((await connection.execute(query)).tuples().all())
            if name == "catalog":
                stock = (await connection.execute(select(StockRow).where(StockRow.product_id == product))).one()
                found["stock"] = (stock.on_hand, stock.reserved)
            if name == "payments":
                refs = await connection.execute(select(func.count(func.distinct(PaymentRow.provider_ref))))
                found["intents"] = refs.scalar_one()
        await engine.dispose()
    return found


async def settle(urls: dict[str, str], maildir: Path, expected: int, *, within: float = 300.0) -> float:
    """Seconds until every order is PAID, mailed, and its reservation a sale."""
    started = time.perf_counter()
    orders, catalog = create_engine(urls["orders"]), create_engine(urls["catalog"])
    paid_orders = select(func.count()).where(OrderRow.user_id.like("bench-%"), OrderRow.status == "PAID")
    sold = select(func.count()).where(ReservationRow.status == "COMMITTED")
    try:
        while time.perf_counter() - started < within:
            async with orders.connect() as connection:
                paid = (await connection.execute(paid_orders)).scalar_one()
            async with catalog.connect() as connection:
                committed = (await connection.execute(sold)).scalar_one()
            if min(paid, committed, len(messages(maildir))) >= expected:
                break
            await asyncio.sleep(0.2)
    finally:
        await orders.dispose()
        await catalog.dispose()
    return time.perf_counter() - started


def run(var: Path, checkouts: int, concurrency: int, postgres: bool) -> None:
    urls, databases = asyncio.run(prepare(var, postgres))
    config = SystemConfig(
        ports=Ports.free(first_offset=300), var=var, database_urls=urls, default_tenant=None, rate_limit=1_000_000
    )
    try:
        with running(config) as system:
            product, people = asyncio.run(setup(system, checkouts))
            wall, latencies, intents = asyncio.run(check_out_all(config.router_url, people, concurrency))
            paying = time.perf_counter()
            asyncio.run(pay_all(config.stripe_url, intents, concurrency))
            paid = time.perf_counter() - paying
            settled = asyncio.run(settle(urls, config.maildir, checkouts))
            found = asyncio.run(counts(urls, product))
            mails = len(messages(config.maildir))
    finally:
        asyncio.run(drop(databases))

    cuts = statistics.quantiles(latencies, n=100)
    backend = "PostgreSQL" if postgres else "SQLite"
    machine = f"{platform.python_version()}, {os.cpu_count()} cores"
    print(f"{backend}, {machine}, {checkouts} checkouts, {concurrency} at once")
    print(f"checkouts:            {checkouts / wall:8.1f} /s")
    print(f"checkout latency:     p50 {cuts[49] * 1000:.0f} ms   p99 {cuts[98] * 1000:.0f} ms")
    print(f"paying all:           {paid:8.1f} s at Stripe; every order PAID, mailed and sold {settled:.1f} s later")
    print(f"orders by status:     {found['orders']}")
    print(f"reservations:         {found['catalog']}")
    print(f"payments by status:   {found['payments']}   distinct intents: {found['intents']}")
    print(f"mails in the sink:    {mails}")
    print(f"stock (on hand, reserved): {found['stock']}   expected ({ON_HAND - checkouts}, 0)")
    most = Counter(intents).most_common(1)[0][1]
    print(f"intents paid:         {len(set(intents))} for {len(intents)} checkouts ({most} at most per intent)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        run(Path(var), args.checkouts, args.concurrency, args.postgres)


if __name__ == "__main__":
    main()
