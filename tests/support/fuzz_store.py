"""A small store of its own for the fuzzer to aim at: a category, a product in stock, an address,
a cart holding the product and an order awaiting payment, made through the router as a client
would. Random ids only ever reach "not found"; these ids let generated operations reach the code
behind the lookup. Nothing here is paid, so no mail is sent that other tests could count."""

from dataclasses import dataclass
from typing import Any

import httpx

SETUP = """
mutation Setup {
  createCategory(input: {slug: "fuzz", name: "Fuzz"}) { id }
  addAddress(input: {recipient: "Fuzz", line1: "1 Fuzz Way", city: "Fuzzton", postalCode: "10001", country: "US"}) { id }
}
"""
PRODUCT = """
mutation Product($category: ID!) {
  createProduct(input: {sku: "FUZZ-1", name: "Fuzz mug", price: {amount: 1250, currency: "USD"}, categoryId: $category}) { id }
}
"""
STOCK_AND_CART = """
mutation Cart($product: ID!) {
  setStock(productId: $product, onHand: 1000) { id }
  addToCart(productId: $product, quantity: 2) { id lines { id } subtotal { amount currency } }
}
"""
CHECKOUT = """
mutation Checkout($total: MoneyInput!) {
  checkout(input: {idempotencyKey: "fuzz-seed", expectedTotal: $total, email: "fuzz@example.com",
    shippingAddress: {recipient: "Fuzz", line1: "1 Fuzz Way", city: "Fuzzton", postalCode: "10001", country: "US"}}) {
    id payment { id }
  }
}
"""


@dataclass(frozen=True, slots=True)
class FuzzStore:
    user: str
    ids: tuple[str, ...]
    """Every object the store holds, whatever its type: the fuzzer tries each id anywhere."""

    @property
    def strings(self) -> list[str]:
        """What the fuzzer puts in string arguments now and then, besides its own strings: the
        ids, and values that pass or barely fail the first checks (the caller's id, a currency,
        a country and a code that is none, the seed's checkout key)."""
        return [*self.ids, self.user, "USD", "US", "ZZ", "fuzz-seed"]


def seed(router_url: str, token: str, *, tenant: str, user: str) -> FuzzStore:
    """The store, made by ``user`` (whose ``token`` must hold every scope) in ``tenant``."""
    with httpx.Client(headers={"Authorization": f"Bearer {token}", "X-Tenant-Id": tenant}, timeout=30) as http:

        def ask(query: str, **variables: Any) -> dict[str, Any]:
            body: dict[str, Any] = http.post(router_url, json={"query": query, "variables": variables}).json()
            assert "errors" not in body, body["errors"]
            found: dict[str, Any] = body["data"]
            return found

        setup = ask(SETUP)
        category, address = setup["createCategory"]["id"], setup["addAddress"]["id"]
        product = ask(PRODUCT, category=category)["createProduct"]["id"]
        cart = ask(STOCK_AND_CART, product=product)["addToCart"]
        order = ask(CHECKOUT, total=cart["subtotal"])["checkout"]
    ids = (category, address, product, cart["id"], cart["lines"][0]["id"], order["id"], order["payment"]["id"])
    return FuzzStore(user=user, ids=ids)
