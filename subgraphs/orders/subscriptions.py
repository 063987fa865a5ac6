"""``orderEvents``: an order's moves as they happen, for its shopper or the store's admins."""

from collections.abc import AsyncIterator
from enum import Enum
from typing import Self

import strawberry

from events.envelope import Event
from events.feed import Item
from resolvers.live import Stream
from resolvers.permissions import requires_any_scope
from resolvers.subscriptions import LiveEvent, subscribe
from subgraphs.orders.tables import OrderStatus
from subgraphs.orders.types import ADMIN_SCOPE, READER_SCOPE, Info, Order

ORDER_EVENTS = Stream("orders", frozenset({"order.created", "order.status_changed"}))


@strawberry.enum(description="What happened to the order.")
class OrderEventType(Enum):
    CREATED = "order.created"
    STATUS_CHANGED = "order.status_changed"


@strawberry.type(description="An order placed or moved from one status to another.")
class OrderEvent(LiveEvent):
    type: OrderEventType
    from_: OrderStatus | None = strawberry.field(name="from", description="None when the order was just placed.")
    to: OrderStatus
    order_id: strawberry.ID

    @strawberry.field(description="The order as it stands now.")
    async def order(self, info: Info) -> Order | None:
        row = await info.context.loaders.order.load(self.order_id)
        return None if row is None else Order.from_row(row)

    @classmethod
    def of(cls, item: Item, cursor: str) -> Self:
        event, data = item.event, item.event.data
        created = event.type == "order.created"
        return cls(
            cursor=cursor,
            type=OrderEventType(event.type),
            from_=None if created else OrderStatus(data["from"]),
            to=OrderStatus(data["status"] if created else data["to"]),
            at=event.time,
            order_id=strawberry.ID(data["orderId"]),
        )


@strawberry.type
class Subscription:
    @requires_any_scope(
        READER_SCOPE,
        ADMIN_SCOPE,
        is_subscription=True,
        description="Orders as they are placed and move, from now or `after` a cursor: the caller's own, or "
        "with orders:admin the store's. `orderId` follows one.",
    )
    async def order_events(
        self, info: Info, order_id: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncIterator[OrderEvent]:
        caller = info.context.caller

        def accepts(event: Event) -> bool:
            data = event.data
            wanted = order_id is None or data["orderId"] == order_id
            return wanted and caller.owns_or_holds(data["customerId"], ADMIN_SCOPE)

        return await subscribe(info, ORDER_EVENTS, accepts, after, OrderEvent.of)
