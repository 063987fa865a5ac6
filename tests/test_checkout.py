"""Checkout through the subgraphs: a cart becomes an order with its stock held and a Stripe
PaymentIntent open, once per idempotency key, never selling more than the shelf holds."""

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from resolvers.db import new_id, utcnow
from subgraphs.catalog.tables import ReservationRow, StockRow
from subgraphs.orders.tables import CheckoutRow, OrderRow
from subgraphs.payments.tables import PaymentRow
from tests.support import factories
from tests.support.checkout import (
    check_out,
    deliver_webhooks,
    fill_cart,
    flow,
    intent,
    pay,
    payment_of,
    stripe_client,
)
from tests.support.graphql import data, error_codes


async def count(stack: Any, name: str, model: Any, *where: Any) -> int:
    async with stack.runtime(name).db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def stock(stack: Any, product_id: str) -> tuple[int, int]:
    """(on hand, reserved)."""
    async with stack.runtime("catalog").db() as session:
        row = await session.get(StockRow, product_id)
        assert row is not None
        return row.on_hand, row.reserved


async def reservation_statuses(stack: Any) -> list[str]:
    """Every reservation's status, by key (an order's attempts in order)."""
    async with stack.runtime("catalog").db() as session:
        return list(await session.scalars(select(ReservationRow.status).order_by(ReservationRow.id)))


async def intents_at_stripe(stripe_api: str, order_id: str) -> list[Any]:
    """Every PaymentIntent the Stripe test server holds for an order."""
    async with stripe_client(stripe_api) as client:
        found = await client.v1.payment_intents.list_async(params={"limit": 100})
    return [intent for intent in found.data if intent.metadata.to_dict().get("order_id") == order_id]


async def nothing_left_behind(stack: Any, product_id: str, on_hand: int) -> None:
    assert await count(stack, "orders", OrderRow) == 0
    assert await count(stack, "orders", CheckoutRow) == 0
    assert await count(stack, "payments", PaymentRow) == 0
    assert await count(stack, "catalog", ReservationRow, ReservationRow.status == "HELD") == 0
    assert await stock(stack, product_id) == (on_hand, 0)


async def test_checkout_holds_the_stock_and_opens_one_intent_for_the_cart(
    stack: Any, token: Any, stripe_api: str
) -> None:
    mug, tea = await factories.product(stack, price=1450, on_hand=10), await factories.product(stack, price=300)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 2, tea.id: 1})

    body = await check_out(stack, ada, "key-1", expectedTotal={"amount": 3200, "currency": "USD"})

    order = data(body)["checkout"]
    assert order["status"] == "PENDING_PAYMENT"
    assert order["totals"]["total"] == {"amount": 3200, "currency": "USD"}
    assert await stock(stack, mug.id) == (10, 2) and await stock(stack, tea.id) == (10, 1)
    payment = await payment_of(stack, ada, order["id"])
    assert payment["status"] == "REQUIRES_PAYMENT_METHOD" and payment["amount"] == {"amount": 3200, "currency": "USD"}
    assert payment["clientSecret"].startswith(payment["providerRef"])
    opened = await intent(stripe_api, payment["providerRef"])
    assert (opened.amount, opened.currency, opened.metadata["order_id"]) == (3200, "usd", order["id"])


async def test_the_same_key_sent_ten_times_at_once_makes_one_order_reservation_and_intent(
    stack: Any, token: Any, stripe_api: str
) -> None:
    mug = await factories.product(stack, on_hand=10)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 3})

    bodies = await asyncio.gather(*(check_out(stack, ada, "same-key") for _ in range(10)))

    order_id = data(bodies[0])["checkout"]["id"]
    assert {data(body)["checkout"]["id"] for body in bodies} == {order_id}
    assert await count(stack, "orders", OrderRow) == 1
    assert await count(stack, "catalog", ReservationRow) == 1
    assert await count(stack, "payments", PaymentRow) == 1
    assert await stock(stack, mug.id) == (10, 3)
    assert len(await intents_at_stripe(stripe_api, order_id)) == 1


async def test_the_same_key_with_other_input_is_a_conflict_and_after_success_the_same_order(
    stack: Any, token: Any
) -> None:
    mug = await factories.product(stack)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 1})

    first = data(await check_out(stack, ada, "k"))["checkout"]
    again = data(await check_out(stack, ada, "k"))["checkout"]
    other = await check_out(stack, ada, "k", note="leave it at the door")

    assert again == first
    assert error_codes(other) == ["CONFLICT"]
    assert await count(stack, "orders", OrderRow) == 1


async def test_twenty_shoppers_for_the_last_five_units_make_exactly_five_orders(stack: Any, token: Any) -> None:
    last = await factories.product(stack, on_hand=5)
    shoppers = [token(f"shopper-{n}", email=f"s{n}@example.com") for n in range(20)]
    for shopper in shoppers:
        await fill_cart(stack, shopper, {last.id: 1})

    bodies = await asyncio.gather(*(check_out(stack, shopper, "buy") for shopper in shoppers))

    outcomes = sorted(error_codes(body)[0] if "errors" in body else "ORDERED" for body in bodies)
    assert outcomes == ["INSUFFICIENT_STOCK"] * 15 + ["ORDERED"] * 5
    assert await stock(stack, last.id) == (5, 5)
    assert await count(stack, "catalog", ReservationRow, ReservationRow.status == "HELD") == 5
    assert await count(stack, "payments", PaymentRow) == 5


async def test_each_refusal_has_its_own_code_and_leaves_nothing_behind(stack: Any, token: Any) -> None:
    mug = await factories.product(stack, price=1450, on_hand=3)
    gone = await factories.product(stack, price=500, on_hand=3)
    ada, bob, cy, dee = (token(name, email=f"{name}@example.com") for name in ("ada", "bob", "cy", "dee"))
    await fill_cart(stack, bob, {mug.id: 1, gone.id: 1})
    await fill_cart(stack, cy, {mug.id: 2})
    await fill_cart(stack, dee, {mug.id: 1})
    admin = token("admin", scopes=("catalog:write",))
    await stack.client("catalog")("mutation($id: ID!) { archiveProduct(id: $id) { id } }", {"id": gone.id}, token=admin)
    await stack.client("catalog")(
        "mutation($id: ID!) { updateProduct(id: $id, input: {priceAmount: 1500}) { id } }", {"id": mug.id}, token=admin
    )

    empty = await check_out(stack, ada, "a")
    archived = await check_out(stack, bob, "b")
    repriced = await check_out(stack, cy, "c", expectedTotal={"amount": 2900, "currency": "USD"})
    short = await check_out(stack, dee, "d", note="x" * 501)
    await fill_cart(stack, dee, {mug.id: 3})
    too_many = await check_out(stack, dee, "d")

    assert error_codes(empty) == ["CART_EMPTY"]
    assert error_codes(archived) == ["PRODUCT_UNAVAILABLE"]
    assert archived["errors"][0]["extensions"]["productIds"] == [gone.id]
    assert error_codes(repriced) == ["PRICE_CHANGED"]
    assert repriced["errors"][0]["extensions"]["total"] == {"amount": 3000, "currency": "USD"}
    assert error_codes(short) == ["BAD_USER_INPUT"]
    assert error_codes(too_many) == ["INSUFFICIENT_STOCK"]
    assert too_many["errors"][0]["extensions"]["available"] == {mug.id: 3}
    await nothing_left_behind(stack, mug.id, 3)
    # Fixed, the same key goes through: a refusal is not remembered against it.
    accepted = await check_out(stack, cy, "c", expectedTotal={"amount": 3000, "currency": "USD"})
    assert data(accepted)["checkout"]["status"] == "PENDING_PAYMENT"


async def test_one_shopper_cannot_hold_stock_without_bound_under_new_keys(stack: Any, token: Any) -> None:
    mug = await factories.product(stack, on_hand=100)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 5})

    # Eight keys at once for one cart: the default allows three unpaid orders per shopper.
    bodies = await asyncio.gather(*(check_out(stack, ada, f"tab-{n}") for n in range(8)))

    outcomes = sorted(error_codes(body)[0] if "errors" in body else "ORDERED" for body in bodies)
    assert outcomes == ["ORDERED"] * 3 + ["TOO_MANY_PENDING_CHECKOUTS"] * 5
    assert await stock(stack, mug.id) == (100, 15)
    assert await count(stack, "orders", CheckoutRow) == 3
    # Cancelling one frees its place (and its stock) for the next checkout.
    placed = next(data(body)["checkout"]["id"] for body in bodies if "errors" not in body)
    cancel = "mutation($id: ID!) { cancelOrder(id: $id) { status } }"
    assert data(await stack.client("orders")(cancel, {"id": placed}, token=ada))["cancelOrder"]["status"] == "CANCELLED"
    assert data(await check_out(stack, ada, "tab-9"))["checkout"]["status"] == "PENDING_PAYMENT"


async def test_retried_payments_count_against_the_cap_even_when_sent_at_once(
    stack: Any, token: Any, stripe_api: str
) -> None:
    mug = await factories.product(stack, on_hand=100)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 1})
    # Three orders whose payment failed (they hold no stock), and two awaiting payment.
    failed = []
    for n in range(3):
        order = data(await check_out(stack, ada, f"declined-{n}"))["checkout"]
        payment = await payment_of(stack, ada, order["id"])
        await pay(stripe_api, payment["providerRef"], "pm_card_chargeCustomerFail")
        await deliver_webhooks(stack, stripe_api, payment["providerRef"])
        await flow(stack)
        failed.append(order["id"])
    for n in range(2):
        data(await check_out(stack, ada, f"waiting-{n}"))

    retry = "mutation($id: ID!) { retryPayment(orderId: $id) { status } }"
    bodies = await asyncio.gather(*(stack.client("orders")(retry, {"id": o}, token=ada) for o in failed))

    outcomes = sorted(error_codes(b)[0] if "errors" in b else b["data"]["retryPayment"]["status"] for b in bodies)
    assert outcomes == ["PENDING_PAYMENT", "TOO_MANY_PENDING_CHECKOUTS", "TOO_MANY_PENDING_CHECKOUTS"]
    assert await stock(stack, mug.id) == (100, 3)


async def test_a_checkout_whose_process_died_no_longer_counts_against_the_cap(stack: Any, token: Any) -> None:
    mug = await factories.product(stack, on_hand=100)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {mug.id: 1})
    lapsed = utcnow() - timedelta(seconds=1)
    async with stack.runtime("orders").writer.begin() as session:
        for n in range(3):
            session.add(
                CheckoutRow(
                    tenant_id="acme",
                    user_id="ada",
                    idempotency_key=f"died-{n}",
                    request_hash="0" * 64,
                    order_id=new_id(),
                    lease_until=lapsed,
                )
            )

    body = await check_out(stack, ada, "after-the-crash")

    assert data(body)["checkout"]["status"] == "PENDING_PAYMENT"
