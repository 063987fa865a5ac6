"""Small factories writing through each subgraph's own services, as its mutations do."""

import itertools
from collections.abc import Sequence
from typing import Any

from subgraphs.catalog import services as catalog
from subgraphs.catalog.tables import ProductRow
from subgraphs.orders import services as orders
from subgraphs.orders.tables import OrderRow, OrderStatus
from subgraphs.payments import services as payments
from subgraphs.payments.tables import PaymentRow, PaymentStatus
from tests.support.graphql import TENANT

_serial = itertools.count(1)

ADDRESS = {
    "recipient": "Ada",
    "line1": "1 Main St",
    "line2": None,
    "city": "Springfield",
    "region": None,
    "postal_code": "12345",
    "country": "US",
}


async def category(stack: Any, name: str, *, tenant: str = TENANT) -> str:
    async with stack.runtime("catalog").writer.begin() as session:
        row = await catalog.create_category(tenant, slug=f"c-{next(_serial)}", name=name, session=session)
    return row.id


async def product(
    stack: Any,
    *,
    tenant: str = TENANT,
    price: int = 1000,
    on_hand: int = 10,
    name: str | None = None,
    category_id: str | None = None,
) -> ProductRow:
    n = next(_serial)
    async with stack.runtime("catalog").writer.begin() as session:
        row = await catalog.create_product(
            tenant,
            catalog.ProductDraft(
                sku=f"SKU-{n}",
                name=name or f"Product {n}",
                description="",
                price_amount=price,
                currency="USD",
                category_id=category_id,
            ),
            session=session,
        )
        await catalog.set_stock(tenant, row.id, on_hand, session=session)
    return row


async def order(
    stack: Any,
    user_id: str,
    *,
    tenant: str = TENANT,
    lines: int = 2,
    status: OrderStatus = OrderStatus.PENDING_PAYMENT,
    product_ids: Sequence[str] = (),
) -> OrderRow:
    """An order of ``lines`` lines; of the given products, else of made-up ones."""
    ids = list(product_ids) or [f"00000000-0000-4000-8000-{next(_serial):012d}" for _ in range(lines)]
    drafts = [
        orders.LineDraft(
            product_id=ids[i],
            sku=f"SKU-{i}",
            name=f"Thing {i}",
            unit_price_amount=500 + i,
            quantity=i + 1,
        )
        for i in range(len(ids))
    ]
    async with stack.runtime("orders").writer.begin() as session:
        return await orders.place_order(
            tenant, user_id, drafts, currency="USD", shipping_address=ADDRESS, status=status, session=session
        )


async def payment(stack: Any, placed: OrderRow, *, status: PaymentStatus = PaymentStatus.SUCCEEDED) -> PaymentRow:
    async with stack.runtime("payments").writer.begin() as session:
        return await payments.record_payment(
            placed.tenant_id,
            order_id=placed.id,
            user_id=placed.user_id,
            provider_ref=f"pi_test_{next(_serial)}",
            amount=placed.total_amount,
            currency=placed.currency,
            status=status,
            client_secret=f"pi_secret_{next(_serial)}",
            session=session,
        )
