"""Driving a checkout through the in-process stack: a shopper fills a cart and checks out through
the subgraphs' own GraphQL, pays at the Stripe test server with the real SDK, Stripe's signed
webhooks reach the payments app, and events travel between the subgraphs' handlers as the
consumers would carry them (Kafka itself is covered by the event tests and the end-to-end run)."""

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import stripe
from sqlalchemy import select, update

from events.consumer import ConsumerRunner
from events.envelope import Event, decode
from events.settings import EventSettings
from resolvers.db import utcnow
from shopgraph.registry import SUBGRAPHS, event_store, handlers
from subgraphs.payments.settings import DEVELOPMENT_WEBHOOK_SECRET
from tests.support.graphql import data

ADD = "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { id } }"
CHECKOUT = """
mutation($input: CheckoutInput!) {
  checkout(input: $input) { id number status totals { total { amount currency } } }
}
"""
ORDER = "query($id: ID!) { order(id: $id) { id number status expiresAt totals { total { amount } } } }"
PAYMENT = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order { payment { id status attempt providerRef clientSecret amount { amount currency } refunded { amount } } }
  }
}
"""
ADDRESS = {"recipient": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"}


def checkout_input(key: str, **extra: Any) -> dict[str, Any]:
    return {"idempotencyKey": key, "shippingAddress": ADDRESS, "email": "ada@example.com", **extra}


async def fill_cart(stack: Any, token: str, quantities: dict[str, int]) -> None:
    carts = stack.client("carts")
    for product_id, quantity in quantities.items():
        data(await carts(ADD, {"p": product_id, "q": quantity}, token=token))


async def check_out(stack: Any, token: str, key: str, **extra: Any) -> dict[str, Any]:
    """The whole GraphQL response, so tests can read data and error codes alike."""
    body: dict[str, Any] = await stack.client("orders")(CHECKOUT, {"input": checkout_input(key, **extra)}, token=token)
    return body


async def payment_of(stack: Any, token: str, order_id: str) -> dict[str, Any]:
    body = await stack.client("payments")(PAYMENT, {"r": [{"__typename": "Order", "id": order_id}]}, token=token)
    payment: dict[str, Any] = data(body)["_entities"][0]["payment"]
    return payment


async def order_status(stack: Any, token: str, order_id: str) -> str:
    status: str = data(await stack.client("orders")(ORDER, {"id": order_id}, token=token))["order"]["status"]
    return status


@asynccontextmanager
async def stripe_client(stripe_api: str) -> AsyncIterator[stripe.StripeClient]:
    http = stripe.HTTPXClient()
    try:
        yield stripe.StripeClient(
            "sk_test_shopgraph", base_addresses={"api": stripe_api}, http_client=http, max_network_retries=0
        )
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


async def intent(stripe_api: str, intent_id: str) -> Any:
    async with stripe_client(stripe_api) as client:
        return await client.v1.payment_intents.retrieve_async(intent_id)


async def pay(stripe_api: str, intent_id: str, payment_method: str = "pm_card_visa") -> str:
    """What Stripe Elements does in the shopper's browser: attach a card and confirm. Returns
    the intent's status (a declined card answers with the decline)."""
    async with stripe_client(stripe_api) as client:
        await client.v1.payment_intents.update_async(intent_id, params={"payment_method": payment_method})
        try:
            confirmed = await client.v1.payment_intents.confirm_async(intent_id)
        except stripe.CardError:
            confirmed = await client.v1.payment_intents.retrieve_async(intent_id)
    return str(confirmed.status)


def signed(payload: bytes, *, secret: str = DEVELOPMENT_WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """The Stripe-Signature header Stripe sends with ``payload``."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}


async def stripe_events(stripe_api: str, intent_id: str) -> list[dict[str, Any]]:
    """The events the test server recorded about one intent, oldest first."""
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{stripe_api}/v1/events", params={"limit": 100}, auth=("sk_test_shopgraph", ""), timeout=10
        )
    found = [e for e in response.json()["data"] if e["data"]["object"].get("id") == intent_id]
    return sorted(found, key=lambda e: e["created"])


async def deliver_webhooks(stack: Any, stripe_api: str, intent_id: str) -> list[httpx.Response]:
    """Stripe's webhook deliveries for one intent, signed as Stripe signs them, to the payments
    app (the end-to-end run receives them from the test server itself)."""
    http = stack.client("payments").http
    answers = []
    for event in await stripe_events(stripe_api, intent_id):
        payload = orjson.dumps(event)
        answers.append(await http.post("/webhooks/stripe", content=payload, headers=signed(payload)))
    return answers


async def flow(stack: Any) -> list[Event]:
    """Carries every event waiting in an outbox to the subgraphs consuming it, each handled with
    its inbox row as the consumer runner does, until none is left; returns what it carried."""
    carried: list[Event] = []
    while True:
        batch: list[Event] = []
        for name in SUBGRAPHS:
            outbox = event_store(name).outbox
            async with stack.runtime(name).writer.begin() as session:
                rows = (
                    await session.execute(
                        select(outbox.c.payload).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.seq)
                    )
                ).all()
                await session.execute(update(outbox).where(outbox.c.sent_at.is_(None)).values(sent_at=utcnow()))
            batch.extend(decode(row.payload.encode()) for row in rows)
        if not batch:
            return carried
        for event in batch:
            for name in SUBGRAPHS:
                if event.topic in handlers(name, stack.runtime(name).settings):
                    await handle(stack, name, event)
        carried.extend(batch)


async def handle(stack: Any, name: str, event: Event) -> None:
    """One subgraph consumes one event, in one transaction with its inbox row."""
    runtime = stack.runtime(name)
    consumed = handlers(name, runtime.settings)
    runner = ConsumerRunner(event_store(name), runtime.engine, EventSettings(), consumed)
    await runner.apply(event, consumed[event.topic])
