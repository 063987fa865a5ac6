"""The events the orders subgraph publishes, each added to the outbox in the transaction of the
change it reports (contracts under ``events/schemas/``)."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.orders.tables import EVENTS, OrderLineRow, OrderRow


def reservation_id(order_id: str, attempt: int) -> str:
    """The catalog reservation of an order's payment attempt, named the same by everyone."""
    return f"{order_id}-{attempt}"


def _money(order: OrderRow, amount: int) -> dict[str, object]:
    return {"amount": amount, "currency": order.currency}


async def order_created(session: AsyncSession, order: OrderRow, lines: Sequence[OrderLineRow]) -> None:
    data = {
        "orderId": order.id,
        "number": order.number,
        "customerId": order.user_id,
        "status": order.status,
        "lines": [
            {
                "productId": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unitPrice": _money(order, line.unit_price_amount),
            }
            for line in lines
        ],
        "subtotal": _money(order, order.subtotal_amount),
        "shipping": _money(order, order.shipping_amount),
        "tax": _money(order, order.tax_amount),
        "total": _money(order, order.total_amount),
    }
    await EVENTS.emit(session, "order.created", tenant=order.tenant_id, aggregate_id=order.id, data=data)


async def status_changed(
    session: AsyncSession, order: OrderRow, lines: Sequence[OrderLineRow], *, before: str, reason: str | None
) -> None:
    data = {
        "orderId": order.id,
        "number": order.number,
        "customerId": order.user_id,
        "from": before,
        "to": order.status,
        "attempt": order.attempt,
        "reservationId": reservation_id(order.id, order.attempt),
        "lines": [{"productId": line.product_id, "quantity": line.quantity} for line in lines],
        "total": _money(order, order.total_amount),
    } | ({"reason": reason} if reason else {})
    await EVENTS.emit(session, "order.status_changed", tenant=order.tenant_id, aggregate_id=order.id, data=data)
