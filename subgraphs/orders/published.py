"""The events the orders subgraph publishes, each added to the outbox in the transaction of the
change it reports (contracts under ``events/schemas/``)."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.orders.tables import EVENTS, OrderLineRow, OrderRow


async def order_created(session: AsyncSession, order: OrderRow, lines: Sequence[OrderLineRow]) -> None:
    def money(amount: int) -> dict[str, object]:
        return {"amount": amount, "currency": order.currency}

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
                "unitPrice": money(line.unit_price_amount),
            }
            for line in lines
        ],
        "subtotal": money(order.subtotal_amount),
        "shipping": money(order.shipping_amount),
        "tax": money(order.tax_amount),
        "total": money(order.total_amount),
    }
    await EVENTS.emit(session, "order.created", tenant=order.tenant_id, aggregate_id=order.id, data=data)
