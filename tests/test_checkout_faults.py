"""Checkout when the services it calls fail: a clear error, fast when a service keeps failing,
and no stock left held, even when orders itself dies half-way."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from resolvers.db import utcnow
from shopgraph.registry import app_factory
from subgraphs.catalog.jobs import release_expired
from subgraphs.catalog.tables import ReservationRow
from tests.conftest import subgraph_settings
from tests.support import factories
from tests.support.checkout import checkout_input, fill_cart
from tests.support.graphql import GraphQLClient, error_codes
from tests.support.kafka import eventually
from tests.test_checkout import count, nothing_left_behind, stock

CHECKOUT = "mutation($input: CheckoutInput!) { checkout(input: $input) { id status } }"


class Outage(httpx.AsyncBaseTransport):
    """The stack's network with some hosts down (refusing connections) or hanging."""

    def __init__(
        self, stack: Any, *, down: frozenset[str] = frozenset(), hanging: frozenset[str] = frozenset()
    ) -> None:
        self.stack, self.down, self.hanging = stack, down, hanging
        self.calls: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.calls[host] = self.calls.get(host, 0) + 1
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if host in self.hanging:
            await asyncio.Event().wait()
        response: httpx.Response = await self.stack.transport.handle_async_request(request)
        return response


@asynccontextmanager
async def orders_behind(stack: Any, outage: Outage, database_url: str, stripe_api: str) -> AsyncIterator[GraphQLClient]:
    """An orders process of its own (its own breakers), reaching the others through ``outage``."""
    settings = subgraph_settings("orders", database_url, stripe_api, breaker_threshold=3, breaker_seconds=30)
    app = app_factory("orders")(settings, http_transport=outage)
    async with LifespanManager(app):
        yield GraphQLClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orders.test"))


async def test_payments_down_is_a_clear_error_and_the_reservation_goes_back(
    stack: Any, token: Any, database_urls: dict[str, str], stripe_api: str
) -> None:
    mug = await factories.product(stack, on_hand=4)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 2})

    async with orders_behind(
        stack, Outage(stack, down=frozenset({"payments.test"})), database_urls["orders"], stripe_api
    ) as orders:
        body = await orders(CHECKOUT, {"input": checkout_input("k")}, token=ada)

    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
    assert body["errors"][0]["extensions"]["service"] == "payments"
    await nothing_left_behind(stack, mug.id, 4)
    assert await count(stack, "catalog", ReservationRow, ReservationRow.status == "RELEASED") == 1


async def test_with_the_catalog_down_the_breaker_opens_and_checkout_fails_fast(
    stack: Any, token: Any, database_urls: dict[str, str], stripe_api: str
) -> None:
    mug = await factories.product(stack)
    shoppers = [token(f"s{n}", email=f"s{n}@example.com") for n in range(5)]
    for shopper in shoppers:
        await fill_cart(stack, shopper, {mug.id: 1})
    outage = Outage(stack, down=frozenset({"catalog.test"}))

    async with orders_behind(stack, outage, database_urls["orders"], stripe_api) as orders:
        failing = [await orders(CHECKOUT, {"input": checkout_input("k")}, token=s) for s in shoppers[:3]]
        tried = outage.calls["catalog.test"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        fast = [await orders(CHECKOUT, {"input": checkout_input("k")}, token=s) for s in shoppers[3:]]
        elapsed = loop.time() - started

    assert [error_codes(body) for body in failing + fast] == [["SERVICE_UNAVAILABLE"]] * 5
    assert tried == 9  # three calls, each tried three times
    assert outage.calls["catalog.test"] == tried  # once open, the breaker does not call at all
    assert "failing" in fast[0]["errors"][0]["message"]
    assert elapsed < 0.5


async def test_an_orders_process_dying_between_reserve_and_commit_leaves_a_reservation_that_expires(
    stack: Any, token: Any, database_urls: dict[str, str], stripe_api: str
) -> None:
    mug = await factories.product(stack, on_hand=4)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 2})

    async with orders_behind(
        stack, Outage(stack, hanging=frozenset({"payments.test"})), database_urls["orders"], stripe_api
    ) as orders:
        checkout = asyncio.create_task(orders(CHECKOUT, {"input": checkout_input("k")}, token=ada))
        await eventually(lambda: count(stack, "catalog", ReservationRow), lambda held: held == 1)
        checkout.cancel()  # the process dies: nothing after this line of its runs
        await asyncio.gather(checkout, return_exceptions=True)

    held = await stock(stack, mug.id)
    sessions = stack.runtime("catalog").writer
    too_soon = await release_expired(sessions, now=utcnow() + timedelta(minutes=30))
    expired = await release_expired(sessions, now=utcnow() + timedelta(minutes=41))

    assert held == (4, 2)
    assert (too_soon, expired) == (0, 1)
    assert await stock(stack, mug.id) == (4, 0)
    async with stack.runtime("catalog").db() as session:
        assert list(await session.scalars(select(ReservationRow.status))) == ["RELEASED"]
