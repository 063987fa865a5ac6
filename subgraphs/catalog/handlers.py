"""The events the catalog consumes (run by ``shopgraph worker catalog``). Each handler runs in
the transaction that records the event as handled, so its effect happens once."""

from sqlalchemy.ext.asyncio import AsyncSession

from events.consumer import Handler
from events.envelope import Event
from resolvers.db import increment
from subgraphs.catalog.tables import ProductOrderDayRow


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


HANDLERS: dict[str, Handler] = {"order.created": count_order}
