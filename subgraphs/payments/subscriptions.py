"""``paymentEvents``: payments succeeding, failing and refunded, for the payer or the store's admins."""

from collections.abc import AsyncIterator
from enum import Enum
from typing import Self

import strawberry

from events.envelope import Event
from events.feed import Item
from resolvers.live import Stream
from resolvers.permissions import requires_any_scope
from resolvers.subscriptions import LiveEvent, subscribe
from subgraphs.payments.types import ADMIN_SCOPE, READER_SCOPE, Info, Payment

PAYMENT_EVENTS = Stream("payments", frozenset({"payment.success", "payment.failed", "payment.refunded"}))


@strawberry.enum(description="What happened to the payment.")
class PaymentEventType(Enum):
    SUCCEEDED = "payment.success"
    FAILED = "payment.failed"
    REFUNDED = "payment.refunded"


@strawberry.type(description="A payment captured, declined or (partly) refunded.")
class PaymentEvent(LiveEvent):
    type: PaymentEventType
    payment_id: strawberry.ID
    order_id: strawberry.ID

    @strawberry.field(description="The payment as it stands now.")
    async def payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.payment.load(self.payment_id)
        return None if row is None else Payment.from_row(row)

    @classmethod
    def of(cls, item: Item, cursor: str) -> Self:
        event, data = item.event, item.event.data
        return cls(
            cursor=cursor,
            type=PaymentEventType(event.type),
            at=event.time,
            payment_id=strawberry.ID(data["paymentId"]),
            order_id=strawberry.ID(data["orderId"]),
        )


@strawberry.type
class Subscription:
    @requires_any_scope(
        READER_SCOPE,
        ADMIN_SCOPE,
        is_subscription=True,
        description="Payments as they succeed, fail and are refunded, from now or `after` a cursor: the caller's "
        "own, or with orders:admin the store's. `orderId` follows one order's.",
    )
    async def payment_events(
        self, info: Info, order_id: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncIterator[PaymentEvent]:
        caller = info.context.caller

        def accepts(event: Event) -> bool:
            data = event.data
            # A refund published before events named the payer reaches the store's admins only.
            payer = data.get("customerId")
            allowed = caller.has_scope(ADMIN_SCOPE) or (payer is not None and payer == caller.subject)
            return allowed and (order_id is None or data["orderId"] == order_id)

        return await subscribe(info, PAYMENT_EVENTS, accepts, after, PaymentEvent.of)
