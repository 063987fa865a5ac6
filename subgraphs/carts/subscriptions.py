"""``cartEvents``: the caller's own cart as it changes, so a storefront open in two tabs (or a
cart emptied by a paid order) shows the same lines everywhere."""

from collections.abc import AsyncIterator
from typing import Self

import strawberry

from events.envelope import Event
from events.feed import Item
from resolvers import scopes
from resolvers.live import Stream
from resolvers.permissions import requires_scopes
from resolvers.subscriptions import LiveEvent, subscribe
from subgraphs.carts.types import Cart, Info

CART_EVENTS = Stream("carts", frozenset({"cart.updated"}))


@strawberry.type(description="The caller's cart changed.")
class CartEvent(LiveEvent):
    cause: str = strawberry.field(description="What changed it: shopper, order_paid or product_archived.")
    user_id: strawberry.Private[str]

    @strawberry.field(description="The open cart as it stands now; null once it was checked out and emptied.")
    async def cart(self, info: Info) -> Cart | None:
        row = await info.context.loaders.open_cart.load(self.user_id)
        return None if row is None else Cart.from_row(row)

    @classmethod
    def of(cls, item: Item, cursor: str) -> Self:
        event = item.event
        return cls(cursor=cursor, at=event.time, cause=event.data["cause"], user_id=event.data["userId"])


@strawberry.type
class Subscription:
    @requires_scopes(
        scopes.CARTS_WRITE,
        is_subscription=True,
        description="The caller's own cart as it changes, from now or `after` a cursor.",
    )
    async def cart_events(self, info: Info, after: str | None = None) -> AsyncIterator[CartEvent]:
        subject = info.context.require_subject()

        def accepts(event: Event) -> bool:
            owner: str = event.data["userId"]
            return owner == subject

        return await subscribe(info, CART_EVENTS, accepts, after, CartEvent.of)
