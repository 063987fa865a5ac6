"""The events the catalog consumes (run by ``shopgraph worker catalog``). Each handler runs in
the transaction that records the event as handled, so its effect happens once."""

from sqlalchemy.ext.asyncio import AsyncSession

from events.consumer import Handler, PoisonEvent
from events.envelope import Event
from resolvers.db import increment
from resolvers.errors import ShopgraphError
from subgraphs.catalog import reservations
from subgraphs.catalog.tables import ProductOrderDayRow

# The order statuses that end a payment attempt without a sale: its stock goes back.
RELEASING = frozenset({"PAYMENT_FAILED", "CANCELLED", "EXPIRED"})


async def count_order(event: Event, session: AsyncSession) -> None:
    """``order.created``: one more order on the order's day for each product it holds (a
    product on two lines of one order is still one order)."""
    day = event.time.date()
    for product_id in sorted({line["productId"] for line in event.data["lines"]}):
        await increment(
            session,
            ProductOrderDayRow,
            {"tenant_id": event.tenant, "product_id": product_id, "day": day},
            unique=("tenant_id", "product_id", "day"),
            column="orders",
        )


async def settle_reservation(event: Event, session: AsyncSession) -> None:
    """``order.status_changed``: a paid order's reservation becomes a sale; a failed,
    cancelled or expired one's stock goes back on the shelf."""
    data = event.data
    try:
        if data["to"] == "PAID":
            await reservations.commit(event.tenant, data["reservationId"], session=session)
        elif data["to"] in RELEASING:
            await reservations.release(event.tenant, data["reservationId"], order_id=data["orderId"], session=session)
    except ShopgraphError as exc:
        # A paid order whose stock is gone, or a release of a sale: no retry changes that; a
        # person decides (the dead-letter topic holds the event and the reason).
        raise PoisonEvent(f"{exc.code}: {exc.message}") from exc


HANDLERS: dict[str, Handler] = {"order.created": count_order, "order.status_changed": settle_reservation}
