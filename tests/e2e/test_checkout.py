"""A checkout through the router between real processes, as `make run` starts them: the shopper
signs in with PKCE, checks out, pays at the Stripe test server with the real SDK, Stripe's
signed webhook reaches payments, and the order, the stock, the cart and the mail agree."""

from contextlib import suppress
from typing import Any

import pytest
import stripe

from devstack.smtp import messages
from shopgraph.system import System
from tests.e2e.conftest import ask, mint, sign_in, until

pytestmark = pytest.mark.e2e

TENANT = {"X-Tenant-Id": "demo"}
SHOPPER_SCOPES = "openid email profile users:read carts:write orders:read orders:write payments:read"
CHECKOUT = """
mutation($input: CheckoutInput!) {
  checkout(input: $input) { id number status payment { providerRef clientSecret } }
}
"""
ORDER = "query($id: ID!) { order(id: $id) { status payment { status attempt providerRef } } }"
STOCK = "query($id: ID!) { product(id: $id) { stock { onHand reserved } } }"
CART = "{ me { cart { itemCount subtotal { amount currency } } } }"
ADDRESS = {
    "recipient": "Dana Demo",
    "line1": "1 Market Street",
    "city": "San Francisco",
    "postalCode": "94105",
    "country": "US",
}


def pay(system: System, intent_id: str, payment_method: str) -> None:
    """Stripe Elements' part, in the shopper's browser: attach a card and confirm."""
    client = stripe.StripeClient(
        "sk_test_shopgraph", base_addresses={"api": system.config.stripe_url}, max_network_retries=0
    )
    client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
    with suppress(stripe.CardError):  # declined: Stripe tells payments by webhook too
        client.v1.payment_intents.confirm(intent_id)


def new_product(system: System, sku: str, *, on_hand: int) -> tuple[str, str]:
    admin = mint(system, "e2e-admin", scopes=("catalog:write", "inventory:write"))
    created = ask(
        system.config.router_url,
        'mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Checkout mug", '
        'price: {amount: 1450, currency: "USD"}}) { id } }',
        admin,
        variables={"sku": sku},
        headers=TENANT,
    )
    product = created["data"]["createProduct"]["id"]
    ask(
        system.config.router_url,
        "mutation($p: ID!, $n: Int!) { setStock(productId: $p, onHand: $n) { id } }",
        admin,
        variables={"p": product, "n": on_hand},
        headers=TENANT,
    )
    return product, admin


async def test_a_signed_in_shopper_checks_out_pays_and_receives_one_confirmation(system: System) -> None:
    router = system.config.router_url
    product, admin = new_product(system, "E2E-CHECKOUT", on_hand=10)
    # The admin account, asking for a shopper's scopes only: the demo shopper's cart belongs to
    # the other tests.
    token = (await sign_in(system, "admin", "admin", SHOPPER_SCOPES))["access_token"]
    ask(router, "mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { id } }", token, variables={"p": product})
    shown = ask(router, CART, token)["data"]["me"]["cart"]["subtotal"]

    placed = ask(
        router,
        CHECKOUT,
        token,
        variables={"input": {"idempotencyKey": "e2e-happy", "shippingAddress": ADDRESS, "expectedTotal": shown}},
    )["data"]["checkout"]
    assert placed["status"] == "PENDING_PAYMENT"
    assert placed["payment"]["clientSecret"].startswith(placed["payment"]["providerRef"])
    assert ask(router, STOCK, admin, variables={"id": product})["data"]["product"]["stock"] == {
        "onHand": 10,
        "reserved": 2,
    }

    pay(system, placed["payment"]["providerRef"], "pm_card_visa")

    def order() -> Any:
        return ask(router, ORDER, token, variables={"id": placed["id"]})["data"]["order"]

    assert until(order, lambda found: found["status"] == "PAID")["payment"]["status"] == "SUCCEEDED"
    cart = until(lambda: ask(router, CART, token)["data"]["me"]["cart"], lambda found: found["itemCount"] == 0)
    assert cart["itemCount"] == 0
    stock = until(
        lambda: ask(router, STOCK, admin, variables={"id": product})["data"]["product"]["stock"],
        lambda found: found["reserved"] == 0,
    )
    assert stock == {"onHand": 8, "reserved": 0}
    mail = until(lambda: messages(system.config.maildir), lambda found: len(found) >= 1)
    assert [m["To"] for m in mail] == ["admin@example.com"]
    assert placed["number"] in mail[0]["Subject"]


def test_a_declined_card_fails_the_order_and_a_retry_pays_it(system: System) -> None:
    router = system.config.router_url
    product, admin = new_product(system, "E2E-DECLINED", on_hand=3)
    shopper = mint(system, "e2e-declined")
    ask(
        router,
        "mutation($p: ID!) { addToCart(productId: $p, quantity: 1) { id } }",
        shopper,
        variables={"p": product},
        headers=TENANT,
    )
    placed = ask(
        router,
        CHECKOUT,
        shopper,
        variables={"input": {"idempotencyKey": "declined", "shippingAddress": ADDRESS, "email": "d@example.com"}},
        headers=TENANT,
    )["data"]["checkout"]

    pay(system, placed["payment"]["providerRef"], "pm_card_chargeCustomerFail")

    def order() -> Any:
        return ask(router, ORDER, shopper, variables={"id": placed["id"]}, headers=TENANT)["data"]["order"]

    assert until(order, lambda found: found["status"] == "PAYMENT_FAILED")["status"] == "PAYMENT_FAILED"
    released = until(
        lambda: ask(router, STOCK, admin, variables={"id": product}, headers=TENANT)["data"]["product"]["stock"],
        lambda found: found["reserved"] == 0,
    )
    assert released == {"onHand": 3, "reserved": 0}

    retried = ask(
        router,
        "mutation($id: ID!) { retryPayment(orderId: $id) { status payment { providerRef attempt } } }",
        shopper,
        variables={"id": placed["id"]},
        headers=TENANT,
    )
    again = retried["data"]["retryPayment"]
    assert again["status"] == "PENDING_PAYMENT" and again["payment"]["attempt"] == 2
    pay(system, again["payment"]["providerRef"], "pm_card_visa")

    assert until(order, lambda found: found["status"] == "PAID")["status"] == "PAID"
