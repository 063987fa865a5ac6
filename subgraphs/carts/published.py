"""The events the carts subgraph publishes, each added to the outbox in the transaction of the
change it reports (contracts under ``events/schemas/``)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.carts.tables import EVENTS, CartLineRow, CartRow

SHOPPER = "shopper"
PRODUCT_ARCHIVED = "product_archived"
ORDER_PAID = "order_paid"


async def cart_updated(session: AsyncSession, cart: CartRow, *, cause: str) -> None:
    """The whole cart as committed: a consumer needs no other event to know what is in it."""
    lines = await session.scalars(
        select(CartLineRow).where(CartLineRow.cart_id == cart.id).order_by(CartLineRow.added_at, CartLineRow.id)
    )
    data = {
        "cartId": cart.id,
        "userId": cart.user_id,
        "cause": cause,
        "lines": [{"lineId": line.id, "productId": line.product_id, "quantity": line.quantity} for line in lines],
    }
    await EVENTS.emit(session, "cart.updated", tenant=cart.tenant_id, aggregate_id=cart.id, data=data)
