"""What checkout asks the other services, over their internal endpoints (credentials,
timeouts, retries and breakers in ``resolvers.service_client``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from resolvers.money import Money
from resolvers.runtime import Runtime, service_client
from resolvers.service_client import ServiceClient
from subgraphs.orders.settings import OrdersSettings


@dataclass(frozen=True, slots=True)
class ProductFacts:
    id: str
    sku: str
    name: str
    active: bool
    price: Money
    available: int


class CheckoutClients:
    def __init__(self, carts: ServiceClient, catalog: ServiceClient, payments: ServiceClient) -> None:
        self._carts = carts
        self._catalog = catalog
        self._payments = payments

    @classmethod
    def of(cls, runtime: Runtime) -> "CheckoutClients":
        settings = runtime.settings
        assert isinstance(settings, OrdersSettings)
        return cls(
            service_client(runtime, "carts", settings.carts_url),
            service_client(runtime, "catalog", settings.catalog_url),
            service_client(runtime, "payments", settings.payments_url),
        )

    async def cart(self, tenant: str, user_id: str) -> dict[str, int]:
        """The open cart's quantities by product id."""
        body = await self._carts.call("GET", f"/internal/v1/users/{user_id}/cart", tenant=tenant)
        return {line["productId"]: line["quantity"] for line in body["lines"]}

    async def products(self, tenant: str, ids: list[str]) -> dict[str, ProductFacts]:
        body = await self._catalog.call("GET", "/internal/v1/products", tenant=tenant, params={"ids": ids})
        return {
            item["id"]: ProductFacts(
                id=item["id"],
                sku=item["sku"],
                name=item["name"],
                active=item["active"],
                price=Money.of(item["price"]["amount"], item["price"]["currency"]),
                available=item["available"],
            )
            for item in body["products"]
        }

    async def reserve(
        self, tenant: str, reservation_id: str, *, order_id: str, quantities: Mapping[str, int], expires_at: datetime
    ) -> dict[str, Money]:
        """Holds the stock; the unit price of each product as the catalog held it."""
        body = await self._catalog.call(
            "PUT",
            f"/internal/v1/reservations/{reservation_id}",
            tenant=tenant,
            json={
                "orderId": order_id,
                "lines": [{"productId": p, "quantity": q} for p, q in quantities.items()],
                "expiresAt": expires_at.isoformat(),
            },
        )
        return {
            line["productId"]: Money.of(line["unitPrice"]["amount"], line["unitPrice"]["currency"])
            for line in body["lines"]
        }

    async def release(self, tenant: str, reservation_id: str, *, order_id: str) -> None:
        await self._catalog.call(
            "POST", f"/internal/v1/reservations/{reservation_id}/release", tenant=tenant, json={"orderId": order_id}
        )

    async def open_payment(self, tenant: str, *, order_id: str, attempt: int, user_id: str, total: Money) -> None:
        """Opens the attempt's PaymentIntent; its client secret reaches the shopper through
        ``Order.payment``."""
        await self._payments.call(
            "PUT",
            f"/internal/v1/orders/{order_id}/payments/{attempt}",
            tenant=tenant,
            json={"userId": user_id, "amount": {"amount": total.amount, "currency": total.currency}},
        )

    async def void_payment(self, tenant: str, *, order_id: str, attempt: int) -> None:
        await self._payments.call("POST", f"/internal/v1/orders/{order_id}/payments/{attempt}/void", tenant=tenant)
