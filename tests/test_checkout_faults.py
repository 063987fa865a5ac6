"""Checkout when the services it calls fail: a clear error, fast when a service keeps failing,
and no stock left held, even when orders itself dies half-way."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from resolvers.db import utcnow
from shopgraph.registry import app_factory
from subgraphs.catalog.jobs import release_expired
from subgraphs.catalog.tables import ReservationRow
from subgraphs.orders.tables import OrderRow
from tests.conftest import subgraph_settings
from tests.support import factories
from tests.support.checkout import (
    CHECKOUT,
    checkout_input,
    deliver_webhooks,
    fill_cart,
    flow,
    order_status,
    pay,
    payment_of,
)
from tests.support.graphql import GraphQLClient, data, error_codes
from tests.test_checkout import count, nothing_left_behind, reservation_statuses, stock
from tests.test_order_lifecycle import ordered

RETRY = "mutation($id: ID!) { retryPayment(orderId: $id) { status } }"


class ProcessDied(BaseException):
    """The orders process stops dead where this is raised: no code of its runs after it."""


class Outage(httpx.AsyncBaseTransport):
    """The stack's network with some hosts down (refusing connections), or the orders process
    dying when it calls one."""

    def __init__(self, stack: Any, *, down: frozenset[str] = frozenset(), fatal: frozenset[str] = frozenset()) -> None:
        self.stack, self.down, self.fatal = stack, down, fatal
        self.calls: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.calls[host] = self.calls.get(host, 0) + 1
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if host in self.fatal:
            raise ProcessDied
        response: httpx.Response = await self.stack.transport.handle_async_request(request)
        return response


@asynccontextmanager
async def orders_behind(
    stack: Any, outage: Outage, database_url: str, stripe_api: str, **settings: Any
) -> AsyncIterator[GraphQLClient]:
    """An orders process of its own (its own breakers), reaching the others through ``outage``."""
    settings = subgraph_settings(
        "orders", database_url, stripe_api, breaker_threshold=3, breaker_seconds=30, **settings
    )
    app = app_factory("orders")(settings, http_transport=outage)
    async with LifespanManager(app):
        yield GraphQLClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orders.test"))


async def two_in_adas_cart(stack: Any, token: Any, *, on_hand: int) -> tuple[Any, str]:
    """A product, and ada's cart holding two of it: (the product, ada's token)."""
    mug = await factories.product(stack, on_hand=on_hand)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 2})
    return mug, ada


async def test_payments_down_is_a_clear_error_and_the_reservation_goes_back(
    stack: Any, token: Any, database_urls: dict[str, str], stripe_api: str
) -> None:
    mug, ada = await two_in_adas_cart(stack, token, on_hand=4)

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
    mug, ada = await two_in_adas_cart(stack, token, on_hand=4)
    dying = Outage(stack, fatal=frozenset({"payments.test"}))

    async with orders_behind(stack, dying, database_urls["orders"], stripe_api) as orders:
        with pytest.raises(ProcessDied):
            await orders(CHECKOUT, {"input": checkout_input("k")}, token=ada)

    held = await stock(stack, mug.id)
    sessions = stack.runtime("catalog").writer
    too_soon = await release_expired(sessions, now=utcnow() + timedelta(minutes=30))
    expired = await release_expired(sessions, now=utcnow() + timedelta(minutes=41))

    assert held == (4, 2)
    assert (too_soon, expired) == (0, 1)
    assert await stock(stack, mug.id) == (4, 0)
    assert await reservation_statuses(stack) == ["RELEASED"]


async def test_the_same_key_after_its_checkout_died_takes_it_over_and_undoes_what_it_held(
    stack: Any, token: Any, database_urls: dict[str, str], stripe_api: str
) -> None:
    mug, ada = await two_in_adas_cart(stack, token, on_hand=4)
    dying = Outage(stack, fatal=frozenset({"payments.test"}))
    url = database_urls["orders"]

    async with orders_behind(stack, dying, url, stripe_api, checkout_lease_seconds=0.2) as orders:
        with pytest.raises(ProcessDied):
            await orders(CHECKOUT, {"input": checkout_input("k")}, token=ada)
    await asyncio.sleep(0.3)
    async with orders_behind(stack, Outage(stack), url, stripe_api, checkout_lease_seconds=0.2) as orders:
        placed = data(await orders(CHECKOUT, {"input": checkout_input("k")}, token=ada))["checkout"]

    assert placed["status"] == "PENDING_PAYMENT"
    assert await count(stack, "orders", OrderRow) == 1
    assert await reservation_statuses(stack) == ["RELEASED", "HELD"]  # attempt 1, attempt 2
    assert await stock(stack, mug.id) == (4, 2)


async def test_a_retry_that_fails_holds_nothing_and_the_next_retry_pays(
    stack: Any, token: Any, database_urls: dict[str, str], stripe_api: str
) -> None:
    product, ada, order_id = await ordered(stack, token)
    first = await payment_of(stack, ada, order_id)
    await pay(stripe_api, first["providerRef"], "pm_card_chargeCustomerFail")
    await deliver_webhooks(stack, stripe_api, first["providerRef"])
    await flow(stack)
    retry = {"id": order_id}

    down = Outage(stack, down=frozenset({"payments.test"}))
    async with orders_behind(stack, down, database_urls["orders"], stripe_api) as orders:
        failed = await orders(RETRY, retry, token=ada)
    after_failure = (await order_status(stack, ada, order_id), await stock(stack, product.id))
    retried = data(await stack.client("orders")(RETRY, retry, token=ada))["retryPayment"]
    third = await payment_of(stack, ada, order_id)
    await pay(stripe_api, third["providerRef"])
    await deliver_webhooks(stack, stripe_api, third["providerRef"])
    await flow(stack)

    assert error_codes(failed) == ["SERVICE_UNAVAILABLE"]
    assert after_failure == ("PAYMENT_FAILED", (10, 0))
    assert retried["status"] == "PENDING_PAYMENT" and third["attempt"] == 3
    assert await order_status(stack, ada, order_id) == "PAID"
    assert await reservation_statuses(stack) == ["RELEASED", "RELEASED", "COMMITTED"]
    assert await stock(stack, product.id) == (8, 0)
