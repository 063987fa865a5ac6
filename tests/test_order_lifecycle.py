"""After checkout: Stripe's word reaches payments (webhook, or polling when none comes), the order
follows, and the stock, the cart, the payment and the confirmation mail agree with it."""

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from devstack.smtp import messages
from resolvers.db import utcnow
from subgraphs.orders import notifications
from subgraphs.orders.jobs import expire_unpaid
from subgraphs.orders.tables import NotificationRow
from subgraphs.payments.jobs import poll_unsettled
from tests.support import factories
from tests.support.checkout import (
    check_out,
    deliver_webhooks,
    fill_cart,
    flow,
    handle,
    intent,
    order_status,
    pay,
    payment_of,
    signed,
    stripe_client,
    stripe_events,
)
from tests.support.graphql import data, error_codes
from tests.support.kafka import free_port
from tests.test_checkout import count, reservation_statuses, stock

CART = "{ me { cart { itemCount } } }"
RETRY = "mutation($id: ID!) { retryPayment(orderId: $id) { id status } }"
CANCEL = "mutation($id: ID!) { cancelOrder(id: $id) { status } }"
FULFIL = "mutation($id: ID!) { markFulfilled(id: $id) { status } }"
REFUND = "mutation($p: ID!, $a: Int!, $k: String) { refundPayment(paymentId: $p, amount: $a, idempotencyKey: $k) { status refunded { amount } refunds { amount { amount } } } }"


async def ordered(
    stack: Any, token: Any, *, on_hand: int = 10, quantity: int = 2, price: int = 1450
) -> tuple[Any, str, str]:
    """A product, and an order of ``quantity`` of it by ada: (product, ada's token, order id)."""
    product = await factories.product(stack, price=price, on_hand=on_hand, name="Blue mug")
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {product.id: quantity})
    order = data(await check_out(stack, ada, f"key-{product.id}"))["checkout"]
    return product, ada, order["id"]


async def cart_items(stack: Any, ada: str) -> int:
    body = await stack.client("carts")(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { cart { itemCount } } } }",
        {"r": [{"__typename": "User", "id": "ada"}]},
        token=ada,
    )
    cart = data(body)["_entities"][0]["cart"]
    return int(cart["itemCount"]) if cart else 0


async def test_a_paid_order_sells_its_stock_empties_the_cart_and_mails_one_confirmation(
    stack: Any, token: Any, stripe_api: str, mail_sink: tuple[int, Path]
) -> None:
    product, ada, order_id = await ordered(stack, token)
    payment = await payment_of(stack, ada, order_id)

    assert await pay(stripe_api, payment["providerRef"]) == "succeeded"
    answers = await deliver_webhooks(stack, stripe_api, payment["providerRef"])
    await flow(stack)
    port, maildir = mail_sink
    settings = stack.runtime("orders").settings.model_copy(update={"smtp_port": port})
    sent = await notifications.send_queued(stack.runtime("orders").writer, settings)

    assert [answer.status_code for answer in answers] == [200]
    assert await order_status(stack, ada, order_id) == "PAID"
    assert (await payment_of(stack, ada, order_id))["status"] == "SUCCEEDED"
    assert await stock(stack, product.id) == (8, 0)
    assert await cart_items(stack, ada) == 0
    assert sent == 1
    [mail] = messages(maildir)
    number = data(
        await stack.client("orders")("query($id: ID!) { order(id: $id) { number } }", {"id": order_id}, token=ada)
    )
    assert mail["To"] == "ada@example.com" and number["order"]["number"] in mail["Subject"]
    text = mail.get_payload()
    assert "2 x Blue mug" in text and "Total: 29.00 USD" in text
    assert await notifications.send_queued(stack.runtime("orders").writer, settings) == 0


async def test_a_declined_card_fails_the_order_releases_its_stock_and_a_retry_can_pay(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product, ada, order_id = await ordered(stack, token)
    first = await payment_of(stack, ada, order_id)

    assert await pay(stripe_api, first["providerRef"], "pm_card_chargeCustomerFail") == "requires_payment_method"
    await deliver_webhooks(stack, stripe_api, first["providerRef"])
    await flow(stack)

    assert await order_status(stack, ada, order_id) == "PAYMENT_FAILED"
    assert await stock(stack, product.id) == (10, 0)
    assert (await intent(stripe_api, first["providerRef"])).status == "canceled"

    retried = data(await stack.client("orders")(RETRY, {"id": order_id}, token=ada))["retryPayment"]
    second = await payment_of(stack, ada, order_id)
    assert retried["status"] == "PENDING_PAYMENT" and second["attempt"] == 2
    assert second["providerRef"] != first["providerRef"] and await stock(stack, product.id) == (10, 2)

    await pay(stripe_api, second["providerRef"])
    await deliver_webhooks(stack, stripe_api, second["providerRef"])
    await flow(stack)

    assert await order_status(stack, ada, order_id) == "PAID"
    assert await stock(stack, product.id) == (8, 0)
    assert await reservation_statuses(stack) == ["RELEASED", "COMMITTED"]  # attempt 1, attempt 2


async def test_webhooks_with_a_bad_signature_or_an_old_timestamp_are_refused_and_repeats_ignored(
    stack: Any, token: Any, stripe_api: str
) -> None:
    _product, ada, order_id = await ordered(stack, token)
    payment = await payment_of(stack, ada, order_id)
    await pay(stripe_api, payment["providerRef"])
    [event] = await stripe_events(stripe_api, payment["providerRef"])
    payload = orjson.dumps(event)
    http = stack.client("payments").http

    tampered = await http.post(
        "/webhooks/stripe", content=payload.replace(b"succeeded", b"SUCCEEDED"), headers=signed(payload)
    )
    forged = await http.post("/webhooks/stripe", content=payload, headers=signed(payload, secret="whsec_guess"))
    stale = await http.post(
        "/webhooks/stripe", content=payload, headers=signed(payload, at=int(utcnow().timestamp()) - 301)
    )
    refused = await payment_of(stack, ada, order_id)
    first = await http.post("/webhooks/stripe", content=payload, headers=signed(payload))
    again = await http.post("/webhooks/stripe", content=payload, headers=signed(payload))
    carried = await flow(stack)

    assert [tampered.status_code, forged.status_code, stale.status_code] == [400, 400, 400]
    assert tampered.json()["code"] == "BAD_SIGNATURE"
    assert refused["status"] == "REQUIRES_PAYMENT_METHOD"
    assert (first.status_code, again.status_code, again.json()["duplicate"]) == (200, 200, True)
    assert [e.type for e in carried].count("payment.success") == 1
    assert await order_status(stack, ada, order_id) == "PAID"


async def test_an_outcome_that_does_not_fit_the_order_is_recorded_and_ignored(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product, ada, order_id = await ordered(stack, token)
    payment = await payment_of(stack, ada, order_id)
    await pay(stripe_api, payment["providerRef"])
    await deliver_webhooks(stack, stripe_api, payment["providerRef"])
    carried = await flow(stack)
    [success] = [e for e in carried if e.type == "payment.success"]
    late_failure = replace(success, id=str(uuid.uuid4()), type="payment.failed")

    await handle(stack, "orders", success)  # delivered again
    await handle(stack, "orders", late_failure)  # a failure reported after the payment
    await flow(stack)

    assert await order_status(stack, ada, order_id) == "PAID"
    assert await stock(stack, product.id) == (8, 0)
    assert await count(stack, "orders", NotificationRow) == 1


async def test_a_payment_that_succeeds_before_the_order_is_committed_is_applied_when_it_is(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product = await factories.product(stack, on_hand=10)
    ada = token("ada", email="ada@example.com")
    await fill_cart(stack, ada, {product.id: 1})
    payments = stack.transport.apps["payments.test"]

    class PaidAtOnce(httpx.AsyncBaseTransport):
        """Stripe's webhook, and payments' event, reach orders before checkout's last step."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response: httpx.Response = await payments.handle_async_request(request)
            await response.aread()
            opened = orjson.loads(response.content)
            await pay(stripe_api, opened["providerRef"])
            await deliver_webhooks(stack, stripe_api, opened["providerRef"])
            await flow(stack)
            return response

    stack.transport.apps["payments.test"] = PaidAtOnce()
    try:
        order = data(await check_out(stack, ada, "early"))["checkout"]
    finally:
        stack.transport.apps["payments.test"] = payments
    await flow(stack)

    assert order["status"] == "PAID"
    assert await stock(stack, product.id) == (9, 0)
    assert await count(stack, "orders", NotificationRow) == 1


async def test_an_owner_cancels_before_payment_and_an_admin_fulfils_after(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product, ada, unpaid = await ordered(stack, token)
    opened = await payment_of(stack, ada, unpaid)
    orders = stack.client("orders")

    stranger = await orders(CANCEL, {"id": unpaid}, token=token("mallory"))
    cancelled = data(await orders(CANCEL, {"id": unpaid}, token=ada))["cancelOrder"]
    again = await orders(CANCEL, {"id": unpaid}, token=ada)
    await flow(stack)

    assert error_codes(stranger) == ["FORBIDDEN"]
    assert cancelled == {"status": "CANCELLED"} and error_codes(again) == ["INVALID_STATUS"]
    assert await stock(stack, product.id) == (10, 0)
    assert (await intent(stripe_api, opened["providerRef"])).status == "canceled"

    _product, ada, paid = await ordered(stack, token)
    payment = await payment_of(stack, ada, paid)
    await pay(stripe_api, payment["providerRef"])
    await deliver_webhooks(stack, stripe_api, payment["providerRef"])
    await flow(stack)
    admin = token("root", scopes=("orders:admin",))

    by_shopper = await orders(FULFIL, {"id": paid}, token=ada)
    cancel_paid = await orders(CANCEL, {"id": paid}, token=ada)
    fulfilled = data(await orders(FULFIL, {"id": paid}, token=admin))["markFulfilled"]

    assert error_codes(by_shopper) == ["FORBIDDEN"] and error_codes(cancel_paid) == ["INVALID_STATUS"]
    assert fulfilled == {"status": "FULFILLED"}


async def test_an_order_unpaid_past_its_time_expires_and_gives_its_stock_back(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product, ada, order_id = await ordered(stack, token)
    opened = await payment_of(stack, ada, order_id)
    sessions = stack.runtime("orders").writer

    early = await expire_unpaid(sessions, now=utcnow() + timedelta(minutes=29))
    expired = await expire_unpaid(sessions, now=utcnow() + timedelta(minutes=31))
    await flow(stack)

    assert (early, expired) == (0, 1)
    assert await order_status(stack, ada, order_id) == "EXPIRED"
    assert await stock(stack, product.id) == (10, 0)
    assert (await intent(stripe_api, opened["providerRef"])).status == "canceled"


async def test_money_taken_at_the_last_moment_for_an_expired_order_goes_back(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product, ada, order_id = await ordered(stack, token)
    payment = await payment_of(stack, ada, order_id)
    await pay(stripe_api, payment["providerRef"])  # its webhook has not arrived yet

    await expire_unpaid(stack.runtime("orders").writer, now=utcnow() + timedelta(minutes=31))
    carried = await flow(stack)
    late = await deliver_webhooks(stack, stripe_api, payment["providerRef"])
    await flow(stack)

    assert await order_status(stack, ada, order_id) == "EXPIRED"
    assert await stock(stack, product.id) == (10, 0)
    assert (await payment_of(stack, ada, order_id))["refunded"] == {"amount": 2900}
    assert [e.type for e in carried if e.type.startswith("payment.")] == ["payment.success", "payment.refunded"]
    assert [answer.status_code for answer in late] == [200]
    async with stripe_client(stripe_api) as client:
        at_stripe = await client.v1.refunds.list_async(params={"payment_intent": payment["providerRef"]})
    assert [refund.amount for refund in at_stripe.data] == [2900]


async def test_without_a_webhook_payments_asks_stripe_and_the_order_is_paid(
    stack: Any, token: Any, stripe_api: str
) -> None:
    product, ada, order_id = await ordered(stack, token)
    payment = await payment_of(stack, ada, order_id)
    await pay(stripe_api, payment["providerRef"])  # and its webhook is lost
    payments = stack.runtime("payments")

    within_grace = await poll_unsettled(payments.writer, payments.settings)
    after_grace = await poll_unsettled(payments.writer, payments.settings, now=utcnow() + timedelta(minutes=2))
    await flow(stack)

    assert (within_grace, after_grace) == (0, 1)
    assert await order_status(stack, ada, order_id) == "PAID"
    assert await stock(stack, product.id) == (8, 0)


async def test_refunds_give_back_part_then_the_rest_and_never_more(stack: Any, token: Any, stripe_api: str) -> None:
    _product, ada, order_id = await ordered(stack, token)  # 2 x 14.50
    payment = await payment_of(stack, ada, order_id)
    refunds = stack.client("payments")
    refunder = token("support", scopes=("payments:refund",))
    unpaid = await refunds(REFUND, {"p": payment["id"], "a": 100}, token=refunder)
    await pay(stripe_api, payment["providerRef"])
    await deliver_webhooks(stack, stripe_api, payment["providerRef"])
    await flow(stack)

    shopper = await refunds(REFUND, {"p": payment["id"], "a": 100}, token=ada)
    part = data(await refunds(REFUND, {"p": payment["id"], "a": 1000, "k": "r1"}, token=refunder))["refundPayment"]
    resent = data(await refunds(REFUND, {"p": payment["id"], "a": 1000, "k": "r1"}, token=refunder))["refundPayment"]
    reused = await refunds(REFUND, {"p": payment["id"], "a": 500, "k": "r1"}, token=refunder)
    blank_key = await refunds(REFUND, {"p": payment["id"], "a": 100, "k": ""}, token=refunder)
    too_much = await refunds(REFUND, {"p": payment["id"], "a": 1901}, token=refunder)
    rest = data(await refunds(REFUND, {"p": payment["id"], "a": 1900}, token=refunder))["refundPayment"]
    beyond = await refunds(REFUND, {"p": payment["id"], "a": 1}, token=refunder)
    carried = await flow(stack)

    assert error_codes(unpaid) == ["INVALID_STATUS"] and error_codes(shopper) == ["FORBIDDEN"]
    assert part == {
        "status": "PARTIALLY_REFUNDED",
        "refunded": {"amount": 1000},
        "refunds": [{"amount": {"amount": 1000}}],
    }
    assert resent == part and error_codes(reused) == ["CONFLICT"]
    # An empty key is no key: refused, or every retry of it would refund again.
    assert error_codes(blank_key) == ["BAD_USER_INPUT"]
    assert error_codes(too_much) == ["REFUND_EXCEEDS_CAPTURED"]
    assert too_much["errors"][0]["extensions"]["refundable"] == 1900
    assert rest["status"] == "REFUNDED" and rest["refunded"] == {"amount": 2900}
    assert error_codes(beyond) == ["REFUND_EXCEEDS_CAPTURED"]
    assert [e.data["amount"]["amount"] for e in carried if e.type == "payment.refunded"] == [1000, 1900]
    async with stripe_client(stripe_api) as client:
        at_stripe = await client.v1.refunds.list_async(params={"payment_intent": payment["providerRef"]})
    assert sorted(refund.amount for refund in at_stripe.data) == [1000, 1900]


async def test_a_confirmation_waits_while_the_mail_server_is_down_and_goes_once_it_is_back(
    stack: Any, token: Any, stripe_api: str, mail_sink: tuple[int, Path]
) -> None:
    _product, ada, order_id = await ordered(stack, token)
    payment = await payment_of(stack, ada, order_id)
    await pay(stripe_api, payment["providerRef"])
    await deliver_webhooks(stack, stripe_api, payment["providerRef"])
    await flow(stack)
    orders = stack.runtime("orders")
    port, maildir = mail_sink
    down = orders.settings.model_copy(update={"smtp_port": free_port()})
    up = orders.settings.model_copy(update={"smtp_port": port})

    while_down = await notifications.send_queued(orders.writer, down)
    once_up = await notifications.send_queued(orders.writer, up)

    assert (while_down, once_up) == (0, 1)
    assert len(messages(maildir)) == 1
