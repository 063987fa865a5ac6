"""The events the carts subgraph consumes (run by ``shopgraph worker carts``). Each handler runs
in the transaction that records the event as handled, so its effect happens once."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from events.consumer import Handler
from events.envelope import Event
from subgraphs.carts import services

log = structlog.get_logger(__name__)


async def drop_archived_product(event: Event, session: AsyncSession) -> None:
    """``product.archived``: an archived product can no longer be bought, so it leaves every
    open cart (each change publishes ``cart.updated``); checked-out carts keep their lines."""
    changed = await services.drop_product(event.tenant, event.data["productId"], session=session)
    log.info("archived product left carts", product_id=event.data["productId"], carts=changed)


async def take_out_paid_order(event: Event, session: AsyncSession) -> None:
    """``order.status_changed`` to PAID: what the shopper bought leaves their open cart."""
    data = event.data
    if data["to"] != "PAID":
        return
    ordered = {line["productId"]: line["quantity"] for line in data["lines"]}
    if await services.take_out_ordered(event.tenant, data["customerId"], ordered, session=session):
        log.info("paid order left the cart", order_id=data["orderId"])


HANDLERS: dict[str, Handler] = {
    "product.archived": drop_archived_product,
    "order.status_changed": take_out_paid_order,
}
