"""Order rules. Functions take a keyword-only ``session`` and never commit.

``place_order`` is how an order comes to exist; checkout will call it with re-priced lines.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.errors import BadUserInput
from resolvers.money import check_currency
from subgraphs.orders import published
from subgraphs.orders.tables import OrderLineRow, OrderRow, OrderStatus


@dataclass(frozen=True, slots=True)
class LineDraft:
    product_id: str
    sku: str
    name: str
    unit_price_amount: int
    quantity: int


def order_number() -> str:
    """Short enough to read out on the phone; the unique index catches the rare clash."""
    return f"SG-{secrets.token_hex(4).upper()}"


async def place_order(
    tenant: str,
    user_id: str,
    lines: Sequence[LineDraft],
    *,
    currency: str,
    shipping_address: dict[str, str | None],
    shipping_amount: int = 0,
    tax_amount: int = 0,
    status: OrderStatus = OrderStatus.PENDING_PAYMENT,
    session: AsyncSession,
) -> OrderRow:
    if not lines:
        raise BadUserInput("An order needs at least one line.")
    subtotal = sum(line.unit_price_amount * line.quantity for line in lines)
    order = OrderRow(
        tenant_id=tenant,
        user_id=user_id,
        number=order_number(),
        status=status,
        currency=check_currency(currency),
        subtotal_amount=subtotal,
        shipping_amount=shipping_amount,
        tax_amount=tax_amount,
        total_amount=subtotal + shipping_amount + tax_amount,
        shipping_address=shipping_address,
    )
    session.add(order)
    await session.flush()
    rows = [
        OrderLineRow(
            order_id=order.id,
            tenant_id=tenant,
            position=position,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            unit_price_amount=line.unit_price_amount,
            quantity=line.quantity,
        )
        for position, line in enumerate(lines)
    ]
    session.add_all(rows)
    await session.flush()
    await published.order_created(session, order, rows)
    return order
